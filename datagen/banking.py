"""Banks and account numbers: IBANs with valid ISO 7064 MOD 97-10 check digits."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

_DIGITS = string.digits
_LETTERS = string.ascii_uppercase
_ALNUM = _DIGITS + _LETTERS


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits of an IBAN (ISO 13616, ISO 7064 MOD 97-10)."""
    rearranged = bban + country + "00"
    number = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(number) % 97:02d}"


def iban_valid(iban: str) -> bool:
    """Whether an IBAN's check digits are right (letters and digits only, no spaces)."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def fill_pattern(rng: random.Random, pattern: str) -> str:
    """A string following a BBAN pattern: a = letter, n = digit, c = letter or digit."""
    pools = {"a": _LETTERS, "n": _DIGITS, "c": _ALNUM}
    return "".join(rng.choice(pools[p]) for p in pattern)


@dataclass(eq=False, slots=True)
class Bank:
    """A bank: home-country banks are the FIU's reporting entities."""

    name: str
    country: str
    swift: str
    code: str  # the bank part of a BBAN (letters for GB/NL/IE, digits elsewhere)
    rentity_id: str | None = None  # goAML reporting-entity id, home banks only
    branches: tuple[str, ...] = ()


@dataclass(eq=False, slots=True)
class Account:
    """A bank account; ``holder_id`` is the entity id of the company or person holding it."""

    bank: Bank
    number: str
    iban: str | None
    currency: str
    holder_id: str

    @property
    def ident(self) -> str:
        return self.iban or self.number


def make_account(
    rng: random.Random, bank: Bank, bban_pattern: str | None, currency: str, holder_id: str
) -> Account:
    """A new account at ``bank``: an IBAN where the country has them, a plain number otherwise."""
    if bban_pattern is None:
        number = fill_pattern(rng, "n" * rng.choice((9, 10, 12)))
        return Account(bank, number, None, currency, holder_id)
    code = bank.code
    rest = fill_pattern(rng, bban_pattern[len(code) :])
    bban = code + rest
    iban = bank.country + iban_check_digits(bank.country, bban) + bban
    return Account(bank, rest[-8:] if len(rest) >= 8 else rest, iban, currency, holder_id)


def bank_code(rng: random.Random, bban_pattern: str | None, name: str) -> str:
    """The leading bank identifier of a BBAN: four letters from the name, or digits."""
    if bban_pattern is None:
        return ""
    head = bban_pattern[:4]
    if head == "aaaa":
        letters = "".join(c for c in name.upper() if c.isalpha())
        return (letters[:4] + "XXXX")[:4]
    return fill_pattern(rng, head)


def swift_code(rng: random.Random, name: str, country: str) -> str:
    """An 8-character BIC: bank, country, location."""
    letters = "".join(c for c in name.upper() if c.isalpha())
    return (letters[:4] + "XXXX")[:4] + country + fill_pattern(rng, "aa")
