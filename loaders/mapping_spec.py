"""The mapping file as data: pydantic models of the YAML, and the error that names its keys.

These models check the *shape* of a mapping (which keys exist, what each holds); whether the
labels, relationship types and properties fit ``graph_models/schema.yaml`` is checked when the
mapping is compiled (``loaders.mapping_plan``). See ``loaders/mapping.py`` for the language.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from graph_models.records import Agency
from graph_models.schema import PropType
from loaders.base import LoadError

Column = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
MappingName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]


class MappingError(LoadError):
    """The mapping file itself is invalid; the message names the file and the offending key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- properties ------------------------------------------------------------------------------
class ColumnProperty(_Strict):
    """``{column: X, type: date, format: "%d/%m/%Y", required: true}``."""

    column: Column
    type: PropType | None = Field(
        default=None, description="must agree with the schema; documents the mapping's intent"
    )
    format: str | None = Field(default=None, min_length=1, description="strptime format")
    required: bool = False


class ConstantProperty(_Strict):
    """``{value: ...}``: the same value on every row."""

    value: str | bool | int | float | date


def _property_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "shorthand"
    if isinstance(value, dict):
        return "constant" if "value" in value else "column"
    return None


PropertySpec = Annotated[
    Annotated[Column, Tag("shorthand")]
    | Annotated[ColumnProperty, Tag("column")]
    | Annotated[ConstantProperty, Tag("constant")],
    Discriminator(
        _property_tag,
        custom_error_type="property_form",
        custom_error_message="expected a column name, {column: ...} or {value: ...}",
    ),
]


# --- keys ------------------------------------------------------------------------------------
class ColumnsKey(_Strict):
    """``{columns: [a, b], fallback: [c, d]}``: the fallback is used when a and b are empty."""

    columns: list[Column] = Field(min_length=1)
    fallback: list[Column] = Field(default_factory=list)


class ConstantKey(_Strict):
    """``{value: jurisdiction}``: a fixed relationship key (one edge per pair and value)."""

    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CompanyKey(_Strict):
    kind: Literal["company"]
    name: Column
    tax_id: Column | None = None
    registration_number: Column | None = None
    country: Column | None = None


class PersonKey(_Strict):
    kind: Literal["person"]
    name: Column
    id_number: Column | None = None
    birth_date: Column | None = None


class AccountKey(_Strict):
    kind: Literal["account"]
    iban: Column | None = None
    number: Column | None = None
    number_or_iban: Column | None = Field(
        default=None, description="one column holding account numbers or IBANs"
    )
    institution: Column | None = None

    @model_validator(mode="after")
    def _identified(self) -> AccountKey:
        if not (self.iban or self.number or self.number_or_iban):
            raise ValueError("an account key needs iban, number or number_or_iban")
        return self


class AddressKey(_Strict):
    kind: Literal["address"]
    full: Column
    country: Column | None = None


class PhoneKey(_Strict):
    kind: Literal["phone"]
    number: Column


class EmailKey(_Strict):
    kind: Literal["email"]
    address: Column


class CountryKey(_Strict):
    kind: Literal["country"]
    code: Column


class CommodityKey(_Strict):
    kind: Literal["commodity"]
    hs_code: Column


KindKey = (
    CompanyKey
    | PersonKey
    | AccountKey
    | AddressKey
    | PhoneKey
    | EmailKey
    | CountryKey
    | CommodityKey
)
KEY_KINDS: tuple[str, ...] = (
    "company",
    "person",
    "account",
    "address",
    "phone",
    "email",
    "country",
    "commodity",
)


def _node_key_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    if "kind" in value:
        return str(value["kind"])
    return "columns"


NodeKeySpec = Annotated[
    Annotated[ColumnsKey, Tag("columns")]
    | Annotated[CompanyKey, Tag("company")]
    | Annotated[PersonKey, Tag("person")]
    | Annotated[AccountKey, Tag("account")]
    | Annotated[AddressKey, Tag("address")]
    | Annotated[PhoneKey, Tag("phone")]
    | Annotated[EmailKey, Tag("email")]
    | Annotated[CountryKey, Tag("country")]
    | Annotated[CommodityKey, Tag("commodity")],
    Discriminator(_node_key_tag),  # its two errors are worded in _error_message
]


def _rel_key_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    return "constant" if "value" in value else "columns"


RelKeySpec = Annotated[
    Annotated[ColumnsKey, Tag("columns")] | Annotated[ConstantKey, Tag("constant")],
    Discriminator(
        _rel_key_tag,
        custom_error_type="rel_key_form",
        custom_error_message="expected {columns: [...]} or {value: ...}",
    ),
]
# Discriminator tags appear in pydantic's error locations; they are not keys of the file.
_TAGS = frozenset({"shorthand", "column", "constant", "columns", *KEY_KINDS})


# --- nodes, relationships, the mapping ---------------------------------------------------------
class NodeSpec(_Strict):
    id: Ident
    label: str
    key: NodeKeySpec
    required: bool = Field(
        default=False, description="an empty key quarantines the row instead of skipping the node"
    )
    properties: dict[str, PropertySpec] = Field(default_factory=dict)


class RelSpec(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: str
    from_: Ident = Field(alias="from")
    to: Ident
    key: RelKeySpec | None = None
    properties: dict[str, PropertySpec] = Field(default_factory=dict)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class MappingSpec(_Strict):
    name: MappingName
    description: str = ""
    agency: Agency
    record_id: Annotated[list[Column], BeforeValidator(_as_list)] = Field(default_factory=list)
    seen: Column | None = None
    nodes: list[NodeSpec] = Field(min_length=1)
    relationships: list[RelSpec] = Field(default_factory=list)


def key_path(loc: tuple[int | str, ...]) -> str:
    """``('nodes', 0, 'key', 'nam')`` -> ``nodes[0].key.nam``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _where(loc: tuple[int | str, ...]) -> str:
    # Drop a tag segment that directly follows "key" or a property name (two after
    # "properties"); everything else is a key of the file.
    kept: list[int | str] = []
    for i, part in enumerate(loc):
        after_key = i >= 1 and loc[i - 1] == "key"
        after_prop = i >= 2 and loc[i - 2] == "properties"
        if isinstance(part, str) and part in _TAGS and (after_key or after_prop):
            continue
        kept.append(part)
    return key_path(tuple(kept))


def read_mapping(path: Path) -> MappingSpec:
    """Parse and shape-check a mapping file; MappingError names the file and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise MappingError(path, f"cannot read the mapping file: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise MappingError(path, "the mapping file is not UTF-8") from e
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(e, "problem", None) or str(e)
        raise MappingError(path, f"not valid YAML: {problem}", location=where) from e
    if not isinstance(raw, dict):
        raise MappingError(path, "a mapping file is a YAML mapping with name, agency and nodes")
    try:
        return MappingSpec.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = _where(tuple(first["loc"]))
        others = len(e.errors()) - 1
        more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
        raise MappingError(path, f"{_error_message(first)}{more}", location=where) from e


def _error_message(err: Any) -> str:
    kind = err["type"]
    if kind == "union_tag_invalid":
        found = err.get("ctx", {}).get("tag")
        return f"unknown key kind {found!r} (kinds: {', '.join(KEY_KINDS)}, or columns: [...])"
    if kind == "union_tag_not_found":
        return "expected {kind: ..., <field>: <column>} or {columns: [...]}"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "a required key is missing"
    return str(err["msg"]).removeprefix("Value error, ")
