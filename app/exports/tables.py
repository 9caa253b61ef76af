"""The export as plain tables: nodes, relationships, alerts, timeline, withheld markers.

The same tables go to CSV (one file each) and to one XLSX workbook (one sheet each, plus an
"About" sheet naming requester, purpose, case and scope, so a printed sheet still says what it
is). Every row carries its provenance: agencies, sources and record ids.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.exports.labels import Names, records, sources
from app.exports.model import ExportMaterial, Files
from app.exports.sheets import Cell, Table, to_csv, to_xlsx
from app.exports.text import joined
from graph_models.records import Scalar
from queries.access import rel_id


def _properties(props: Mapping[str, Scalar]) -> str:
    return "; ".join(f"{k}={joined(v)}" for k, v in sorted(props.items()))


def tables(material: ExportMaterial) -> list[Table]:
    names = Names(material)
    nodes = Table(
        "nodes",
        ["key", "label", "type", "agencies", "sources", "record_ids", "partial", "properties"],
        [
            [
                n.key,
                names.label(n.key),
                n.label.value,
                "; ".join(n.provenance.agencies),
                sources(n.provenance),
                records(n.provenance),
                n.partial,
                _properties(n.properties),
            ]
            for n in material.nodes
        ],
    )
    rels = Table(
        "relationships",
        [
            "identity",
            "type",
            "start",
            "start_label",
            "end",
            "end_label",
            "key",
            "agencies",
            "sources",
            "record_ids",
            "partial",
            "properties",
        ],
        [
            [
                rel_id(r),
                r.type.value,
                r.start,
                names.label(r.start),
                r.end,
                names.label(r.end),
                r.key,
                "; ".join(r.provenance.agencies),
                sources(r.provenance),
                records(r.provenance),
                r.partial,
                _properties(r.properties),
            ]
            for r in material.relationships
        ],
    )
    alerts = Table(
        "alerts",
        [
            "id",
            "typology",
            "score",
            "summary",
            "entities",
            "indicators",
            "evidence",
            "detected_on",
            "agencies",
        ],
        [
            [
                a.id,
                a.typology.value,
                a.score,
                a.summary,
                "; ".join(a.entities),
                "; ".join(f"{i.name}={i.value} (threshold {i.threshold})" for i in a.indicators),
                "; ".join(r.key for r in a.records),
                a.detected_on,
                "; ".join(a.agencies),
            ]
            for a in material.alerts
        ],
    )
    timeline = Table(
        "timeline",
        [
            "date",
            "end",
            "kind",
            "party",
            "party_label",
            "record",
            "counterpart",
            "summary",
            "amount",
            "currency",
            "agencies",
            "sources",
            "record_ids",
        ],
        [
            [
                e.date,
                e.end,
                e.kind.value,
                e.party,
                names.label(e.party),
                e.record,
                e.counterpart,
                e.summary,
                e.amount,
                e.currency,
                "; ".join(e.agencies),
                sources(e.provenance),
                records(e.provenance),
            ]
            for e in material.events
        ],
    )
    withheld = Table(
        "withheld",
        ["compartment", "kind", "count", "note"],
        [[w.compartment, w.kind, w.count, w.note] for w in material.withheld],
    )
    return [nodes, rels, alerts, timeline, withheld]


def about(material: ExportMaterial) -> Table:
    rows: list[list[Cell]] = [
        ["title", material.title],
        ["requested_by", f"{material.requested_by} ({material.agency})"],
        ["purpose", material.purpose],
        ["case_id", material.case_id],
        ["legal_basis", material.legal_basis],
        ["generated_at", material.generated_at],
        ["compartments", "; ".join(material.compartments)],
        ["disseminated", "; ".join(f"{d.key} ({d.legal_basis})" for d in material.disseminated)],
    ]
    return Table("about", ["field", "value"], rows)


def write_csv(material: ExportMaterial) -> Files:
    return {f"{t.name}.csv": to_csv(t) for t in tables(material)}


def write_xlsx(material: ExportMaterial) -> Files:
    return {"tables.xlsx": to_xlsx([about(material), *tables(material)])}
