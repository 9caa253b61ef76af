"""Value types of mapped columns, built on the validators of ``loaders.fields``.

A mapped column has one value type, decided by what reads it: the schema type of the property
it fills (``date``, ``float``, ...), refined by the property's name where the name carries a
code list (``currency`` is ISO 4217; ``country``, ``nationality``, ``jurisdiction`` are ISO
3166; ``hs_code`` is an HS code), and the date format the mapping declares. The validators are
the ones the built-in loaders use, so a mapped file meets the same rules: no negative amounts,
no future dates, no unknown codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

from graph_models.schema import PropType
from loaders.fields import (
    Amount,
    Count,
    Country,
    Currency,
    Flag,
    HSCode,
    OptStr,
    PastDate,
    Percentage,
)

ValueKind = Literal[
    "text", "date", "int", "float", "percentage", "bool", "country", "currency", "hs", "list"
]

COUNTRY_PROPERTIES = frozenset(
    {
        "country",
        "nationality",
        "jurisdiction",
        "reporting_country",
        "origin_country",
        "dispatch_country",
        "destination_country",
    }
)
# str properties whose name says which code list their values come from
_CODED: dict[str, ValueKind] = {"currency": "currency", "hs_code": "hs"}
_BY_SCHEMA_TYPE: dict[PropType, ValueKind] = {
    "str": "text",
    "date": "date",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list",
}
LIST_SEPARATOR = ";"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ValueType:
    """How one column's cells are cleaned; ``format`` is a strptime format for dates."""

    kind: ValueKind
    format: str | None = None

    def describe(self) -> str:
        return f"{self.kind} ({self.format})" if self.format else self.kind


TEXT = ValueType("text")


def property_type(name: str, prop_type: PropType, fmt: str | None = None) -> ValueType:
    """The value type of a schema property, from its declared type and its name."""
    if prop_type == "str":
        coded: ValueKind = "country" if name in COUNTRY_PROPERTIES else _CODED.get(name, "text")
        return ValueType(coded)
    if prop_type == "date":
        return ValueType("date", fmt)
    if prop_type == "float" and name == "percentage":
        return ValueType("percentage")
    return ValueType(_BY_SCHEMA_TYPE[prop_type])


def merge_types(a: ValueType, b: ValueType) -> ValueType | None:
    """The one type a column read two ways has, or None when the two readings conflict.

    Text is the loosest reading and gives way; a date without a format adopts the format
    another reading declares (a column has one date format).
    """
    if b in (a, TEXT):
        return a
    if a == TEXT:
        return b
    if a.kind == b.kind == "date" and (a.format is None or b.format is None):
        return ValueType("date", a.format or b.format)
    return None


def _dated(fmt: str) -> Any:
    def parse(value: Any) -> Any:
        if value is None or isinstance(value, date):
            return value
        text = str(value).strip()
        if not text:
            return None
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
        if _ISO_DATE.match(text):
            # XLSX date cells arrive as ISO text whatever the sheet displays; PastDate checks.
            return text
        raise ValueError(f"{value!r} is not a date in the form {fmt}")

    return parse


def _split(value: Any) -> Any:
    if value is None or isinstance(value, list):
        return value
    parts = [p.strip() for p in str(value).split(LIST_SEPARATOR)]
    return [p for p in parts if p] or None


ListOfText = Annotated[list[str] | None, BeforeValidator(_split)]

_ANNOTATIONS: dict[ValueKind, Any] = {
    "text": OptStr,
    "date": PastDate,
    "int": Count,
    "float": Amount,
    "percentage": Percentage,
    "bool": Flag,
    "country": Country,
    "currency": Currency,
    "hs": HSCode,
    "list": ListOfText,
}


def annotation(value_type: ValueType) -> Any:
    """The pydantic field type that cleans a cell of this type (None when the cell is blank)."""
    base = _ANNOTATIONS[value_type.kind]
    if value_type.kind == "date" and value_type.format:
        # The format parser runs first and hands PastDate a date, which it checks and formats.
        return Annotated[base, BeforeValidator(_dated(value_type.format))]
    return base
