"""How an observation merges into what a store already holds.

The embedded store runs these functions; the Neo4j store runs the same rules as Cypher
(see ``graph_models/store/neo4j_cypher.py``). The behaviour suite checks that both agree.
"""

from __future__ import annotations

from typing import Any

from graph_models.records import RECORD_ID_CAP, Provenance, StoredProvenance, compartment_of
from graph_models.schema import PROVENANCE_PROPERTIES


def _add(items: list[str], item: str, cap: int | None = None) -> list[str]:
    if item in items or (cap is not None and len(items) >= cap):
        return items
    return [*items, item]


def merge_observation(
    stored: dict[str, Any] | None, properties: dict[str, Any], provenance: Provenance
) -> dict[str, Any]:
    """Return the flat property map after one observation.

    Later observations overwrite properties they carry (a corrected re-delivery wins); lists of
    provenance grow as ordered sets, so re-loading the same record changes nothing; first/last
    seen keep the earliest and latest record dates.
    """
    out = dict(stored or {})
    out.update(properties)
    out["agencies"] = _add(out.get("agencies", []), provenance.agency.value)
    out["compartments"] = _add(out.get("compartments", []), compartment_of(provenance.agency))
    out["sources"] = _add(out.get("sources", []), provenance.source)
    out["record_ids"] = _add(out.get("record_ids", []), provenance.record, RECORD_ID_CAP)
    seen = provenance.seen
    if seen is not None:
        first, last = out.get("first_seen"), out.get("last_seen")
        out["first_seen"] = seen if first is None or seen < first else first
        out["last_seen"] = seen if last is None or seen > last else last
    return out


def split_stored(flat: dict[str, Any]) -> tuple[dict[str, Any], StoredProvenance]:
    """Separate a stored property map into domain properties and provenance."""
    props = {k: v for k, v in flat.items() if k not in PROVENANCE_PROPERTIES and k != "key"}
    prov = StoredProvenance.model_validate(
        {k: flat[k] for k in PROVENANCE_PROPERTIES if flat.get(k) is not None}
    )
    return props, prov
