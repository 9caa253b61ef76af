"""Key kinds of the mapping language: ``key: {kind: account, iban: IBAN}`` and friends.

Each kind makes its node key with ``loaders.keys`` exactly as the built-in loaders do, so a
mapped bank statement's accounts, a leaked registry's companies (per agency) or a seizure
list's countries are the same nodes the other loaders create. A kind key's fields also fill
the node's identifying properties (an account key fills ``account_number`` and ``iban``), so a
mapping does not have to say the same column twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from graph_models.records import Scalar
from graph_models.schema import Label
from loaders import keys
from loaders.mapping_values import TEXT, ValueType
from loaders.reference_data import country_name, hs_nomenclature


@dataclass(frozen=True)
class KeyField:
    value_type: ValueType
    fills: str | None  # the node property this field's value also sets


@dataclass(frozen=True)
class KeyKind:
    label: Label
    fields: dict[str, KeyField]
    identifying: tuple[str, ...]  # the node exists in a row when one of these has a value


_COUNTRY = ValueType("country")
KINDS: dict[str, KeyKind] = {
    "company": KeyKind(
        Label.COMPANY,
        {
            "name": KeyField(TEXT, "name"),
            "tax_id": KeyField(TEXT, "tax_id"),
            "registration_number": KeyField(TEXT, "registration_number"),
            "country": KeyField(_COUNTRY, "jurisdiction"),
        },
        ("name", "tax_id", "registration_number"),
    ),
    "person": KeyKind(
        Label.PERSON,
        {
            "name": KeyField(TEXT, "name"),
            "id_number": KeyField(TEXT, "id_number"),
            "birth_date": KeyField(ValueType("date"), "birth_date"),
        },
        ("name", "id_number"),
    ),
    "account": KeyKind(
        Label.ACCOUNT,
        {
            "iban": KeyField(TEXT, "iban"),
            "number": KeyField(TEXT, "account_number"),
            "number_or_iban": KeyField(TEXT, "account_number"),
            "institution": KeyField(TEXT, "institution"),
        },
        ("iban", "number", "number_or_iban"),
    ),
    "address": KeyKind(
        Label.ADDRESS,
        {"full": KeyField(TEXT, "full"), "country": KeyField(_COUNTRY, "country")},
        ("full",),
    ),
    "phone": KeyKind(Label.PHONE, {"number": KeyField(TEXT, "number")}, ("number",)),
    "email": KeyKind(Label.EMAIL, {"address": KeyField(TEXT, "address")}, ("address",)),
    "country": KeyKind(Label.COUNTRY, {"code": KeyField(_COUNTRY, "code")}, ("code",)),
    "commodity": KeyKind(
        Label.COMMODITY, {"hs_code": KeyField(ValueType("hs"), "hs_code")}, ("hs_code",)
    ),
}
# Properties a kind key derives beyond its fields (name_norm, a country's name, ...).
EXTRA_DERIVED: dict[str, tuple[str, ...]] = {
    "company": ("name_norm",),
    "person": ("name_norm",),
    "account": ("iban",),
    "country": ("name",),
    "commodity": ("description",),
}

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def as_iban(value: str) -> str | None:
    """The normalised IBAN when ``value`` is one (shape and mod-97 check digits), else None."""
    text = keys.norm_id(value)
    if not _IBAN.match(text):
        return None
    rotated = text[4:] + text[:4]
    digits = "".join(str(int(c, 36)) for c in rotated)
    return text if int(digits) % 97 == 1 else None


Derived = dict[str, Scalar | None]
Values = Mapping[str, str | None]


def kind_key(kind: str, agency: str, values: Values) -> tuple[str, Derived]:
    """The node key and the derived properties of one kind key, from its fields' values.

    ``values`` holds the cleaned value of each key field (None when blank); at least one
    identifying field has a value.
    """
    return _MAKERS[kind](agency, values)


def _company(agency: str, values: Values) -> tuple[str, Derived]:
    name = values.get("name") or ""
    key = keys.company_key(
        agency,
        name=name,
        tax_id=values.get("tax_id"),
        registration_number=values.get("registration_number"),
        country=values.get("country"),
    )
    return key, _filled("company", values) | {"name_norm": keys.norm_text(name) or None}


def _person(agency: str, values: Values) -> tuple[str, Derived]:
    name = values.get("name") or ""
    key = keys.person_key(
        agency, name=name, id_number=values.get("id_number"), birth_date=values.get("birth_date")
    )
    return key, _filled("person", values) | {"name_norm": keys.norm_text(name) or None}


def _address(agency: str, values: Values) -> tuple[str, Derived]:
    key = keys.address_key(values.get("full") or "", values.get("country"))
    return key, _filled("address", values)


def _phone(agency: str, values: Values) -> tuple[str, Derived]:
    return keys.phone_key(values.get("number") or ""), _filled("phone", values)


def _email(agency: str, values: Values) -> tuple[str, Derived]:
    return keys.email_key(values.get("address") or ""), _filled("email", values)


def _country(agency: str, values: Values) -> tuple[str, Derived]:
    code = values.get("code") or ""
    return keys.country_key(code), {"code": code, "name": country_name(code)}


def _commodity(agency: str, values: Values) -> tuple[str, Derived]:
    hs6 = (values.get("hs_code") or "")[:6]
    return keys.commodity_key(hs6), {"hs_code": hs6, "description": hs_nomenclature().get(hs6)}


def _filled(kind: str, values: Values) -> Derived:
    out: Derived = {}
    for name, field in KINDS[kind].fields.items():
        if field.fills is not None and name in values:
            out[field.fills] = values[name]
    return out


def _account(agency: str, values: Values) -> tuple[str, Derived]:
    iban = values.get("iban")
    number = values.get("number")
    either = values.get("number_or_iban")
    if not iban and either:
        iban = as_iban(either)
        number = number or (None if iban else either)
    institution = values.get("institution")
    key = keys.account_key(iban=iban, number=number, institution=institution or "")
    props: Derived = {
        # The schema requires an account number; an IBAN is the account's number when no
        # other is known.
        "account_number": number or (keys.norm_id(iban) if iban else None),
        "iban": keys.norm_id(iban) if iban else None,
        "institution": institution,
    }
    return key, props


# Shared values (account, address, ...) take no agency: they are the cross-agency pivots.
_MAKERS: dict[str, Callable[[str, Values], tuple[str, Derived]]] = {
    "company": _company,
    "person": _person,
    "account": _account,
    "address": _address,
    "phone": _phone,
    "email": _email,
    "country": _country,
    "commodity": _commodity,
}
