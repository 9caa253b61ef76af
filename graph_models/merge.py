"""How an observation merges into what a store already holds.

The embedded store runs these functions (inside SQLite, as the upsert's conflict function);
the Neo4j store runs the same rules as Cypher (see ``graph_models/store/neo4j_cypher.py``).
The behaviour suite checks that both agree.
"""

from __future__ import annotations

from typing import Any

from graph_models.records import RECORD_ID_CAP, Provenance, StoredProvenance, compartment_of
from graph_models.schema import PROVENANCE_PROPERTIES

_SETS = ("agencies", "compartments", "sources")


def fresh(properties: dict[str, Any], provenance: Provenance) -> dict[str, Any]:
    """The flat property map of an element seen once: its properties plus this provenance."""
    out = dict(properties)
    out["agencies"] = [provenance.agency.value]
    out["compartments"] = [compartment_of(provenance.agency)]
    out["sources"] = [provenance.source]
    out["record_ids"] = [provenance.record]
    if provenance.seen is not None:
        out["first_seen"] = out["last_seen"] = provenance.seen
    return out


def _union(items: list[str], new: list[str], cap: int | None = None) -> list[str]:
    out = list(items)
    for item in new:
        if item not in out and (cap is None or len(out) < cap):
            out.append(item)
    return out


def merge_flat(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """Merge a later observation's flat map into the stored one.

    Later observations overwrite properties they carry (a corrected re-delivery wins); lists of
    provenance grow as ordered sets, so re-loading the same record changes nothing; record ids
    are capped on hubs; first/last seen keep the earliest and latest record dates.
    """
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


def merge_observation(
    stored: dict[str, Any] | None, properties: dict[str, Any], provenance: Provenance
) -> dict[str, Any]:
    """The flat map after one more observation of an element (None: not stored yet)."""
    new = fresh(properties, provenance)
    return new if stored is None else merge_flat(stored, new)


def split_stored(flat: dict[str, Any]) -> tuple[dict[str, Any], StoredProvenance]:
    """Separate a stored property map into domain properties and provenance."""
    props = {k: v for k, v in flat.items() if k not in PROVENANCE_PROPERTIES and k != "key"}
    prov = StoredProvenance.model_validate(
        {k: flat[k] for k in PROVENANCE_PROPERTIES if flat.get(k) is not None}
    )
    return props, prov
