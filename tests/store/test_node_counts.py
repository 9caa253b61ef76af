"""node_counts: the per-label count the search index checks its freshness with."""

from __future__ import annotations

from graph_models.schema import Label
from graph_models.store.base import GraphStore
from tests.factories import node

LABELS = [Label.COMPANY, Label.PERSON, Label.RESOLVED_ENTITY]


def test_node_counts_agree_with_the_full_tally(store: GraphStore) -> None:
    store.write_nodes(
        [
            node("company:customs:tax:GB123"),
            node("company:tax:tax:GB9"),
            node("person:customs:passport:X1"),
        ]
    )
    counts = store.node_counts(LABELS)
    assert counts == {"Company": 2, "Person": 1, "ResolvedEntity": 0}
    assert counts == {label.value: store.counts().nodes.get(label.value, 0) for label in LABELS}


def test_an_empty_store_counts_zero(store: GraphStore) -> None:
    assert store.node_counts(LABELS) == dict.fromkeys(["Company", "Person", "ResolvedEntity"], 0)
