"""Load ``schema.yaml`` into typed models, and derive labels, keys and constraints from it.

The YAML file is the single source of truth. ``Label`` and ``RelType`` exist so that mypy can
check the names used in code; an import-time check refuses to start if they drift from the file.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from graph_models.errors import SchemaError

PropType = Literal["str", "int", "float", "bool", "date", "list"]

# Maintained by the stores on every node and relationship, never set by callers.
PROVENANCE_PROPERTIES = (
    "agencies",
    "compartments",
    "sources",
    "record_ids",
    "first_seen",
    "last_seen",
)
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Label(StrEnum):
    COMPANY = "Company"
    PERSON = "Person"
    RESOLVED_ENTITY = "ResolvedEntity"
    JUDGEMENT = "Judgement"
    ADDRESS = "Address"
    ACCOUNT = "Account"
    PHONE = "Phone"
    EMAIL = "Email"
    COUNTRY = "Country"
    COMMODITY = "Commodity"
    DECLARATION = "Declaration"
    REPORT = "Report"
    TRANSACTION = "Transaction"
    CASH_DECLARATION = "CashDeclaration"
    TAX_RETURN = "TaxReturn"
    TRADE_STATISTIC = "TradeStatistic"
    ALERT = "Alert"


class RelType(StrEnum):
    DECLARED = "DECLARED"
    CONSIGNED_TO = "CONSIGNED_TO"
    SHIPPED_TO = "SHIPPED_TO"
    PAID = "PAID"
    SENT = "SENT"
    RECEIVED = "RECEIVED"
    PART_OF = "PART_OF"
    HOLDS = "HOLDS"
    REGISTERED_AT = "REGISTERED_AT"
    HAS_PHONE = "HAS_PHONE"
    HAS_EMAIL = "HAS_EMAIL"
    DIRECTOR_OF = "DIRECTOR_OF"
    SHAREHOLDER_OF = "SHAREHOLDER_OF"
    REPORTED_IN = "REPORTED_IN"
    CARRIED = "CARRIED"
    OWNS_FUNDS = "OWNS_FUNDS"
    FILED = "FILED"
    CLASSIFIED_AS = "CLASSIFIED_AS"
    IN_COUNTRY = "IN_COUNTRY"
    SAME_AS = "SAME_AS"
    FLAGS = "FLAGS"


class PropertySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: PropType
    required: bool = False
    indexed: bool = False
    description: str = ""


class NodeType(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Label
    prefix: str
    description: str = ""
    properties: dict[str, PropertySpec]

    @property
    def required(self) -> list[str]:
        return [name for name, spec in self.properties.items() if spec.required]

    @property
    def indexed(self) -> list[str]:
        return [name for name, spec in self.properties.items() if spec.indexed]


class RelationshipType(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: RelType
    description: str = ""
    from_labels: tuple[Label, ...] = Field(alias="from")
    to_labels: tuple[Label, ...] = Field(alias="to")
    properties: dict[str, PropertySpec] = Field(default_factory=dict)


class SchemaModel(BaseModel):
    """The schema file as validated data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes: dict[Label, NodeType]
    relationships: dict[RelType, RelationshipType]


class Schema:
    """The validated schema with plain-dict indexes: these checks run for every observation a
    loader makes, so they avoid pydantic attribute machinery in the hot path."""

    def __init__(self, model: SchemaModel) -> None:
        self.nodes = model.nodes
        self.relationships = model.relationships
        self._by_prefix = {nt.prefix: label for label, nt in model.nodes.items()}
        self._node_props: dict[str, dict[str, tuple[PropType, bool]]] = {
            label.value: {n: (p.type, p.required) for n, p in nt.properties.items()}
            for label, nt in model.nodes.items()
        }
        self._rel_props: dict[str, dict[str, tuple[PropType, bool]]] = {
            rt.value: {n: (p.type, p.required) for n, p in spec.properties.items()}
            for rt, spec in model.relationships.items()
        }
        # Required properties per label / type, so a check does not walk every declared one.
        self._node_required = {
            label: tuple(n for n, (_, required) in props.items() if required)
            for label, props in self._node_props.items()
        }
        self._rel_required = {
            rt: tuple(n for n, (_, required) in props.items() if required)
            for rt, props in self._rel_props.items()
        }
        self._rel_ends: dict[str, tuple[frozenset[Label], frozenset[Label]]] = {
            rt.value: (frozenset(spec.from_labels), frozenset(spec.to_labels))
            for rt, spec in model.relationships.items()
        }

    def node(self, label: str) -> NodeType:
        try:
            return self.nodes[Label(label)]
        except ValueError as e:
            raise SchemaError(f"unknown node label {label!r}") from e

    def relationship(self, rel_type: str) -> RelationshipType:
        try:
            return self.relationships[RelType(rel_type)]
        except ValueError as e:
            raise SchemaError(f"unknown relationship type {rel_type!r}") from e

    def label_of_key(self, key: str) -> Label:
        """The label a node key belongs to: keys are ``prefix:rest`` with one prefix per label."""
        prefix, sep, _ = key.partition(":")
        if not sep:
            raise SchemaError(f"node key {key!r} has no label prefix")
        label = self._by_prefix.get(prefix)
        if label is None:
            raise SchemaError(f"node key {key!r} has an unknown prefix {prefix!r}")
        return label

    def make_key(self, label: Label, *parts: str) -> str:
        """A globally unique node key: the label's prefix, then the parts joined by ``:``."""
        if not parts or any(p == "" for p in parts):
            raise SchemaError(f"a {label} key needs non-empty parts, got {parts!r}")
        return ":".join((self.nodes[label].prefix, *parts))

    def check_properties(self, label_or_type: str, props: dict[str, Any], *, rel: bool) -> None:
        """Raise SchemaError when props name an undeclared property, lack a required one, or
        hold a value of the wrong type."""
        table = self._rel_props if rel else self._node_props
        declared = table.get(label_or_type)
        if declared is None:
            kind = "relationship type" if rel else "node label"
            raise SchemaError(f"unknown {kind} {label_or_type!r}")
        for name, value in props.items():
            spec = declared.get(name)
            if spec is None:
                unknown = sorted(set(props) - set(declared))
                raise SchemaError(f"{label_or_type}: undeclared properties {unknown}")
            # A plain str for a "str" property is by far the common case: no dispatch for it.
            plain_str = spec[0] == "str" and type(value) is str
            if value is not None and not plain_str and not _fits(spec[0], value):
                raise SchemaError(f"{label_or_type}.{name}: {value!r} is not of type {spec[0]}")
        required = (self._rel_required if rel else self._node_required)[label_or_type]
        if any(props.get(name) is None for name in required):
            missing = [name for name in required if props.get(name) is None]
            raise SchemaError(f"{label_or_type}: required properties missing {missing}")

    def check_ends(self, rel_type: str, start: Label, end: Label) -> None:
        ends = self._rel_ends.get(rel_type)
        if ends is None:
            raise SchemaError(f"unknown relationship type {rel_type!r}")
        if start not in ends[0] or end not in ends[1]:
            raise SchemaError(f"{rel_type} cannot link {start} to {end}")


def _fits(kind: PropType, value: Any) -> bool:
    match kind:
        case "str":
            return isinstance(value, str)
        case "int":
            return isinstance(value, int) and not isinstance(value, bool)
        case "float":
            return isinstance(value, int | float) and not isinstance(value, bool)
        case "bool":
            return isinstance(value, bool)
        case "date":
            return isinstance(value, str) and _is_iso_date(value)
        case "list":
            return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def load_schema(text: str | None = None) -> Schema:
    """Parse the schema YAML (the packaged file by default) and check it is consistent."""
    if text is None:
        text = resources.files("graph_models").joinpath("schema.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    nodes = {label: {"label": label, **body} for label, body in (raw.get("nodes") or {}).items()}
    rels = {name: {"type": name, **body} for name, body in (raw.get("relationships") or {}).items()}
    try:
        model = SchemaModel.model_validate({"nodes": nodes, "relationships": rels})
    except ValueError as e:
        raise SchemaError(f"invalid schema: {e}") from e
    _check(model)
    return Schema(model)


def _check(schema: SchemaModel) -> None:
    if set(schema.nodes) != set(Label) or set(schema.relationships) != set(RelType):
        raise SchemaError("schema.yaml and the Label/RelType enums disagree; update both")
    prefixes = [nt.prefix for nt in schema.nodes.values()]
    if len(set(prefixes)) != len(prefixes):
        raise SchemaError("two labels share a key prefix")
    owners: list[NodeType | RelationshipType] = [
        *schema.nodes.values(),
        *schema.relationships.values(),
    ]
    for owner in owners:
        for prop in owner.properties:
            if not _IDENT.match(prop) or prop in PROVENANCE_PROPERTIES or prop == "key":
                raise SchemaError(f"property name {prop!r} is invalid or reserved")


SCHEMA = load_schema()
