from __future__ import annotations

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Alert, Indicator, Typology, alert_id, save_alerts
from queries.misinvoicing import PartyIndex
from queries.priority import PriorityConfig, prioritise, risk_projection
from tests.queries.test_misinvoicing import TradeGraph

HUB = "company:customs:tax:GBHUB"
LONER = "company:registry:reg:GB:LONE"


def _star(g: TradeGraph, leaves: int = 4) -> list[str]:
    g.company(HUB, "Hub Trading", "GB", tax_id="GBHUB")
    out = []
    for i in range(leaves):
        leaf = g.company(f"company:customs:name:CN:leaf {i}", f"Leaf {i}", "CN")
        g.declaration(
            f"H{i}", flow="import", country="GB", date="2023-03-01", sender=leaf, receiver=HUB
        )
        out.append(leaf)
    g.company(LONER, "Loner Ltd", "GB", "registry")
    return out


def _alert(typology: Typology, entities: list[str], score: float) -> Alert:
    return Alert(
        id=alert_id(typology, entities),
        typology=typology,
        detector="test",
        score=score,
        summary="test alert",
        entities=entities,
        indicators=[Indicator(name="x", value=1.0)],
    )


def test_a_hub_with_alerts_ranks_above_an_isolated_node(store: GraphStore) -> None:
    g = TradeGraph()
    leaves = _star(g)
    g.write(store)
    alerts = [_alert(Typology.OVER_INVOICING, [HUB, leaves[0]], 5.0)]

    ranked = prioritise(store, alerts)

    keys = [e.key for e in ranked]
    hub = next(e for e in ranked if HUB in e.records)
    loner = next(e for e in ranked if LONER in e.records)
    assert keys[0] == hub.key
    assert keys.index(hub.key) < keys.index(loner.key)
    assert hub.alert_component == 1.0
    assert hub.pagerank_component == 1.0  # the centre of the star
    assert hub.betweenness_component == 1.0
    assert hub.typologies == ["over_invoicing"]
    assert hub.alert_count == 1
    assert (loner.alert_component, loner.betweenness, loner.degree) == (0.0, 0.0, 0)
    assert hub.priority == pytest.approx(1.0)


def test_alert_scores_are_relative_to_their_typology(store: GraphStore) -> None:
    g = TradeGraph()
    leaves = _star(g)
    g.write(store)
    # Different scales: a shell score of 12 and a mis-invoicing log-value of 4 are both the
    # top of their typology, so both leaves get the same alert component.
    alerts = [
        _alert(Typology.SHELL_NETWORK, [leaves[1]], 12.0),
        _alert(Typology.UNDER_INVOICING, [leaves[2]], 4.0),
        _alert(Typology.UNDER_INVOICING, [leaves[3]], 2.0),
    ]
    by_record = {r: e for e in prioritise(store, alerts) for r in e.records}
    assert by_record[leaves[1]].alert_component == by_record[leaves[2]].alert_component == 1.0
    assert by_record[leaves[3]].alert_component == pytest.approx(0.5)
    weighted = PriorityConfig(typology_weights={Typology.SHELL_NETWORK: 0.5})
    by_record = {r: e for e in prioritise(store, alerts, config=weighted) for r in e.records}
    assert by_record[leaves[1]].alert_score == pytest.approx(0.5)


def test_alerts_raise_the_weight_of_the_edges_they_name(store: GraphStore) -> None:
    g = TradeGraph()
    leaves = _star(g)
    g.write(store)
    index = PartyIndex.build(store)
    hub = index.identity(HUB)
    alerts = [_alert(Typology.MIRROR_DISCREPANCY, [HUB, leaves[0]], 3.0)] * 2
    graph = risk_projection(store, alerts, index, PriorityConfig(alert_edge_boost=1.5))
    assert graph[hub][leaves[0]]["weight"] == pytest.approx(4.0)  # 1 + 2 alerts x 1.5
    assert graph[hub][leaves[1]]["weight"] == 1.0


def test_stored_alerts_are_used_by_default_and_sampling_is_reproducible(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    leaves = _star(g, leaves=6)
    g.link(RelType.SHIPPED_TO, leaves[0], leaves[1], key="x", date="2023-01-01", value=1.0)
    g.write(store)
    save_alerts(store, [_alert(Typology.CIRCULAR_TRADE, [leaves[0], leaves[1]], 2.0)])

    ranked = prioritise(store)
    assert {e.key for e in ranked if e.alert_count} == {leaves[0], leaves[1]}
    sampled = PriorityConfig(exact_betweenness_max=2, betweenness_samples=3, seed=7)
    assert prioritise(store, config=sampled) == prioritise(store, config=sampled)
    assert prioritise(store, limit=2) == ranked[:2]
