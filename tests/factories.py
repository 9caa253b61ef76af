"""Tiny factories for graph writes, so tests read as the scenario they build."""

from __future__ import annotations

from typing import Any

from graph_models.records import Agency, NodeWrite, Provenance, RelWrite
from graph_models.schema import SCHEMA, RelType


def prov(
    agency: str = "customs",
    file: str = "declarations.csv",
    record: str = "row 2",
    load: str = "load-1",
    seen: str | None = "2024-03-01",
) -> Provenance:
    return Provenance(
        agency=Agency(agency), source_file=file, record_id=record, load_id=load, seen=seen
    )


def node(key: str, provenance: Provenance | None = None, **props: Any) -> NodeWrite:
    label = SCHEMA.label_of_key(key)
    required = {n: _placeholder(n) for n in SCHEMA.nodes[label].required if n not in props}
    return NodeWrite(
        label=label, key=key, properties={**required, **props}, provenance=provenance or prov()
    )


def rel(
    rel_type: RelType | str,
    start: str,
    end: str,
    key: str = "",
    provenance: Provenance | None = None,
    **props: Any,
) -> RelWrite:
    spec = SCHEMA.relationship(rel_type)
    required = {n: _placeholder(n) for n, p in spec.properties.items() if p.required}
    required = {n: v for n, v in required.items() if n not in props}
    return RelWrite(
        type=spec.type,
        start=start,
        end=end,
        key=key,
        properties={**required, **props},
        provenance=provenance or prov(),
    )


def _placeholder(name: str) -> Any:
    if name == "date":
        return "2024-03-01"
    if name in ("amount", "value"):
        return 100.0
    return f"{name}-value"
