"""How observations merge: into each other inside a batch, and into what a store holds.

An element is stored as one flat map: its domain properties plus the provenance lists
(agencies, compartments, sources, record ids) and first/last seen. The same rules apply at
every step, so the result does not depend on how observations were batched:

- a later observation overwrites the properties it carries (a corrected re-delivery wins), and a
  missing value never erases one;
- provenance lists grow as ordered sets, so re-loading the same record changes nothing; record
  ids stop growing at RECORD_ID_CAP (a hub keeps its first ones; every mention's own record is on
  the relationship it created);
- first/last seen keep the earliest and latest record dates.

Ordered-set union and min/max are associative, so merging a batch first and then into the
store equals merging one observation at a time. The embedded store runs ``merge_flat`` inside
SQLite; the Neo4j store runs the same rules in Cypher (``neo4j_cypher.merge_*``); the behaviour
suite checks that both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graph_models.records import (
    RECORD_ID_CAP,
    Agency,
    NodeWrite,
    Provenance,
    RelWrite,
    StoredProvenance,
    compartment_of,
)
from graph_models.schema import PROVENANCE_PROPERTIES, Label, RelType

NodeMap = tuple[Label, str, dict[str, Any]]
RelMap = tuple[RelType, str, str, str, dict[str, Any]]
_SETS = ("agencies", "compartments", "sources")
# Provenance lists that follow from ``sources`` ("agency|file|load_id"); a store may leave them
# out and have them derived on read (see derive_sets).
DERIVED_SETS = ("agencies", "compartments")


@dataclass(frozen=True, slots=True)
class Observed:
    """The provenance of one record, as the strings the stores keep."""

    agency: str
    compartment: str
    source: str
    record: str
    seen: str | None

    @classmethod
    def of(cls, provenance: Provenance) -> Observed:
        return cls(
            agency=provenance.agency.value,
            compartment=compartment_of(provenance.agency),
            source=provenance.source,
            record=provenance.record,
            seen=provenance.seen,
        )


def fresh_flat(properties: dict[str, Any], obs: Observed) -> dict[str, Any]:
    """The flat map of an element seen once."""
    out = dict(properties)
    out["agencies"] = [obs.agency]
    out["compartments"] = [obs.compartment]
    out["sources"] = [obs.source]
    out["record_ids"] = [obs.record]
    if obs.seen is not None:
        out["first_seen"] = out["last_seen"] = obs.seen
    return out


def absorb(flat: dict[str, Any], properties: dict[str, Any], obs: Observed) -> None:
    """Merge one more observation into ``flat`` in place (the writer's hot path)."""
    flat.update(properties)
    for name, item in (
        ("agencies", obs.agency),
        ("compartments", obs.compartment),
        ("sources", obs.source),
    ):
        if item not in flat[name]:
            flat[name].append(item)
    records = flat["record_ids"]
    if len(records) < RECORD_ID_CAP and obs.record not in records:
        records.append(obs.record)
    seen = obs.seen
    if seen is not None:
        first = flat.get("first_seen")
        if first is None or seen < first:
            flat["first_seen"] = seen
        last = flat.get("last_seen")
        if last is None or seen > last:
            flat["last_seen"] = seen


def derive_sets(sources: list[str]) -> tuple[list[str], list[str]]:
    """Agencies and compartments as ``absorb`` would have listed them for these sources.

    Each source adds its agency and compartment when it is first seen, so the lists are the
    sources' agencies in order of first appearance.
    """
    agencies: list[str] = []
    compartments: list[str] = []
    for source in sources:
        agency = source.partition("|")[0]
        if agency not in agencies:
            agencies.append(agency)
            compartment = compartment_of(Agency(agency))
            if compartment not in compartments:
                compartments.append(compartment)
    return agencies, compartments


def _union(items: list[str], new: list[str], cap: int | None = None) -> list[str]:
    out = list(items)
    for item in new:
        if item not in out and (cap is None or len(out) < cap):
            out.append(item)
    return out


def merge_flat(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """Merge a later flat map into a stored one (both may hold several observations)."""
    out = dict(stored)
    out.update({k: v for k, v in incoming.items() if k not in PROVENANCE_PROPERTIES})
    for name in _SETS:
        out[name] = _union(stored.get(name, []), incoming.get(name, []))
    out["record_ids"] = _union(
        stored.get("record_ids", []), incoming.get("record_ids", []), RECORD_ID_CAP
    )
    for name, pick in (("first_seen", min), ("last_seen", max)):
        values = [v for v in (stored.get(name), incoming.get(name)) if v is not None]
        if values:
            out[name] = pick(values)
    return out


def coalesce_nodes(rows: Iterable[NodeWrite]) -> list[NodeMap]:
    """One flat map per node key, observations merged in order."""
    merged: dict[str, NodeMap] = {}
    for row in rows:
        entry = merged.get(row.key)
        obs = Observed.of(row.provenance)
        if entry is None:
            merged[row.key] = (row.label, row.key, fresh_flat(row.properties, obs))
        else:
            absorb(entry[2], row.properties, obs)
    return list(merged.values())


def coalesce_relationships(rows: Iterable[RelWrite]) -> list[RelMap]:
    merged: dict[tuple[str, str, str, str], RelMap] = {}
    for row in rows:
        ident = (row.type.value, row.start, row.end, row.key)
        entry = merged.get(ident)
        obs = Observed.of(row.provenance)
        if entry is None:
            merged[ident] = (row.type, row.start, row.end, row.key, fresh_flat(row.properties, obs))
        else:
            absorb(entry[4], row.properties, obs)
    return list(merged.values())


def split_stored(flat: dict[str, Any]) -> tuple[dict[str, Any], StoredProvenance]:
    """Separate a stored property map into domain properties and provenance.

    The stores wrote these maps themselves, so they are rebuilt without validation
    (``model_construct``): analytics stream millions of them and validation dominated.
    """
    props = {k: v for k, v in flat.items() if k not in PROVENANCE_PROPERTIES and k != "key"}
    prov = StoredProvenance.model_construct(
        agencies=list(flat.get("agencies") or []),
        compartments=list(flat.get("compartments") or []),
        sources=list(flat.get("sources") or []),
        record_ids=list(flat.get("record_ids") or []),
        first_seen=flat.get("first_seen"),
        last_seen=flat.get("last_seen"),
    )
    return props, prov


def split_flat(flat: dict[str, Any]) -> dict[str, Any]:
    """A flat map as Cypher parameters: domain properties apart from provenance."""
    return {
        "props": {k: v for k, v in flat.items() if k not in PROVENANCE_PROPERTIES},
        "agencies": flat["agencies"],
        "compartments": flat["compartments"],
        "sources": flat["sources"],
        "record_ids": flat["record_ids"],
        "first_seen": flat.get("first_seen"),
        "last_seen": flat.get("last_seen"),
    }
