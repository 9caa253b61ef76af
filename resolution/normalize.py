"""Normalised forms of names, addresses, phones and e-mails, as resolution compares them.

Every agency keys names in differently: the register writes "Acme Trading Limited", a broker
"ACME TRDG LTD.", a bank clerk "Akme Trading". Normalising makes the spellings that mean the
same thing look the same before anything is compared:

- text is transliterated to ASCII (``anyascii``: the Turkish dotless i becomes i, Cyrillic
  letters their Latin transcription), case-folded, and punctuation becomes spaces;
- a company's legal form (Limited / Ltd / LTD. / GmbH / S.A. / Sp. z o.o. / OOO / ...) is
  recognised at the end (or, for the forms written first, at the start) of the name, mapped to
  one canonical form and kept apart from the name core, so "Acme Trading Ltd" and "Acme
  Trading Limited" share the core "acme trading" and the form "ltd";
- common abbreviations are expanded (TRDG -> trading, INTL -> international) and stop words
  dropped, so the core is made of the words that identify the company;
- each word gets a phonetic key (metaphone), so "Akme" and "Acme", "Mohammed" and "Muhammad"
  meet in the same block.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish
import phonenumbers
from anyascii import anyascii

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Glued initials such as "S.A." or "B.V." are joined before punctuation becomes spaces, so the
# legal-form table sees "sa" and "bv" whichever way the dots were typed.
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}(?:[A-Za-z]\b)?")
_CACHE = 1 << 16
_MIN_LEADING_FORM = 3

# Canonical legal form -> the spellings (as folded token sequences) that mean it. Forms are
# matched at the end of a name, longest spelling first.
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "ltd": ("ltd", "limited"),
    "co ltd": ("co ltd", "co limited", "company limited", "company ltd"),
    "pvt ltd": ("pvt ltd", "private limited", "pvt limited", "private ltd", "p ltd"),
    "pte ltd": ("pte ltd", "pte limited"),
    "pty ltd": ("pty ltd", "pty limited", "proprietary limited"),
    "plc": ("plc", "public limited company"),
    "llc": ("llc", "limited liability company", "l l c"),
    "llp": ("llp", "limited liability partnership"),
    "lp": ("lp", "limited partnership"),
    "inc": ("inc", "incorporated"),
    "corp": ("corp", "corporation"),
    "gmbh": ("gmbh", "gesellschaft mbh", "gesellschaft mit beschrankter haftung", "g m b h"),
    "gmbh co kg": ("gmbh co kg", "gmbh und co kg", "gmbh and co kg"),
    "ug": ("ug", "ug haftungsbeschrankt"),
    "ag": ("ag", "aktiengesellschaft"),
    "kg": ("kg", "kommanditgesellschaft"),
    "ohg": ("ohg",),
    "sa": ("sa", "societe anonyme", "sociedad anonima", "s a"),
    "sarl": ("sarl", "societe a responsabilite limitee", "s a r l"),
    "sas": ("sas", "societe par actions simplifiee", "s a s"),
    "srl": ("srl", "societa a responsabilita limitata", "s r l"),
    "spa": ("spa", "societa per azioni", "s p a"),
    "sl": ("sl", "sociedad limitada", "s l"),
    "ltda": ("ltda", "limitada"),
    "bv": ("bv", "besloten vennootschap", "b v"),
    "nv": ("nv", "naamloze vennootschap", "n v"),
    "sp zoo": ("sp z o o", "sp zoo", "spolka z ograniczona odpowiedzialnoscia", "sp z oo"),
    "ab": ("ab", "aktiebolag"),
    "oy": ("oy", "osakeyhtio"),
    "oyj": ("oyj",),
    "aps": ("aps",),
    "as": ("as", "a s", "aksjeselskap", "aktieselskab"),
    "asa": ("asa",),
    "dac": ("dac", "designated activity company"),
    "ltd sti": ("ltd sti", "limited sirketi"),
    "fze": ("fze",),
    "fzco": ("fzco", "fz co"),
    "jsc": ("jsc", "joint stock company"),
    "kk": ("kk", "kabushiki kaisha"),
    "ooo": ("ooo",),
    "ao": ("ao", "zao", "oao", "pao"),
}
# Forms written in front of the name in their home country ("OOO Romashka", "PT Maju").
LEADING_FORMS: dict[str, tuple[str, ...]] = {
    "ooo": ("ooo",),
    "ao": ("ao", "zao", "oao", "pao"),
    "pt": ("pt",),
    "cv": ("cv",),
}
# Forms that mean the same kind of company under different names: "compatible" rather than
# "different" when two records disagree between them.
FORM_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({"ltd", "co ltd", "pvt ltd", "pte ltd", "pty ltd", "llc", "ltd sti", "dac"}),
    frozenset({"gmbh", "ug", "gmbh co kg"}),
    frozenset({"sa", "spa", "nv", "ag", "as", "asa", "jsc", "ao", "plc", "kk", "oyj"}),
    frozenset({"sarl", "srl", "sl", "ltda", "bv", "sp zoo", "ooo", "aps", "oy", "ab"}),
    frozenset({"inc", "corp"}),
)

# Abbreviations as agencies key them, expanded in the name core (and in addresses).
NAME_ABBREVIATIONS: dict[str, str] = {
    "trdg": "trading",
    "trd": "trading",
    "tradg": "trading",
    "intl": "international",
    "int l": "international",
    "internat": "international",
    "imp": "import",
    "exp": "export",
    "impex": "import export",
    "ind": "industries",
    "inds": "industries",
    "indus": "industries",
    "distr": "distribution",
    "dist": "distribution",
    "distrib": "distribution",
    "eng": "engineering",
    "engg": "engineering",
    "ent": "enterprises",
    "ents": "enterprises",
    "co": "company",
    "cos": "companies",
    "grp": "group",
    "prods": "products",
    "prod": "products",
    "hldgs": "holdings",
    "hldg": "holdings",
    "mfg": "manufacturing",
    "mfrs": "manufacturers",
    "svcs": "services",
    "svc": "services",
    "bros": "brothers",
    "natl": "national",
    "assoc": "associates",
    "mgmt": "management",
    "dev": "development",
    "elec": "electronics",
    "tech": "technology",
    "chem": "chemicals",
    "pharm": "pharmaceuticals",
    "logist": "logistics",
}
NAME_STOP_WORDS = frozenset({"the", "and", "of", "de", "du", "des", "la", "le", "und", "et"})

ADDRESS_ABBREVIATIONS: dict[str, str] = {
    "st": "street",
    "str": "strasse",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "ln": "lane",
    "dr": "drive",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "hwy": "highway",
    "bldg": "building",
    "fl": "floor",
    "apt": "apartment",
    "ste": "suite",
    "no": "number",
    "nr": "number",
    "po": "po",
    "ind": "industrial",
    "est": "estate",
    "cres": "crescent",
    "cct": "circuit",
    "tce": "terrace",
    "pde": "parade",
    "hts": "heights",
}
_STRASSE = re.compile(r"(?<=[a-z])(strasse|str)\b")


def fold(text: str) -> str:
    """ASCII, case-folded words separated by single spaces ("Société Générale" -> "societe
    generale"); dotted initials ("S.A.", "B.V.") are glued first, then punctuation becomes a
    space."""
    if not text:
        return ""
    glued = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    ascii_text = anyascii(glued).casefold()
    return _NON_ALNUM.sub(" ", ascii_text.replace("&", " and ")).strip()


def _form_patterns(
    table: dict[str, tuple[str, ...]],
) -> list[tuple[tuple[str, ...], str]]:
    pairs = [
        (tuple(spelling.split()), canon)
        for canon, spellings in table.items()
        for spelling in spellings
    ]
    # Longest spelling first, so "sp z o o" wins over "o".
    return sorted(pairs, key=lambda p: (-len(p[0]), p[0], p[1]))


_TRAILING = _form_patterns(LEGAL_FORMS)
_LEADING = _form_patterns(LEADING_FORMS)


def _expand(tokens: list[str], table: dict[str, str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        out.extend(table.get(token, token).split())
    return out


class CompanyName:
    """A company name split into its core words and its canonical legal form."""

    __slots__ = ("form", "tokens")

    def __init__(self, tokens: tuple[str, ...], form: str | None) -> None:
        self.tokens = tokens
        self.form = form

    @property
    def core(self) -> str:
        return " ".join(self.tokens)

    def __repr__(self) -> str:
        return f"CompanyName({self.core!r}, form={self.form!r})"


@lru_cache(maxsize=_CACHE)
def company_name(name: str) -> CompanyName:
    """Split a company name into core words (abbreviations expanded, stop words dropped) and a
    canonical legal form: "ACME TRDG LTD." -> core "acme trading", form "ltd"."""
    tokens = fold(name).split()
    form = None
    for spelling, canon in _TRAILING:
        n = len(spelling)
        if len(tokens) > n and tuple(tokens[-n:]) == spelling:
            form, tokens = canon, tokens[:-n]
            break
    if form is None:
        for spelling, canon in _LEADING:
            n = len(spelling)
            if len(tokens) > n and tuple(tokens[:n]) == spelling:
                form, tokens = canon, tokens[n:]
                break
    if form is None:
        # Any form written first ("GmbH Klein Holz", "Limited Harris Interiors"), when it is
        # not a short word that could start a name ("AB Foods") and two words remain.
        for spelling, canon in _TRAILING:
            n = len(spelling)
            long_enough = len("".join(spelling)) >= _MIN_LEADING_FORM
            if long_enough and len(tokens) >= n + 2 and tuple(tokens[:n]) == spelling:
                form, tokens = canon, tokens[n:]
                break
    words = [t for t in _expand(tokens, NAME_ABBREVIATIONS) if t not in NAME_STOP_WORDS]
    # "Acme Co" or "Acme & Co" keeps "company" as a word only when something else is there.
    core = tuple(words) if words else tuple(tokens)
    return CompanyName(core, form)


def form_family(form: str) -> int | None:
    """The index of the family of equivalent legal forms ``form`` belongs to, if any."""
    for i, family in enumerate(FORM_FAMILIES):
        if form in family:
            return i
    return None


@lru_cache(maxsize=_CACHE)
def person_tokens(name: str) -> tuple[str, ...]:
    """A person's name as folded words in written order ("LAST, First" stays two words; the
    comparators do not rely on order). Hyphens split ("Al-Hashimi" -> "al", "hashimi")."""
    return tuple(fold(name).split())


@lru_cache(maxsize=_CACHE)
def phonetic(token: str) -> str:
    """A phonetic key of one word (metaphone); digits stay as they are."""
    if not token.isalpha():
        return token
    return jellyfish.metaphone(token) or token


@lru_cache(maxsize=_CACHE)
def address_tokens(text: str) -> tuple[str, ...]:
    """An address as folded words with street-type abbreviations expanded ("12 High St." ->
    "12 high street"; "Hauptstr. 5" -> "haupt strasse 5")."""
    folded = _STRASSE.sub(r" \1", fold(text))
    return tuple(_expand(folded.split(), ADDRESS_ABBREVIATIONS))


@lru_cache(maxsize=_CACHE)
def phone_e164(number: str, region: str | None) -> tuple[str, bool]:
    """A phone number in E.164 form and whether it is a valid number (``phonenumbers``); a
    number that does not parse keeps its digits and counts as weak."""
    digits = re.sub(r"[^0-9+]", "", number)
    try:
        parsed = phonenumbers.parse(number, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return digits, False
    if not phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), False
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), True


def email_norm(address: str) -> str:
    """An e-mail address trimmed and lower-cased."""
    return address.strip().lower()
