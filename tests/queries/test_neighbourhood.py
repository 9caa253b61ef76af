"""Neighbourhoods: date window, hub cap, node limit, type filter and compartments."""

from __future__ import annotations

import itertools
from collections.abc import Collection

import pytest

from graph_models.errors import NotFoundError
from graph_models.records import RelWrite
from graph_models.schema import RelType
from graph_models.store.base import Expansion, GraphStore, Prefetch
from queries.access import Scope
from queries.models import Neighbourhood
from queries.neighbourhood import Window, neighbourhood, period_span
from tests.factories import node, prov, rel

A, B, C, D = (f"company:customs:tax:{x}" for x in "ABCD")
P = "person:registry:id:P1"
HUB = "address:gb:1 formation lane"
FIU_PERSON = "person:fiu:id:F1"
EVERYTHING = Scope.everything()
OLD = prov("registry", "companies.csv", "row 2", seen="2010-03-01")


def _shipped(start: str, end: str, day: str, n: int) -> RelWrite:
    p = prov("customs", "declarations.csv", f"row {n}", seen=day)
    return rel(RelType.SHIPPED_TO, start, end, f"declaration:GB:{n}:1", p, date=day)


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    """A ships to B in 2023 and to C in 2024; C ships to D in 2024. P directed A 2010-2012.
    A has been registered (since 2010) at a formation agent's address with eight companies,
    which the FIU also links a person to."""
    companies = [f"company:registry:reg:GB:{i}" for i in range(7)]
    store.write_nodes(
        [
            *(node(k, name=k[-1]) for k in (A, B, C, D)),
            node(P, OLD, name="Pat Director"),
            node(HUB, OLD, full="1 Formation Lane"),
            *(node(k, OLD, name=f"Shelf {i}") for i, k in enumerate(companies)),
            node(FIU_PERSON, prov("fiu", "str.xml", "/reports/report[1]"), name="Hidden"),
        ]
    )
    store.write_relationships(
        [
            _shipped(A, B, "2023-01-15", 2),
            _shipped(A, C, "2024-06-01", 3),
            _shipped(C, D, "2024-07-01", 4),
            rel(
                RelType.DIRECTOR_OF,
                P,
                A,
                "director",
                OLD,
                role="director",
                appointed="2010-03-01",
                resigned="2012-12-31",
            ),
            rel(RelType.REGISTERED_AT, A, HUB, provenance=OLD),
            *(rel(RelType.REGISTERED_AT, k, HUB, provenance=OLD) for k in companies),
            rel(RelType.REGISTERED_AT, FIU_PERSON, HUB, provenance=prov("fiu", "str.xml", "x")),
        ]
    )
    return store


def _keys(got: Neighbourhood) -> set[str]:
    return {n.key for n in got.nodes}


def test_without_filters_two_hops_reach_everything_near(graph: GraphStore) -> None:
    got = neighbourhood(graph, A, scope=EVERYTHING, hub_cap=100)
    assert {B, C, D, P, HUB, FIU_PERSON} <= _keys(got)
    assert len(got.nodes) == 4 + 1 + 1 + 7 + 1


def test_date_window_keeps_events_in_it_and_what_they_reach(graph: GraphStore) -> None:
    in_2024 = neighbourhood(
        graph, A, scope=EVERYTHING, date_from="2024-01-01", date_to="2024-12-31", hub_cap=100
    )
    # B only traded with A in 2023; D is reached through C's 2024 shipment; P resigned in 2012;
    # the 2010 registration still stands in 2024.
    assert B not in _keys(in_2024)
    assert {C, D, HUB} <= _keys(in_2024)
    assert P not in _keys(in_2024)
    assert all(
        str(r.properties["date"]).startswith("2024")
        for r in in_2024.relationships
        if r.type == RelType.SHIPPED_TO
    )
    in_2011 = neighbourhood(
        graph, A, scope=EVERYTHING, date_from="2011-01-01", date_to="2011-12-31"
    )
    assert P in _keys(in_2011)  # the directorship overlaps 2011
    assert not {B, C, D} & _keys(in_2011)
    before = neighbourhood(graph, A, scope=EVERYTHING, date_to="2009-12-31")
    assert _keys(before) == {A}  # nothing had been observed yet


def test_hub_is_included_but_not_expanded(graph: GraphStore) -> None:
    got = neighbourhood(graph, A, scope=EVERYTHING, hub_cap=5)
    assert HUB in _keys(got)
    assert got.capped == [HUB]
    assert not any(k.startswith("company:registry") for k in _keys(got))
    assert {B, C, D} <= _keys(got)


def test_node_limit_truncates(graph: GraphStore) -> None:
    got = neighbourhood(graph, A, scope=EVERYTHING, limit=3, hub_cap=100)
    assert len(got.nodes) == 3
    assert got.truncated


def test_relationship_types_filter(graph: GraphStore) -> None:
    got = neighbourhood(graph, A, scope=EVERYTHING, rel_types=[RelType.SHIPPED_TO])
    assert _keys(got) == {A, B, C, D}
    assert {r.type for r in got.relationships} == {RelType.SHIPPED_TO}


def test_hidden_compartments_are_counted_not_shown(graph: GraphStore) -> None:
    customs = Scope.of("customs", "registry")
    got = neighbourhood(graph, A, scope=customs, hub_cap=100)
    assert FIU_PERSON not in _keys(got)
    assert all("fiu" not in r.provenance.agencies for r in got.relationships)
    assert [(w.compartment, w.kind, w.count) for w in got.withheld] == [("fiu", "relationships", 1)]
    # An agency filter narrows the scope, it never widens it.
    narrowed = neighbourhood(graph, A, scope=customs, agencies=["customs", "fiu"], hub_cap=100)
    assert _keys(narrowed) == {A, B, C, D}
    hidden = neighbourhood(graph, FIU_PERSON, scope=customs)
    assert (hidden.nodes, hidden.relationships) == ([], [])
    assert [(w.compartment, w.count) for w in hidden.withheld] == [("fiu", 1)]


def test_unknown_start_raises(graph: GraphStore) -> None:
    with pytest.raises(NotFoundError):
        neighbourhood(graph, "company:customs:tax:NOPE", scope=EVERYTHING)


def _hop_by_hop_prefetch(
    store: GraphStore,
    key: str,
    *,
    hops: int,
    rel_types: Collection[RelType] | None,
    hub_cap: int,
    limit: int,
) -> Prefetch:
    """What ``prefetch_neighbourhood`` promises, read with the store's primitives."""
    first = store.expand_with_ends([key], rel_types=rel_types)
    near = {k for r in first.relationships for k in (r.start, r.end)} - {key}
    degrees = store.degrees(near)
    deep = hops >= 2 and len(near) < limit
    expanded = frozenset(k for k in near if degrees[k] <= hub_cap) if deep else frozenset()
    second = None
    if deep:
        rels = store.expand(expanded, rel_types=rel_types)
        ends = {k for r in rels for k in (r.start, r.end)}
        second = Expansion(rels, store.get_nodes(ends))
    return Prefetch(
        start=store.require_node(key),
        rel_types=frozenset(rel_types) if rel_types is not None else None,
        first=Expansion(first.relationships, store.get_nodes(near), degrees),
        second=second,
        expanded=expanded,
    )


@pytest.mark.parametrize(("hub_cap", "limit"), [(5, 500), (100, 3), (100, 5), (100, 9)])
@pytest.mark.parametrize("rel_types", [None, [RelType.SHIPPED_TO, RelType.REGISTERED_AT]])
def test_prefetch_reads_what_the_hops_would(
    graph: GraphStore, hub_cap: int, limit: int, rel_types: list[RelType] | None
) -> None:
    args = {"hops": 2, "rel_types": rel_types, "hub_cap": hub_cap, "limit": limit}
    got = graph.prefetch_neighbourhood(A, **args)  # type: ignore[arg-type]
    if got is None:  # declining is the embedded store's answer: it reads hop by hop
        assert graph.kind == "embedded"
        return
    want = _hop_by_hop_prefetch(graph, A, **args)  # type: ignore[arg-type]
    assert got.start == want.start
    assert got.rel_types == want.rel_types
    assert got.first.relationships == want.first.relationships
    assert got.first.nodes == want.first.nodes
    assert got.first.degrees == want.first.degrees
    assert got.expanded == want.expanded
    assert (got.second is None) == (want.second is None)
    if got.second is not None and want.second is not None:
        assert got.second.relationships == want.second.relationships
        # Every end of a second-hop relationship has been read, by one hop or the other.
        read = {**got.first.nodes, **got.second.nodes, A: got.start}
        assert {k: read.get(k) for k in want.second.nodes} == want.second.nodes


def test_prefetch_of_unknown_start_raises(graph: GraphStore) -> None:
    if graph.prefetch_neighbourhood(A, hops=2, rel_types=None, hub_cap=50, limit=500) is None:
        assert graph.kind == "embedded"  # it declines every prefetch, known start or not
        assert (
            graph.prefetch_neighbourhood(
                "company:customs:tax:NOPE", hops=2, rel_types=None, hub_cap=50, limit=500
            )
            is None
        )
        return
    with pytest.raises(NotFoundError):
        graph.prefetch_neighbourhood(
            "company:customs:tax:NOPE", hops=2, rel_types=None, hub_cap=50, limit=500
        )


def test_prefetched_traversal_equals_hop_by_hop(
    graph: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the filters, a traversal over a prefetch (the store's own, or one read with
    primitives where the store has none) answers exactly as one that asks hop by hop."""
    scopes = [EVERYTHING, Scope.of("customs", "registry")]
    windows = [(None, None), ("2024-01-01", "2024-12-31"), (None, "2009-12-31")]
    grid = itertools.product(
        [A, C, HUB, FIU_PERSON],
        scopes,
        windows,
        [1, 2, 3],
        [None, [RelType.SHIPPED_TO]],
        [(5, 500), (100, 3), (100, 5), (100, 9)],
    )
    own = graph.prefetch_neighbourhood
    for key, scope, (date_from, date_to), hops, rel_types, (hub_cap, limit) in grid:
        args = {
            "scope": scope,
            "hops": hops,
            "rel_types": rel_types,
            "date_from": date_from,
            "date_to": date_to,
            "hub_cap": hub_cap,
            "limit": limit,
        }
        if own(key, hops=hops, rel_types=rel_types, hub_cap=hub_cap, limit=limit) is None:
            monkeypatch.setattr(
                graph,
                "prefetch_neighbourhood",
                lambda k, **kw: _hop_by_hop_prefetch(graph, k, **kw),
            )
        prefetched = neighbourhood(graph, key, **args)  # type: ignore[arg-type]
        monkeypatch.setattr(graph, "prefetch_neighbourhood", lambda k, **kw: None)
        hop_by_hop = neighbourhood(graph, key, **args)  # type: ignore[arg-type]
        monkeypatch.undo()
        assert prefetched == hop_by_hop, args


def test_window_and_periods() -> None:
    assert period_span("2024") == ("2024-01-01", "2024-12-31")
    assert period_span("2024-Q1") == ("2024-01-01", "2024-03-31")
    assert period_span("2024-02") == ("2024-02-01", "2024-02-29")
    assert period_span("2024-13") is None
    with pytest.raises(ValueError, match="date"):
        Window(date_from="2024-1-1")
