"""Circular trade and round-tripping: the temporal cycle finder and the detector."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_models.records import NodeWrite, RelWrite
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Typology, save_alerts
from queries.cycles import (
    CycleConfig,
    SearchStats,
    TemporalEdge,
    detect_cycles,
    find_temporal_cycles,
)
from queries.projection import FlowKind, ProjectionConfig
from tests.factories import node, prov, rel
from tests.queries.test_projection import (
    account,
    company,
    entity,
    holds,
    pay,
    person,
    same_as,
    ship,
    write,
)

A, B, C, D = (f"company:customs:tax:{x}" for x in "ABCD")


# --- the reference: networkx's static cycles, filtered afterwards -----------------------------
def reference_cycles(
    edges: Sequence[TemporalEdge],
    *,
    max_length: int,
    min_length: int,
    window_days: int,
    tolerance: float | None,
    strictly_later: bool,
) -> set[tuple[int, ...]]:
    """Every static simple cycle (``networkx.simple_cycles``) expanded to each choice of
    parallel edge and each rotation, kept when time-respecting, inside the window, in one
    group and inside the tolerance, then put in canonical rotation: the valid rotation whose
    first edge comes first in (day, index) order."""
    graph = nx.MultiDiGraph()
    for i, e in enumerate(edges):
        if e.source != e.target:
            graph.add_edge(e.source, e.target, key=i)
    ratio = float("inf") if tolerance is None else 1.0 + tolerance
    out: set[tuple[int, ...]] = set()
    for nodes in nx.simple_cycles(graph, length_bound=max_length):
        k = len(nodes)
        if k < max(2, min_length):
            continue
        hops = [(nodes[i], nodes[(i + 1) % k]) for i in range(k)]
        for combo in itertools.product(*(sorted(graph[u][v]) for u, v in hops)):
            valid = []
            for r in range(k):
                rotation = combo[r:] + combo[:r]
                cyc = [edges[i] for i in rotation]
                days = [e.day for e in cyc]
                ordered = all(
                    (a < b) if strictly_later else (a <= b) for a, b in itertools.pairwise(days)
                )
                if not ordered or days[-1] - days[0] > window_days:
                    continue
                if len({e.group for e in cyc}) != 1:
                    continue
                if tolerance is not None:
                    values = [e.value for e in cyc]
                    if any(v is None or v <= 0 for v in values):
                        continue
                    positive = [v for v in values if v is not None]
                    if max(positive) > ratio * min(positive):
                        continue
                valid.append(rotation)
            if valid:
                out.add(min(valid, key=lambda rot: (edges[rot[0]].day, rot[0])))
    return out


_edge = st.builds(
    TemporalEdge,
    source=st.integers(0, 5),
    target=st.integers(0, 5),
    day=st.integers(0, 10),
    value=st.sampled_from([None, 0.0, 80.0, 100.0, 110.0, 124.0, 126.0, 160.0]),
    group=st.sampled_from(["EUR", "EUR", "USD"]),
)


@settings(max_examples=400, deadline=None)
@given(
    edges=st.lists(_edge, max_size=18),
    max_length=st.integers(2, 6),
    min_length=st.integers(2, 6),
    window_days=st.integers(0, 10),
    tolerance=st.sampled_from([None, 0.1, 0.25, 0.6]),
    strictly_later=st.booleans(),
)
def test_finder_equals_filtered_networkx_simple_cycles(
    edges: list[TemporalEdge],
    max_length: int,
    min_length: int,
    window_days: int,
    tolerance: float | None,
    strictly_later: bool,
) -> None:
    found = find_temporal_cycles(
        edges,
        max_length=max_length,
        min_length=min_length,
        window_days=window_days,
        tolerance=tolerance,
        strictly_later=strictly_later,
    )
    assert len(found) == len(set(found)), "a cycle was reported twice"
    assert set(found) == reference_cycles(
        edges,
        max_length=max_length,
        min_length=min_length,
        window_days=window_days,
        tolerance=tolerance,
        strictly_later=strictly_later,
    )


def test_each_cycle_once_whatever_edge_the_search_starts_from() -> None:
    ring = [
        TemporalEdge(0, 1, 1, 100.0),
        TemporalEdge(1, 2, 2, 100.0),
        TemporalEdge(2, 0, 3, 100.0),
    ]
    assert find_temporal_cycles(ring) == [(0, 1, 2)]
    # Listed in another order the same ring is still one cycle, from its first flow in time.
    shuffled = [ring[2], ring[0], ring[1]]
    assert find_temporal_cycles(shuffled) == [(1, 2, 0)]
    # All on one day: every rotation is time-respecting, one is reported.
    same_day = [
        TemporalEdge(0, 1, 5, 100.0),
        TemporalEdge(1, 2, 5, 100.0),
        TemporalEdge(2, 0, 5, 100.0),
    ]
    assert find_temporal_cycles(same_day) == [(0, 1, 2)]
    assert find_temporal_cycles(same_day, strictly_later=True) == []


def test_time_order_window_and_tolerance_break_cycles() -> None:
    out_of_order = [
        TemporalEdge(0, 1, 5, 100.0),
        TemporalEdge(1, 2, 3, 100.0),
        TemporalEdge(2, 0, 8, 100.0),
    ]
    assert find_temporal_cycles(out_of_order) == []
    too_slow = [TemporalEdge(0, 1, 0, 100.0), TemporalEdge(1, 0, 200, 100.0)]
    assert find_temporal_cycles(too_slow, window_days=180) == []
    assert find_temporal_cycles(too_slow, window_days=200) == [(0, 1)]
    off_value = [TemporalEdge(0, 1, 0, 100.0), TemporalEdge(1, 0, 1, 126.0)]
    assert find_temporal_cycles(off_value, tolerance=0.25) == []
    assert find_temporal_cycles(off_value, tolerance=0.3) == [(0, 1)]
    mixed_currency = [TemporalEdge(0, 1, 0, 100.0, "EUR"), TemporalEdge(1, 0, 1, 100.0, "XXX")]
    assert find_temporal_cycles(mixed_currency) == []


def test_the_step_budget_stops_a_search_and_says_so() -> None:
    # Four parallel flows on each of four hops: 4^4 cycles from the first anchors.
    ring = [TemporalEdge(h, (h + 1) % 4, 10 * h + k, 100.0) for h in range(4) for k in range(4)]
    assert len(find_temporal_cycles(ring)) == 4**4
    stats = SearchStats()
    capped = find_temporal_cycles(ring, max_steps_per_anchor=5, stats=stats)
    assert 0 < len(capped) < 4**4
    assert stats.truncated
    assert stats.anchors == len(ring)


# --- the detector on both stores ----------------------------------------------------------------
def _ring(
    store: GraphStore, days: tuple[int, int, int], values: tuple[float, float, float]
) -> None:
    write(
        store,
        [company(A, "GB"), company(B, "NL"), company(C, "DE")],
        [
            ship(A, B, days[0], values[0], n=1),
            ship(B, C, days[1], values[1], n=2),
            ship(C, A, days[2], values[2], n=3),
        ],
    )


def test_goods_ring_is_one_circular_trade_alert_citing_its_declarations(store: GraphStore) -> None:
    _ring(store, (0, 20, 45), (100_000.0, 104_000.0, 108_000.0))
    (alert,) = detect_cycles(store)
    assert alert.typology is Typology.CIRCULAR_TRADE
    assert {A, B, C} <= set(alert.entities)
    assert alert.details["ring"] == [A, B, C]
    assert sorted(r.key for r in alert.records) == [
        "declaration:GB:A-B:1",
        "declaration:GB:B-C:2",
        "declaration:GB:C-A:3",
    ]
    assert all(r.provenance.agencies == ["customs"] for r in alert.records)
    indicators = {i.name: i for i in alert.indicators}
    assert indicators["cycle_days"].value == 45
    assert indicators["cycle_days"].threshold == 180
    assert indicators["borders_crossed"].value == 3
    assert indicators["value_spread"].value == pytest.approx(0.08)
    assert alert.detected_on == "2023-02-16"
    assert alert.summary.startswith("Goods went round: A -> B -> C -> A (3 hops, 3 borders)")
    assert "in 45 days" in alert.summary


def test_a_ring_that_breaks_time_order_is_not_an_alert(store: GraphStore) -> None:
    _ring(store, (30, 10, 45), (100_000.0, 100_000.0, 100_000.0))
    assert detect_cycles(store) == []


def test_a_ring_whose_values_drift_beyond_the_tolerance_is_not_an_alert(store: GraphStore) -> None:
    _ring(store, (0, 10, 20), (100_000.0, 115_000.0, 130_000.0))
    assert detect_cycles(store) == []
    loose = detect_cycles(store, config=CycleConfig(value_tolerance=0.35))
    assert [a.typology for a in loose] == [Typology.CIRCULAR_TRADE]


def test_repeated_rounds_are_one_alert_with_every_cycle_cited_once(store: GraphStore) -> None:
    write(
        store,
        [company(A, "GB"), company(B, "NL")],
        [
            ship(A, B, 0, 50_000.0, n=1),
            ship(B, A, 10, 50_000.0, n=2),
            ship(A, B, 20, 50_000.0, n=3),
            ship(B, A, 30, 50_000.0, n=4),
        ],
    )
    # (Two partners: their declarations are not read for the consignment test here.)
    (alert,) = detect_cycles(store, config=CycleConfig(two_party_quantity_tolerance=None))
    # Four time-respecting cycles: 1-2, 3-4, 1-4 (from A) and 2-3 (from B): one alert.
    cycles = alert.details["cycles"]
    assert len(cycles) == len({tuple(c) for c in cycles}) == 4
    assert alert.details["cycles_found"] == 4
    assert {i.name: i.value for i in alert.indicators}["cycles"] == 4


def test_goods_out_and_money_back_through_a_third_party_is_mixed_circular_trade(
    store: GraphStore,
) -> None:
    ent_a, ent_c = "entity:company:a", "entity:company:c"
    a_fiu, c_fiu = "company:fiu:tax:A", "company:fiu:tax:C"
    acc_a, acc_c = "account:GB00A", "account:DE00C"
    write(
        store,
        [
            company(A, "GB"),
            company(B, "NL"),
            company(C, "DE"),
            company(a_fiu, "GB"),
            company(c_fiu, "DE"),
            entity(ent_a),
            entity(ent_c),
            account(acc_a),
            account(acc_c),
        ],
        [
            ship(A, B, 0, 200_000.0),
            ship(B, C, 15, 205_000.0, n=2),
            pay(acc_c, acc_a, 40, 210_000.0),  # C pays A: A's buyer was B
            holds(a_fiu, acc_a),
            holds(c_fiu, acc_c),
            same_as(A, ent_a),
            same_as(a_fiu, ent_a),
            same_as(C, ent_c),
            same_as(c_fiu, ent_c),
        ],
    )
    (alert,) = detect_cycles(store)
    assert alert.typology is Typology.CIRCULAR_TRADE
    assert alert.details["kinds"] == ["goods", "money"]
    assert alert.details["ring"] == [ent_a, B, ent_c]
    assert {acc_a, acc_c, a_fiu, c_fiu, A, C} <= set(alert.entities)
    labels = sorted(r.label for r in alert.records)
    assert labels == ["Declaration", "Declaration", "Transaction"]
    assert sorted(alert.agencies) == ["customs", "fiu"]
    # Without entity resolution the customs and FIU records never meet: no cycle.
    unresolved = CycleConfig(projection=ProjectionConfig(resolve_entities=False))
    assert detect_cycles(store, config=unresolved) == []


def test_a_sale_and_its_payment_are_not_a_cycle(store: GraphStore) -> None:
    ent_a = "entity:company:a"
    acc_b = "account:NL00B"
    write(
        store,
        [company(A, "GB"), company(B, "NL"), entity(ent_a), account(acc_b)],
        [ship(A, B, 0, 10_000.0), pay(acc_b, A, 30, 10_000.0), holds(B, acc_b), same_as(A, ent_a)],
    )
    assert detect_cycles(store) == []


def test_money_out_through_an_offshore_company_and_back_is_round_tripping(
    store: GraphStore,
) -> None:
    home, shell = "company:fiu:tax:HOME", "company:fiu:reg:VG:1"
    acc_home, acc_shell = "account:GB00HOME", "account:VG00SHELL"
    write(
        store,
        [company(home, "GB"), company(shell, "VG"), account(acc_home), account(acc_shell)],
        [
            holds(home, acc_home),
            holds(shell, acc_shell),
            pay(acc_home, acc_shell, 0, 600_000.0),
            pay(acc_shell, acc_home, 21, 590_000.0, n=2),
        ],
    )
    (alert,) = detect_cycles(store)
    assert alert.typology is Typology.ROUND_TRIPPING
    indicators = {i.name: i.value for i in alert.indicators}
    assert indicators["secrecy_jurisdictions"] == "VG"
    assert indicators["borders_crossed"] == 2
    assert {home, shell, acc_home, acc_shell} <= set(alert.entities)
    assert all(r.label == "Transaction" for r in alert.records)
    # Between two parties, the offshore leg is what makes it a round trip, not a refund.
    not_offshore = CycleConfig(secrecy_jurisdictions=frozenset())
    assert detect_cycles(store, config=not_offshore) == []
    either = CycleConfig(secrecy_jurisdictions=frozenset(), two_party_needs_secrecy=False)
    (plain,) = detect_cycles(store, config=either)
    assert plain.typology is Typology.ROUND_TRIPPING
    assert plain.score == pytest.approx(alert.score - 1.0)  # secrecy adds to the score


def test_longer_round_trips_need_only_cross_a_border(store: GraphStore) -> None:
    home, nl, de = "company:fiu:tax:HOME", "company:fiu:tax:NL1", "company:fiu:tax:DE1"
    write(
        store,
        [company(home, "GB"), company(nl, "NL"), company(de, "DE")],
        [
            pay(home, nl, 0, 300_000.0),
            pay(nl, de, 3, 295_000.0, n=2),
            pay(de, home, 9, 290_000.0, n=3),
        ],
    )
    (alert,) = detect_cycles(store)
    assert alert.typology is Typology.ROUND_TRIPPING
    assert "secrecy_jurisdictions" not in {i.name for i in alert.indicators}


def test_a_domestic_money_cycle_is_not_round_tripping(store: GraphStore) -> None:
    one, two, three = (f"company:fiu:tax:{x}" for x in ("ONE", "TWO", "THREE"))
    write(
        store,
        [company(one, "GB"), company(two, "GB"), company(three, "GB")],
        [
            pay(one, two, 0, 1_000.0),
            pay(two, three, 2, 1_000.0, n=2),
            pay(three, one, 5, 1_000.0, n=3),
        ],
    )
    assert detect_cycles(store) == []
    (alert,) = detect_cycles(store, config=CycleConfig(report_domestic_money_cycles=True))
    assert alert.typology is Typology.ROUND_TRIPPING


def test_two_trading_partners_paying_each_other_is_netting(store: GraphStore) -> None:
    write(
        store,
        [company(A, "GB"), company(B, "NL")],
        [ship(A, B, 0, 40_000.0), pay(B, A, 10, 40_000.0, n=1), pay(A, B, 12, 39_000.0, n=2)],
    )
    assert detect_cycles(store) == []


def test_goods_going_round_must_stay_the_same_goods(store: GraphStore) -> None:
    write(
        store,
        [company(A, "GB"), company(B, "NL"), company(C, "DE")],
        [
            ship(A, B, 0, 100_000.0, n=1, hs_code="851712"),
            ship(B, C, 10, 100_000.0, n=2, hs_code="851762"),  # same heading 8517
            ship(C, A, 20, 100_000.0, n=3, hs_code="620342"),  # trousers come back
        ],
    )
    assert detect_cycles(store) == []
    assert len(detect_cycles(store, config=CycleConfig(same_goods_digits=None))) == 1
    # At the chapter level the first two hops agree, the third does not.
    assert detect_cycles(store, config=CycleConfig(same_goods_digits=2)) == []


def test_payments_round_a_trading_ring_join_its_circular_trade_alert(store: GraphStore) -> None:
    _ring(store, (0, 20, 45), (100_000.0, 100_000.0, 100_000.0))
    # Buyers pay sellers, so the money goes round the other way (here in the next round).
    write(
        store,
        [],
        [
            pay(A, C, 50, 100_000.0, n=1),
            pay(C, B, 60, 100_000.0, n=2),
            pay(B, A, 70, 100_000.0, n=3),
        ],
    )
    (alert,) = detect_cycles(store)
    assert alert.typology is Typology.CIRCULAR_TRADE
    assert alert.details["kinds"] == ["goods", "money"]
    assert alert.details["cycles_found"] == 2
    money_only = detect_cycles(store, config=CycleConfig(kinds=frozenset({FlowKind.MONEY})))
    # On the money alone the payments look like a money cycle among foreign parties.
    assert [a.typology for a in money_only] == [Typology.ROUND_TRIPPING]


def test_shell_scores_raise_the_score(store: GraphStore) -> None:
    _ring(store, (0, 20, 45), (100_000.0, 100_000.0, 100_000.0))
    (plain,) = detect_cycles(store)
    (shelled,) = detect_cycles(store, shell_scores={B: 0.8})
    assert shelled.id == plain.id
    assert shelled.score == pytest.approx(plain.score + 0.8)
    assert {i.name: i.value for i in shelled.indicators}["shell_score"] == 0.8


def test_the_alert_id_is_stable_across_stores_and_reruns(store: GraphStore) -> None:
    _ring(store, (0, 20, 45), (100_000.0, 100_000.0, 100_000.0))
    first = detect_cycles(store)
    assert detect_cycles(store) == first
    # Same members, same typology: the id does not depend on what else the graph holds.
    write(store, [company(D, "FR")], [ship(D, A, 3, 5.0, n=9)])
    assert [a.id for a in detect_cycles(store)] == [a.id for a in first]


def test_money_round_trading_partners_without_a_goods_ring_is_left_to_the_carousel(
    store: GraphStore,
) -> None:
    # A sells to B (declared); the other legs are domestic, as in a VAT carousel. The FIU
    # knows the companies by other records, keyed by the same tax ids: trade partners.
    fa, fb, fc = "company:fiu:tax:A", "company:fiu:tax:B", "company:fiu:tax:C"
    write(
        store,
        [
            company(A, "GB"),
            company(B, "NL"),
            company(fa, "GB"),
            company(fb, "NL"),
            company(fc, "GB"),
        ],
        [
            ship(A, B, 0, 80_000.0),
            pay(fa, fc, 10, 80_000.0, n=1),
            pay(fc, fb, 12, 80_000.0, n=2),
            pay(fb, fa, 14, 80_000.0, n=3),
        ],
    )
    # Not round-tripping (they trade), and not a goods ring: the carousel detector's case.
    assert detect_cycles(store) == []
    (alert,) = detect_cycles(store, config=CycleConfig(report_settlement_cycles=True))
    assert alert.typology is Typology.CIRCULAR_TRADE
    assert alert.details["kinds"] == ["money"]
    assert alert.details["goods_ring"] is False
    assert alert.summary.endswith("they trade goods with each other")


def test_borders_come_from_the_declarations_when_they_name_both_countries(
    store: GraphStore,
) -> None:
    x, y, z = "company:customs:name:-:x", "company:customs:name:-:y", "company:customs:name:-:z"
    flows = [
        ship(x, y, 0, 10_000.0, n=1),
        ship(y, z, 5, 10_000.0, n=2),
        ship(z, x, 9, 10_000.0, n=3),
    ]
    routes = [("GB", "NL"), ("NL", "NL"), ("NL", "GB")]
    declarations = [
        node(
            str(f.properties["declaration"]),
            prov("customs"),
            dispatch_country=a,
            destination_country=b,
        )
        for f, (a, b) in zip(flows, routes, strict=True)
    ]
    write(store, [company(x), company(y), company(z), *declarations], flows)
    (alert,) = detect_cycles(store)
    assert {i.name: i.value for i in alert.indicators}["borders_crossed"] == 2


def test_a_round_trip_through_a_shell_network_with_an_unreported_leg(store: GraphStore) -> None:
    home, sister = "company:fiu:tax:HOME", "company:fiu:tax:SISTER"
    bvi, cayman = "company:fiu:reg:VG:1", "company:fiu:reg:KY:2"
    write(
        store,
        [company(home, "GB"), company(sister, "GB"), company(bvi, "VG"), company(cayman, "KY")],
        [
            pay(home, bvi, 0, 500_000.0, n=1),
            # bvi -> cayman went between two foreign banks: no home FIU saw it.
            pay(cayman, sister, 30, 480_000.0, n=2),
        ],
    )
    assert detect_cycles(store) == []
    # The shell-network detector's networks, and common control of home and sister.
    groups = {bvi: "network:1", cayman: "network:1", home: "control:1", sister: "control:1"}
    (alert,) = detect_cycles(store, groups=groups)
    assert alert.typology is Typology.ROUND_TRIPPING
    assert alert.details["ring"] == ["control:1", "network:1"]
    assert {home, sister, bvi, cayman} <= set(alert.entities)
    assert {i.name: i.value for i in alert.indicators}["secrecy_jurisdictions"] == "KY, VG"
    # Group keys are not nodes: the alert names (and, saved, flags) their members.
    assert "control:1" not in alert.entities
    save_alerts(store, [alert])
    flagged = {r.end for r in store.expand([alert.id], rel_types=[RelType.FLAGS])}
    assert flagged == {home, sister, bvi, cayman}


def _board(director: str, *companies: str) -> list[RelWrite]:
    return [
        rel(RelType.DIRECTOR_OF, director, c, key="director", provenance=prov("registry"))
        for c in companies
    ]


def test_round_trips_through_companies_sharing_a_director_close_without_the_hidden_leg(
    store: GraphStore,
) -> None:
    home, sister = "company:fiu:tax:HOME", "company:fiu:tax:SISTER"
    bvi, cayman = "company:fiu:reg:VG:1", "company:fiu:reg:KY:2"
    nominee, owner = "company:registry:reg:VG:9", "person:registry:id:P1"
    client = "company:registry:reg:VG:3"
    write(
        store,
        [
            company(home, "GB"),
            company(sister, "GB"),
            company(bvi, "VG"),
            company(cayman, "KY"),
            company(nominee, "VG"),
            company(client, "VG"),
            person(owner),
        ],
        [
            pay(home, bvi, 0, 500_000.0, n=1),
            # bvi -> cayman went between two foreign banks: no home FIU saw it.
            pay(cayman, sister, 30, 480_000.0, n=2),
            *_board(nominee, bvi, cayman, client),
            *_board(owner, home, sister),
        ],
    )

    (alert,) = detect_cycles(store)

    assert alert.typology is Typology.ROUND_TRIPPING
    assert {home, sister, bvi, cayman} <= set(alert.entities)
    groups = alert.details["common_control"].values()
    assert sorted(len(names) for names in groups) == [2, 3]
    assert "sharing a director" in alert.summary
    assert detect_cycles(store, config=CycleConfig(control_groups=False)) == []
    # A director of more boards than the cap (a formation agent's) groups none of them.
    assert detect_cycles(store, config=CycleConfig(control_max_boards=2)) == []


def test_a_round_trip_already_seen_whole_is_not_reported_again_through_its_group(
    store: GraphStore,
) -> None:
    home, bvi, cayman = "company:fiu:tax:HOME", "company:fiu:reg:VG:1", "company:fiu:reg:KY:2"
    nominee = "company:registry:reg:VG:9"
    write(
        store,
        [company(home, "GB"), company(bvi, "VG"), company(cayman, "KY"), company(nominee, "VG")],
        [
            pay(home, bvi, 0, 500_000.0, n=1),
            pay(bvi, cayman, 5, 495_000.0, n=2),
            pay(cayman, home, 30, 480_000.0, n=3),
            *_board(nominee, bvi, cayman),
        ],
    )
    (alert,) = detect_cycles(store)
    assert alert.details["ring"] == [home, bvi, cayman]
    assert "common_control" not in alert.details


def test_two_partners_shipping_each_other_one_heading_is_trade_unless_the_goods_came_back(
    store: GraphStore,
) -> None:
    def declared(n: int, sender: str, receiver: str, quantity: float) -> NodeWrite:
        key = f"declaration:GB:{sender.rsplit(':', 1)[-1]}-{receiver.rsplit(':', 1)[-1]}:{n}"
        return node(key, prov("customs"), quantity=quantity, unit="NAR", net_mass=quantity * 2)

    write(
        store,
        [
            company(A, "GB"),
            company(B, "NL"),
            company(C, "DE"),
            declared(1, A, B, 400.0),
            declared(2, B, A, 150.0),
            declared(3, A, C, 400.0),
            declared(4, C, A, 404.0),
        ],
        [
            # A and B sell each other parts of one heading: different consignments.
            ship(A, B, 0, 50_000.0, n=1),
            ship(B, A, 10, 52_000.0, n=2),
            # What A sent C came back: the same 400 units (within 5%).
            ship(A, C, 20, 60_000.0, n=3),
            ship(C, A, 40, 61_000.0, n=4),
        ],
    )
    (alert,) = detect_cycles(store)
    assert alert.typology is Typology.CIRCULAR_TRADE
    assert alert.details["ring"] == [A, C]
    anyway = detect_cycles(store, config=CycleConfig(two_party_quantity_tolerance=None))
    assert len(anyway) == 2
