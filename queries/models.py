"""What the investigator queries return: typed, compartment-filtered answers.

Every answer carries ``withheld``: hit / no-hit markers (per compartment and kind of element,
a count and whom to ask) for what exists but lies outside the caller's scope. Nothing else in
an answer names or describes a hidden element.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from graph_models.records import Node, Relationship, Scalar, StoredProvenance
from graph_models.schema import Label
from queries.alerts import Alert


class Withheld(BaseModel):
    """A hit / no-hit marker: how many elements of a kind a hidden compartment holds."""

    model_config = ConfigDict(extra="forbid")

    compartment: str
    kind: str = Field(description="what is withheld: source records, alerts, events, ...")
    count: int = Field(ge=1)
    note: str = Field(description="whom to ask, e.g. held by the FIU — ask the liaison officer")


class NodeView(Node):
    """A node as the caller may see it: provenance redacted to the scope."""

    partial: bool = Field(
        default=False,
        description="another compartment also holds this element; its part is withheld",
    )


class RelView(Relationship):
    """A relationship as the caller may see it: provenance redacted to the scope."""

    partial: bool = False


# --- search --------------------------------------------------------------------------------
class SearchMode(StrEnum):
    AUTO = "auto"
    NAME = "name"
    IDENTIFIER = "identifier"


class RecordHit(BaseModel):
    """One source record (or shared value) that matched the query."""

    model_config = ConfigDict(extra="forbid")

    key: str
    label: Label
    name: str | None
    agencies: list[str]
    score: float = Field(ge=0, le=100)
    matched_on: str = Field(description="name, tax_id, iban, ... or holder of <key>")
    matched_value: str


class SearchHit(BaseModel):
    """A ranked hit: a resolved entity with its matching records, or one unresolved record."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="the resolved entity's key, or the record's key")
    label: Label
    name: str | None
    score: float = Field(ge=0, le=100)
    agencies: list[str] = Field(description="agencies of the matching records")
    resolved: bool
    records: list[RecordHit]


class SearchResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    mode: SearchMode
    hits: list[SearchHit]
    total: int = Field(description="visible hits before the limit")
    withheld: list[Withheld] = Field(default_factory=list)


# --- profile -------------------------------------------------------------------------------
class FlowFigure(BaseModel):
    """Sum of a flow (trade, payments, cash) in one year, direction and currency."""

    model_config = ConfigDict(extra="forbid")

    year: str
    direction: str
    currency: str | None
    total: float
    count: int


class TaxFigure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    tax_type: str
    period: str
    turnover: float | None = None
    purchases: float | None = None
    imports_declared: float | None = None
    exports_declared: float | None = None
    vat_charged: float | None = None
    vat_paid: float | None = None
    vat_reclaimed: float | None = None


class KeyFigures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trade: list[FlowFigure] = Field(
        default_factory=list,
        description="declared goods value by year: out as exporter / consignor, in as "
        "importer / consignee",
    )
    payments: list[FlowFigure] = Field(
        default_factory=list,
        description="reported transactions by year, sent (out) / received (in) by the party or "
        "an account it holds",
    )
    cash: list[FlowFigure] = Field(
        default_factory=list, description="cash declared by year and direction (inbound/outbound)"
    )
    undeclared_cash: int = Field(default=0, description="cash declarations marked undeclared")
    tax: list[TaxFigure] = Field(default_factory=list)
    reports: dict[str, int] = Field(
        default_factory=dict, description="FIU reports naming the entity, by report code"
    )


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="the resolved entity's key, or the record's key")
    requested: str
    label: Label
    name: str | None
    resolved: bool
    records_by_agency: dict[str, list[NodeView]]
    accounts: list[NodeView] = Field(default_factory=list)
    figures: KeyFigures
    alerts: list[Alert]
    withheld: list[Withheld] = Field(default_factory=list)


# --- neighbourhood and paths ---------------------------------------------------------------
class Neighbourhood(BaseModel):
    model_config = ConfigDict(extra="forbid")

    center: str
    nodes: list[NodeView]
    relationships: list[RelView]
    truncated: bool = Field(description="the node limit stopped the expansion")
    capped: list[str] = Field(description="hub nodes included but not expanded through")
    withheld: list[Withheld] = Field(default_factory=list)


class Hop(BaseModel):
    """One step of a path and the records that make it."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(description="the path node this hop leaves")
    end: str = Field(description="the path node this hop reaches")
    relationships: list[RelView] = Field(
        description="every visible relationship between the two nodes (the first is the one "
        "the path was found on), with the records and sources it rests on"
    )
    records: list[str] = Field(description="record ids (file|record) the hop rests on")
    sources: list[str] = Field(description="agency|file|load_id the hop rests on")
    evidence: list[str] = Field(
        description="declaration / transaction keys of SHIPPED_TO / PAID relationships"
    )
    more: int = Field(default=0, description="parallel relationships beyond the listed ones")


class PathView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: list[NodeView]
    hops: list[Hop]

    @property
    def length(self) -> int:
        return len(self.hops)


class Paths(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    target: str
    paths: list[PathView]
    withheld: list[Withheld] = Field(default_factory=list)


# --- timeline ------------------------------------------------------------------------------
class EventKind(StrEnum):
    DECLARATION = "declaration"
    TRANSACTION = "transaction"
    REPORT = "report"
    CASH = "cash_declaration"
    TAX_PERIOD = "tax_period"
    INCORPORATION = "incorporation"
    DISSOLUTION = "dissolution"
    APPOINTMENT = "appointment"
    RESIGNATION = "resignation"


class TimelineEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: str
    end: str | None = Field(default=None, description="last day, for periods")
    kind: EventKind
    party: str = Field(description="the entity's record the event belongs to")
    record: str = Field(description="node key, or type:start>end#key for a relationship")
    counterpart: str | None = None
    agencies: list[str]
    summary: str
    amount: float | None = None
    currency: str | None = None
    details: dict[str, Scalar] = Field(default_factory=dict)
    provenance: StoredProvenance


class Timeline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    events: list[TimelineEvent]
    withheld: list[Withheld] = Field(default_factory=list)


# --- shared attributes ---------------------------------------------------------------------
class Attribute(StrEnum):
    ADDRESS = "address"
    PHONE = "phone"
    EMAIL = "email"
    ACCOUNT = "account"
    DIRECTOR = "director"


class Sharer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="resolved entity key, or the record key")
    label: Label
    name: str | None
    agencies: list[str]
    via: list[str] = Field(description="the sharer's records linked to the shared value")


class SharedValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribute: Attribute
    value: str = Field(description="the shared node's key (address, phone, ... or director)")
    display: str | None
    sharers: list[Sharer]
    total: int = Field(description="visible sharers in all")
    more: int = Field(description="visible sharers beyond the cap")


class SharedAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    shared: list[SharedValue]
    withheld: list[Withheld] = Field(default_factory=list)
