"""Alerts: what every detector produces, and how alerts are kept in the graph.

An alert names its typology, a score, a one-line summary, the entities involved and its
evidence: for each indicator the value that triggered it and the threshold it crossed, and the
source records it rests on with their provenance. Its id is a hash of the typology and the
sorted member keys (plus an optional discriminator such as a period), so re-running a detector
finds the same alert instead of adding another; a re-run only refreshes score and evidence.

Alerts are ``Alert`` nodes with ``FLAGS`` edges to what they name, so both stores keep them and
the compartments of the evidence travel with them: an alert observed from FIU records carries
the FIU compartment, and access control filters it like any FIU fact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graph_models.records import (
    Agency,
    Node,
    NodeWrite,
    Provenance,
    RelWrite,
    StoredProvenance,
)
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from loaders.writer import BatchWriter


class Typology(StrEnum):
    CIRCULAR_TRADE = "circular_trade"
    VAT_CAROUSEL = "vat_carousel"
    ROUND_TRIPPING = "round_tripping"
    SHELL_NETWORK = "shell_network"
    UNDER_INVOICING = "under_invoicing"
    OVER_INVOICING = "over_invoicing"
    MIRROR_DISCREPANCY = "mirror_discrepancy"
    CUSTOMS_TAX_DISCREPANCY = "customs_tax_discrepancy"
    STRUCTURING = "structuring"
    CASH_SMUGGLING = "cash_smuggling"
    FUNNEL_ACCOUNT = "funnel_account"


class Indicator(BaseModel):
    """One reason an alert fired: the value observed and the threshold it crossed."""

    model_config = ConfigDict(extra="forbid")

    name: str
    value: float | str | bool
    threshold: float | str | bool | None = None
    explanation: str = ""


class EvidenceRecord(BaseModel):
    """A source record (node or relationship) the alert rests on, with its provenance."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="node key, or type:start>end#key for a relationship")
    label: str
    date: str | None = None
    amount: float | None = None
    provenance: StoredProvenance


class Alert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    typology: Typology
    detector: str
    score: float = Field(ge=0)
    summary: str
    entities: list[str] = Field(description="keys of the parties / accounts involved")
    indicators: list[Indicator]
    records: list[EvidenceRecord] = Field(default_factory=list)
    detected_on: str | None = Field(default=None, description="latest record date involved")
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def agencies(self) -> list[str]:
        """Agencies whose records the alert rests on (the compartments it belongs to)."""
        seen: dict[str, None] = {}
        for record in self.records:
            for agency in record.provenance.agencies:
                seen.setdefault(agency, None)
        return list(seen)


def alert_id(typology: Typology, members: Iterable[str], discriminator: str = "") -> str:
    """A stable id: the same typology over the same members (and period) is the same alert,
    whatever order the detector found them in (a cycle found from any rotation included)."""
    payload = "\x1f".join([typology.value, discriminator, *sorted(set(members))])
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]
    return SCHEMA.make_key(Label.ALERT, typology.value, digest)


def save_alerts(store: GraphStore, alerts: Sequence[Alert], *, batch_size: int = 2_000) -> int:
    """Write alerts as Alert nodes with FLAGS edges; return how many were written."""
    with BatchWriter(store, batch_size=batch_size) as writer:
        for alert in alerts:
            agencies = alert.agencies or [Agency.EXTERNAL.value]
            known = store.get_nodes(alert.entities)
            for agency in agencies:
                prov = Provenance(
                    agency=Agency(agency),
                    source_file=f"detector:{alert.detector}",
                    record_id=alert.id,
                    load_id="detection",
                    seen=alert.detected_on,
                )
                writer.add_node(
                    NodeWrite(
                        label=Label.ALERT,
                        key=alert.id,
                        properties={
                            "typology": alert.typology.value,
                            "score": round(alert.score, 6),
                            "summary": alert.summary,
                            "detector": alert.detector,
                            "evidence_json": evidence_json(alert),
                            "entities": sorted(alert.entities),
                            "detected_on": alert.detected_on,
                        },
                        provenance=prov,
                    )
                )
                for key in sorted(known):
                    writer.add_relationship(
                        RelWrite(
                            type=RelType.FLAGS,
                            start=alert.id,
                            end=key,
                            properties={"role": "member"},
                            provenance=prov,
                        )
                    )
    return len(alerts)


def evidence_json(alert: Alert) -> str:
    return json.dumps(
        {
            "indicators": [i.model_dump() for i in alert.indicators],
            "records": [r.model_dump() for r in alert.records],
            "details": alert.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def alert_from_node(node: Node) -> Alert:
    """An ``Alert`` rebuilt from its stored node."""
    props = node.properties
    evidence = json.loads(str(props["evidence_json"]))
    return Alert.model_validate(
        {
            "id": node.key,
            "typology": props["typology"],
            "detector": props["detector"],
            "score": props["score"],
            "summary": props["summary"],
            "entities": props.get("entities", []),
            "detected_on": props.get("detected_on"),
            **evidence,
        }
    )


def load_alerts(store: GraphStore) -> list[Alert]:
    """Every stored alert, rebuilt from its node."""
    return [alert_from_node(node) for node in store.iter_nodes([Label.ALERT])]
