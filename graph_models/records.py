"""Pydantic models for what crosses the store seam: writes in, nodes and relationships out."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_models.schema import SCHEMA, Label, RelType

Scalar = str | int | float | bool | list[str]

# A hub (a country, a formation agent's address) is referenced by up to millions of records.
# Its node keeps the first RECORD_ID_CAP record ids; the full record-level provenance of every
# mention lives on the relationship that the mentioning record creates.
RECORD_ID_CAP = 25


class Agency(StrEnum):
    CUSTOMS = "customs"
    FIU = "fiu"
    TAX = "tax"
    REGISTRY = "registry"
    EXTERNAL = "external"


def compartment_of(agency: Agency) -> str:
    """The access compartment of an agency's records (one compartment per agency for now)."""
    return agency.value


class Provenance(BaseModel):
    """Where one observation of a fact came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency: Agency
    source_file: str = Field(min_length=1)
    record_id: str = Field(min_length=1, description="row number or element path in the file")
    load_id: str = Field(min_length=1, description="content hash of the delivered file")
    seen: str | None = Field(default=None, description="ISO date of the record, if dated")

    @property
    def source(self) -> str:
        return f"{self.agency.value}|{self.source_file.replace('|', '/')}|{self.load_id}"

    @property
    def record(self) -> str:
        return f"{self.source_file.replace('|', '/')}|{self.record_id}"


class StoredProvenance(BaseModel):
    """Provenance as the stores keep it: the union over every observation of the element."""

    model_config = ConfigDict(extra="forbid")

    agencies: list[str] = Field(default_factory=list)
    compartments: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="agency|file|load_id")
    record_ids: list[str] = Field(default_factory=list, description="file|record (capped)")
    first_seen: str | None = None
    last_seen: str | None = None


def _without_nulls(cls: type, data: Any) -> Any:
    """Drop null properties before validation: None means "not known in this record", and it
    never erases what another record said."""
    if isinstance(data, dict) and isinstance(data.get("properties"), dict):
        props = {k: v for k, v in data["properties"].items() if v is not None}
        data = {**data, "properties": props}
    return data


class NodeWrite(BaseModel):
    """One observation of a node, as a loader produces it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Label
    key: str
    properties: dict[str, Scalar]
    provenance: Provenance

    _drop_nulls = model_validator(mode="before")(_without_nulls)

    @model_validator(mode="after")
    def _fits_schema(self) -> NodeWrite:
        if SCHEMA.label_of_key(self.key) != self.label:
            raise ValueError(f"key {self.key!r} does not belong to label {self.label}")
        SCHEMA.check_properties(self.label, self.properties, rel=False)
        return self


class RelWrite(BaseModel):
    """One observation of a relationship; (type, start, end, key) identifies it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: RelType
    start: str
    end: str
    key: str = ""
    properties: dict[str, Scalar] = Field(default_factory=dict)
    provenance: Provenance

    _drop_nulls = model_validator(mode="before")(_without_nulls)

    @model_validator(mode="after")
    def _fits_schema(self) -> RelWrite:
        spec = SCHEMA.relationship(self.type)
        start, end = SCHEMA.label_of_key(self.start), SCHEMA.label_of_key(self.end)
        if start not in spec.from_labels or end not in spec.to_labels:
            raise ValueError(f"{self.type} cannot link {start} to {end}")
        SCHEMA.check_properties(self.type, self.properties, rel=True)
        return self

    @property
    def start_label(self) -> Label:
        return SCHEMA.label_of_key(self.start)

    @property
    def end_label(self) -> Label:
        return SCHEMA.label_of_key(self.end)


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label
    key: str
    properties: dict[str, Scalar]
    provenance: StoredProvenance


class Relationship(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: RelType
    start: str
    end: str
    key: str
    properties: dict[str, Scalar]
    provenance: StoredProvenance

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.type.value, self.start, self.end, self.key)


class Subgraph(BaseModel):
    nodes: list[Node]
    relationships: list[Relationship]
    truncated: bool = Field(default=False, description="the node limit stopped the expansion")
    capped: list[str] = Field(
        default_factory=list, description="hub nodes included but not expanded through"
    )


class Path(BaseModel):
    nodes: list[str]
    relationships: list[Relationship]

    @property
    def length(self) -> int:
        return len(self.relationships)


class GraphCounts(BaseModel):
    nodes: dict[str, int]
    relationships: dict[str, int]
    nodes_by_agency: dict[str, int]
    relationships_by_agency: dict[str, int]

    @property
    def total_nodes(self) -> int:
        return sum(self.nodes.values())

    @property
    def total_relationships(self) -> int:
        return sum(self.relationships.values())
