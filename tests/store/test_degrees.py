"""Degrees, exact and capped (the hub check of neighbourhoods and paths), on both stores."""

from __future__ import annotations

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from tests.factories import node, rel

HUB = "country:GB"


def _star(store: GraphStore, spokes: int) -> list[str]:
    companies = [f"company:customs:name:c{i}:GB" for i in range(spokes)]
    store.write_nodes([node(HUB, code="GB"), *(node(c, name=c) for c in companies)])
    store.write_relationships([rel(RelType.IN_COUNTRY, c, HUB) for c in companies])
    return companies


def test_degrees_count_every_relationship(store: GraphStore) -> None:
    companies = _star(store, 12)
    degrees = store.degrees([HUB, companies[0], "company:customs:name:none:GB"])
    assert degrees == {HUB: 12, companies[0]: 1, "company:customs:name:none:GB": 0}


def test_capped_degrees_are_exact_up_to_the_cap_and_above_it_beyond(store: GraphStore) -> None:
    companies = _star(store, 12)
    assert store.capped_degrees([HUB, companies[3]], 12) == {HUB: 12, companies[3]: 1}
    capped = store.capped_degrees([HUB, companies[3]], 5)
    assert capped[HUB] > 5
    assert capped[companies[3]] == 1
