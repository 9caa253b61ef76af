"""The one input every writer reads: what an export holds, already filtered to the requester.

Writers never query the store and never decide access: an :class:`ExportMaterial` holds only
what the requester's scope (plus any case dissemination) lets them read, with the hit / no-hit
markers (``withheld``) for the rest, so a writer cannot leak what it was never given.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from queries.alerts import Alert
from queries.models import NodeView, RelView, TimelineEvent, Withheld

# A writer turns the material into named files (name -> content); names are unique per bundle.
Files = dict[str, bytes]


class ExportFormat(StrEnum):
    GOAML = "goaml"
    FTM = "ftm"
    GRAPHML = "graphml"
    GEXF = "gexf"
    ANB = "anb"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"


class Disseminated(BaseModel):
    """A node included because its owner disseminated it into the case, read with the
    requester's scope widened by exactly these compartments (for this node only)."""

    model_config = ConfigDict(extra="forbid")

    key: str
    compartments: list[str]
    legal_basis: str
    by: str | None = None


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    by: str | None = None
    at: str | None = None


class ExportHeader(BaseModel):
    """Who asked for the export, why, and under which scope it was filtered."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    export_id: str | None = Field(default=None, description="the bundle's id, once it has one")
    purpose: str
    requested_by: str
    agency: str
    generated_at: str = Field(description="ISO 8601 UTC timestamp, seconds")
    case_id: str | None = None
    legal_basis: str | None = None
    compartments: list[str] = Field(description="the scope the content was filtered to")


class ExportMaterial(ExportHeader):
    subjects: list[str] = Field(
        default_factory=list, description="the entity keys the export is about (visible ones)"
    )
    nodes: list[NodeView] = Field(default_factory=list)
    relationships: list[RelView] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    events: list[TimelineEvent] = Field(default_factory=list)
    withheld: list[Withheld] = Field(default_factory=list)
    disseminated: list[Disseminated] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
