"""Paths between entities, explained by the records of each hop."""

from __future__ import annotations

import pytest

from graph_models.records import RelWrite
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.access import Scope
from queries.paths import paths
from tests.factories import node, prov, rel

A, B = "company:customs:tax:A", "company:customs:tax:B"
T = "company:registry:reg:GB:T"
ADDRESS = "address:gb:9 quay street"
PHONE = "phone:+4411"
HIDDEN = "person:fiu:id:H1"
TARGET = "company:registry:reg:GB:Z"
EVERYTHING = Scope.everything()
REG = prov("registry", "companies.csv", "row 5", seen="2019-05-01")
FIU = prov("fiu", "str.xml", "/reports/report[2]/transaction[1]", seen="2024-02-02")


def _decl(n: int, day: str) -> RelWrite:
    p = prov("customs", "declarations.csv", f"row {n}", seen=day)
    return rel(RelType.SHIPPED_TO, A, B, f"declaration:GB:D{n}:1", p, date=day, declaration=f"D{n}")


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    """A shipped to B three times; B and T share an address; A and T share a phone.
    Z is reached only through a person the FIU alone knows."""
    store.write_nodes(
        [
            node(A, name="A"),
            node(B, name="B"),
            node(T, REG, name="T"),
            node(TARGET, REG, name="Z"),
            node(ADDRESS, REG, full="9 Quay Street"),
            node(PHONE, REG, number="+44 11"),
            node(PHONE, FIU, number="+44 11"),  # the FIU has seen the phone too
            node(HIDDEN, FIU, name="Hidden Person"),
        ]
    )
    store.write_relationships(
        [
            _decl(2, "2023-03-01"),
            _decl(3, "2024-03-01"),
            _decl(4, "2024-04-01"),
            rel(RelType.REGISTERED_AT, B, ADDRESS, provenance=prov(record="row 2")),
            rel(RelType.REGISTERED_AT, T, ADDRESS, provenance=REG),
            rel(RelType.HAS_PHONE, A, PHONE, provenance=prov(record="row 9")),
            rel(RelType.HAS_PHONE, T, PHONE, provenance=REG),
            rel(RelType.HAS_PHONE, HIDDEN, PHONE, provenance=FIU),
            rel(RelType.DIRECTOR_OF, HIDDEN, TARGET, "director", FIU, role="director"),
        ]
    )
    return store


def test_shortest_paths_first_ties_by_keys(graph: GraphStore) -> None:
    got = paths(graph, A, T, scope=EVERYTHING, k=2)
    assert [[n.key for n in p.nodes] for p in got.paths] == [
        [A, PHONE, T],  # two hops
        [A, B, ADDRESS, T],  # three hops
    ]
    assert got.withheld == []


def test_each_hop_is_explained_by_its_records(graph: GraphStore) -> None:
    got = paths(graph, A, T, scope=EVERYTHING, k=2)
    trade_hop = got.paths[1].hops[0]
    assert (trade_hop.start, trade_hop.end) == (A, B)
    # Three declarations make the one hop: each is listed with its record.
    assert sorted(trade_hop.evidence) == ["D2", "D3", "D4"]
    assert sorted(trade_hop.records) == [f"declarations.csv|row {n}" for n in (2, 3, 4)]
    assert trade_hop.sources == ["customs|declarations.csv|load-1"]
    assert len(trade_hop.relationships) == 3
    phone_hop = got.paths[0].hops[1]
    assert phone_hop.records == ["companies.csv|row 5"]
    assert phone_hop.evidence == []


def test_evidence_cap_counts_the_rest(graph: GraphStore) -> None:
    got = paths(graph, A, B, scope=EVERYTHING, k=1, evidence_cap=2)
    (hop,) = got.paths[0].hops
    assert len(hop.relationships) == 2
    assert hop.more == 1


def test_date_window_removes_paths_through_other_dates(graph: GraphStore) -> None:
    got = paths(graph, A, B, scope=EVERYTHING, date_from="2024-01-01", date_to="2024-03-31")
    (direct,) = [p for p in got.paths if p.length == 1]
    # Only the declaration of 2024-03-01 falls in the window.
    assert direct.hops[0].evidence == ["D3"]
    # In 2022 nothing linking A had been observed yet: no shipment, no phone.
    in_2022 = paths(graph, A, B, scope=EVERYTHING, date_from="2022-01-01", date_to="2022-12-31")
    assert in_2022.paths == []


def test_a_path_through_hidden_records_is_a_marker_only(graph: GraphStore) -> None:
    customs = Scope.of("customs", "registry")
    got = paths(graph, A, TARGET, scope=customs)
    assert got.paths == []
    assert [(w.compartment, w.kind, w.count) for w in got.withheld] == [("fiu", "paths", 1)]
    shown = paths(graph, A, TARGET, scope=EVERYTHING)
    assert [[n.key for n in p.nodes] for p in shown.paths] == [[A, PHONE, HIDDEN, TARGET]]
    assert shown.withheld == []


def test_hops_never_cite_hidden_provenance(graph: GraphStore) -> None:
    customs = Scope.of("customs", "registry")
    got = paths(graph, A, T, scope=customs, k=3)
    text = got.model_dump_json()
    assert "str.xml" not in text
    assert HIDDEN not in text
    assert [n.key for n in got.paths[0].nodes] == [A, PHONE, T]
    phone = got.paths[0].nodes[1]
    assert phone.partial
    assert phone.provenance.agencies == ["registry"]
    assert phone.provenance.first_seen is None  # it may be the FIU's record date
    assert "str.xml" in paths(graph, A, T, scope=EVERYTHING, k=3).model_dump_json()
