"""Edge scans: the relationships' ends, key and chosen properties, on both stores alike."""

from __future__ import annotations

import pytest

from graph_models.errors import SchemaError
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from tests.factories import node, rel


def test_edges_are_the_relationships_without_provenance(store: GraphStore) -> None:
    store.write_nodes(
        [
            node("company:customs:tax:GB1", name="Alpha"),
            node("person:fiu:id:X1", name="Carol"),
            node("account:fiu:GB00X1", account_number="X1"),
            node("declaration:GB:1:1", flow="export"),
            node("entity:1", name="Carol", kind="person"),
        ]
    )
    store.write_relationships(
        [
            rel(
                RelType.DECLARED,
                "company:customs:tax:GB1",
                "declaration:GB:1:1",
                "exporter",
                role="exporter",
            ),
            rel(RelType.DECLARED, "person:fiu:id:X1", "declaration:GB:1:1", "declarant"),
            rel(RelType.HOLDS, "person:fiu:id:X1", "account:fiu:GB00X1", role="signatory"),
            rel(RelType.SAME_AS, "person:fiu:id:X1", "entity:1", score=0.75),
        ]
    )
    types = [RelType.DECLARED, RelType.HOLDS]
    edges = sorted(store.iter_edges(types, ["role"]))
    assert edges == sorted(
        (r.type, r.start, r.end, r.key, (r.properties.get("role"),))
        for r in store.iter_relationships(types)
    )
    (same,) = store.iter_edges([RelType.SAME_AS], ["score", "method"])
    assert (same.start, same.end, same.values) == ("person:fiu:id:X1", "entity:1", (0.75, None))
    assert sorted(e[:4] for e in store.iter_edges(types)) == [e[:4] for e in edges]


def test_edge_properties_must_be_in_the_schema(store: GraphStore) -> None:
    with pytest.raises(SchemaError):
        list(store.iter_edges([RelType.DECLARED, RelType.FILED], ["role"]))
