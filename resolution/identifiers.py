"""Identifiers in one canonical form, validated where ``python-stdnum`` knows the scheme.

A tax id written "NL 706 0282 15" by a broker, "NL706028215" by the register and
"NL706028215000" as an EORI number on a declaration is one identifier: the canonical form is
the scheme, the issuing country (from the value's prefix, else the record's country) and the
compact value without that prefix or an EORI / branch "000" suffix.

An identifier is **strong** when it passes the checksum and format rules of its scheme (VAT
numbers per country, registration numbers where stdnum has a module, LEIs, passports of a
plausible shape). One that fails validation, or whose scheme stdnum cannot check, is kept as a
**weak** identifier: it still links records when equal, but two different weak identifiers do
not veto a link the way two different valid ones do.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType
from typing import NamedTuple

from stdnum import get_cc_module, iban, lei
from stdnum.exceptions import ValidationError

_JUNK = re.compile(r"[^0-9A-Z]")
_CACHE = 1 << 16
# Country prefixes VAT numbers carry ("EL" is Greece in VAT numbers, "CHE" Switzerland's UID).
_VAT_PREFIXES = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GB", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI", "NO",
    "RS", "AL", "MK", "SM",
}  # fmt: skip
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB", "CHE": "CH"}
# Registration-number schemes stdnum can check, per country (the rest stay weak).
_REGISTRATION_MODULES = {
    "fr": "siren",
    "se": "orgnr",
    "no": "orgnr",
    "fi": "ytunnus",
    "dk": "cvr",
    "ch": "uid",
    "sg": "uen",
    "kr": "brn",
    "ru": "ogrn",
    "br": "cnpj",
    "cn": "uscc",
    "pl": "regon",
    "be": "vat",
    "ee": "registrikood",
}
_EORI_SUFFIX = "000"
_LEI_LENGTH = 20
_MIN_EORI_BASE = 8
_GB_NINO = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")
_PASSPORT = re.compile(r"^(?=.*\d)[0-9A-Z]{6,9}$")
_PREFIXED_ID = re.compile(r"^([A-Z]{2})(\d{6,})$")


class Identifier(NamedTuple):
    """One canonical identifier of a party."""

    scheme: str  # tax, reg, lei, passport, national_id, nino, id (type unknown), or a custom one
    country: str | None
    value: str
    strong: bool

    def label(self) -> str:
        where = f"{self.country}:" if self.country else ""
        return f"{self.scheme}:{where}{self.value}{'' if self.strong else ' (weak)'}"


def compact(value: str) -> str:
    """Upper-case letters and digits only."""
    return _JUNK.sub("", value.upper())


@lru_cache(maxsize=256)
def _module(country: str, kind: str) -> ModuleType | None:
    try:
        module = get_cc_module(country.lower(), kind)
    except (ImportError, ValueError):
        return None
    return module if isinstance(module, ModuleType) else None


def _validates(module: ModuleType | None, value: str) -> bool:
    if module is None:
        return False
    try:
        module.validate(value)
    except ValidationError:
        return False
    return True


@lru_cache(maxsize=_CACHE)
def tax_identifier(raw: str, country: str | None) -> Identifier | None:
    """A tax id or VAT number: prefix split off (it names the country), EORI / branch "000"
    suffix dropped, validated with the country's stdnum VAT module."""
    value = compact(raw)
    if not value:
        return None
    if value.startswith("CHE"):
        prefix, rest = "CHE", value[3:]
    elif value[:2] in _VAT_PREFIXES and len(value) > 2:
        prefix, rest = value[:2], value[2:]
    else:
        prefix, rest = "", value
    if prefix:
        country = _PREFIX_COUNTRY.get(prefix, prefix)
        # An EORI number is the VAT number plus "000" (GB, and how brokers write others).
        if rest.endswith(_EORI_SUFFIX) and len(rest) - len(_EORI_SUFFIX) >= _MIN_EORI_BASE:
            rest = rest[: -len(_EORI_SUFFIX)]
    if len(value) == _LEI_LENGTH and lei.is_valid(value):
        return Identifier("lei", None, value, True)
    strong = False
    if country:
        module = _module(country, "vat")
        strong = _validates(module, (prefix + rest) if prefix else rest)
    return Identifier("tax", country.upper() if country else None, rest, strong)


@lru_cache(maxsize=_CACHE)
def registration_identifier(raw: str, country: str | None) -> Identifier | None:
    """A company registration number in its register's country, checked where stdnum has the
    register's scheme (SIREN, Organisationsnummer, CVR, UEN, ...)."""
    value = compact(raw)
    if not value:
        return None
    if len(value) == _LEI_LENGTH and lei.is_valid(value):
        return Identifier("lei", None, value, True)
    strong = False
    if country and country.lower() in _REGISTRATION_MODULES:
        strong = _validates(_module(country, _REGISTRATION_MODULES[country.lower()]), value)
    return Identifier("reg", country.upper() if country else None, value, strong)


@lru_cache(maxsize=_CACHE)
def person_identifier(raw: str, id_type: str | None, country: str | None) -> Identifier | None:
    """A person's document number. The type comes from the record when it says (passport,
    national id, tax id); otherwise from the shape (a GB National Insurance number, a
    country-prefixed national number). A passport is strong when it has a plausible shape."""
    value = compact(raw)
    if not value:
        return None
    kind = (id_type or "").strip().lower().replace(" ", "_")
    if kind == "passport":
        return Identifier("passport", None, value, bool(_PASSPORT.match(value)))
    if kind in ("tax_id", "tax", "tin"):
        return tax_identifier(raw, country)
    return _untyped_person_identifier(value, kind, country)


def _untyped_person_identifier(value: str, kind: str, country: str | None) -> Identifier:
    """A person's number whose type the record does not say (or says only vaguely)."""
    if _GB_NINO.match(value):
        return Identifier("nino", "GB", value, True)
    prefixed = _PREFIXED_ID.match(value)
    if prefixed:
        cc, number = prefixed.groups()
        module = _module(cc, "personalid")
        return Identifier("national_id", cc, number, _validates(module, number))
    if kind in ("national_id", "id_card", "identity_card"):
        return Identifier("national_id", country.upper() if country else None, value, False)
    if _PASSPORT.match(value):
        # Passport-shaped but not said to be one: comparable with passports, never strong.
        return Identifier("passport", None, value, False)
    return Identifier("id", None, value, False)


def account_number(value: str) -> str:
    """An account as compared: a valid IBAN in its compact form, anything else as given (an
    institution and number, already normalised by the loader's key)."""
    candidate = compact(value)
    if iban.is_valid(candidate):
        return str(iban.compact(candidate))
    return value


def comparable(a: Identifier, b: Identifier) -> bool:
    """Whether two identifiers are numbers of the same kind, so that equal values agree and
    different values disagree: the same scheme, or one of them of unknown type ("id"); and,
    when both name a country, the same country."""
    if a.scheme != b.scheme and "id" not in (a.scheme, b.scheme):
        return False
    return a.country is None or b.country is None or a.country == b.country
