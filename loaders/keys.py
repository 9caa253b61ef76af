"""Node keys for what loaders observe.

Parties are keyed per agency (``company:customs:tax:GB123``): a source record stays a source
record, and entity resolution links them across agencies later. Within one agency the same
strong identifier is the same party. Shared values (address, account, phone, e-mail, country,
commodity) are keyed by their normalised value with no agency, so they are the pivots that
connect agencies before any resolution runs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from graph_models.schema import SCHEMA, Label

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ID_JUNK = re.compile(r"[\s.\-/]+")


# Cached: the same trader, address and bank names come back in row after row of a file (every
# customs row names five parties), and decomposing a name character by character in Python
# was the largest single cost of building a row's keys. ASCII needs no decomposition at all.
@lru_cache(maxsize=1 << 16)
def norm_text(text: str) -> str:
    """Casefolded ASCII words: accents stripped, punctuation turned into single spaces."""
    if text.isascii():
        ascii_text = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", ascii_text.casefold()).strip()


def norm_id(value: str) -> str:
    """An identifier without spaces, dots, dashes or slashes, upper-cased."""
    return _ID_JUNK.sub("", value).upper()


def record_key(label: Label, *parts: str) -> str:
    """A key from raw parts: ``:`` inside a part becomes a space, an empty part ``-``."""
    return SCHEMA.make_key(label, *(p.replace(":", " ") if p else "-" for p in parts))


_key = record_key


def company_key(
    agency: str,
    *,
    name: str,
    tax_id: str | None = None,
    registration_number: str | None = None,
    country: str | None = None,
) -> str:
    if tax_id:
        return _key(Label.COMPANY, agency, "tax", norm_id(tax_id))
    if registration_number:
        return _key(Label.COMPANY, agency, "reg", country or "-", norm_id(registration_number))
    return _key(Label.COMPANY, agency, "name", country or "-", norm_text(name) or "-")


def person_key(
    agency: str,
    *,
    name: str,
    id_number: str | None = None,
    birth_date: str | None = None,
) -> str:
    if id_number:
        return _key(Label.PERSON, agency, "id", norm_id(id_number))
    return _key(Label.PERSON, agency, "name", norm_text(name) or "-", birth_date or "-")


def address_key(full: str, country: str | None = None) -> str:
    return _key(Label.ADDRESS, (country or "-").lower(), norm_text(full) or "-")


def account_key(
    *, iban: str | None = None, number: str | None = None, institution: str = ""
) -> str:
    if iban:
        return _key(Label.ACCOUNT, norm_id(iban))
    return _key(Label.ACCOUNT, norm_text(institution) or "-", norm_id(number or "-"))


def phone_key(number: str) -> str:
    digits = re.sub(r"[^0-9+]", "", number)
    return _key(Label.PHONE, digits or "-")


def email_key(address: str) -> str:
    return _key(Label.EMAIL, address.strip().lower())


def country_key(code: str) -> str:
    return _key(Label.COUNTRY, code.upper())


def commodity_key(hs_code: str) -> str:
    return _key(Label.COMMODITY, hs_code[:6])
