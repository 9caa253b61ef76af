"""One behaviour suite, run against both stores through the parametrised ``store`` fixture."""

from __future__ import annotations

import pytest

from graph_models.errors import NotFoundError, StoreError
from graph_models.records import RECORD_ID_CAP
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from tests.factories import node, prov, rel

ACME = "company:customs:tax:GB123"
BOB = "person:customs:passport:X1"
ADDR = "address:1 high street london"
ACC = "account:GB29NWBK60161331926819"


def test_merge_is_idempotent(store: GraphStore) -> None:
    batch = [node(ACME, name="ACME TRADING LTD", tax_id="GB123"), node(BOB, name="Bob Smith")]
    rels = [rel(RelType.DIRECTOR_OF, BOB, ACME)]
    for _ in range(2):
        store.write_nodes(batch)
        store.write_relationships(rels)
    counts = store.counts()
    assert counts.nodes == {"Company": 1, "Person": 1}
    assert counts.relationships == {"DIRECTOR_OF": 1}
    acme = store.require_node(ACME)
    assert acme.provenance.sources == ["customs|declarations.csv|load-1"]
    assert acme.provenance.record_ids == ["declarations.csv|row 2"]


def test_fact_seen_in_two_sources_keeps_both(store: GraphStore) -> None:
    store.write_nodes([node(ADDR, full="1 High Street, London")])
    store.write_nodes(
        [node(ADDR, prov("fiu", "str.xml", "report[1]/t_entity", "load-9"), full="1 High St")]
    )
    got = store.require_node(ADDR).provenance
    assert got.agencies == ["customs", "fiu"]
    assert got.compartments == ["customs", "fiu"]
    assert got.sources == ["customs|declarations.csv|load-1", "fiu|str.xml|load-9"]
    assert got.record_ids == ["declarations.csv|row 2", "str.xml|report[1]/t_entity"]


def test_relationship_agencies_follow_its_sources_in_order_seen(store: GraphStore) -> None:
    # The Neo4j store keeps only a relationship's sources and derives agencies and
    # compartments from them: the answer must be what the embedded store keeps verbatim.
    store.write_nodes([node(ACME), node(BOB)])
    seen_by = [
        prov("fiu", "str.xml", "report[1]", "load-9"),
        prov("customs", "declarations.csv", "row 3", "load-1"),
        prov("fiu", "str-2.xml", "report[4]", "load-10"),
    ]
    for p in seen_by:
        store.write_relationships([rel(RelType.DIRECTOR_OF, BOB, ACME, provenance=p)])
    (got,) = store.expand([ACME])
    assert got.provenance.agencies == ["fiu", "customs"]
    assert got.provenance.compartments == ["fiu", "customs"]
    assert got.provenance.sources == [p.source for p in seen_by]
    assert store.counts().relationships_by_agency == {"fiu": 1, "customs": 1}


def test_later_observation_updates_properties_but_null_never_erases(store: GraphStore) -> None:
    store.write_nodes([node(ACME, name="ACME TRADING LTD", tax_id="GB123", legal_form="LTD")])
    corrected = prov(file="declarations-v2.csv", load="load-2")
    store.write_nodes([node(ACME, corrected, name="ACME TRADING LIMITED", legal_form=None)])
    acme = store.require_node(ACME)
    assert acme.properties["name"] == "ACME TRADING LIMITED"
    assert acme.properties["legal_form"] == "LTD"
    assert acme.properties["tax_id"] == "GB123"
    assert acme.provenance.sources == [
        "customs|declarations.csv|load-1",
        "customs|declarations-v2.csv|load-2",
    ]


def test_first_and_last_seen_span_record_dates(store: GraphStore) -> None:
    store.write_nodes(
        [
            node(ACME, prov(record="row 3", seen="2024-05-01"), name="A"),
            node(ACME, prov(record="row 4", seen="2023-01-15"), name="A"),
            node(ACME, prov(record="row 5", seen=None), name="A"),
            node(ACME, prov(record="row 6", seen="2024-02-01"), name="A"),
        ]
    )
    got = store.require_node(ACME).provenance
    assert (got.first_seen, got.last_seen) == ("2023-01-15", "2024-05-01")


def test_record_ids_are_capped_on_hubs(store: GraphStore) -> None:
    rows = [node("country:GB", prov(record=f"row {i}"), code="GB") for i in range(40)]
    store.write_nodes(rows)
    store.write_nodes(rows)
    got = store.require_node("country:GB").provenance
    assert got.record_ids == [f"declarations.csv|row {i}" for i in range(RECORD_ID_CAP)]


def test_relationship_to_missing_node_raises_and_writes_nothing(store: GraphStore) -> None:
    store.write_nodes([node(ACME, name="ACME")])
    with pytest.raises(StoreError, match="person:customs:passport:X1"):
        store.write_relationships([rel(RelType.DIRECTOR_OF, BOB, ACME)])
    assert store.counts().relationships == {}


def test_parallel_relationships_are_kept_apart_by_key(store: GraphStore) -> None:
    store.write_nodes([node(ACME, name="ACME"), node(BOB, name="Bob")])
    store.write_relationships(
        [
            rel(RelType.SHIPPED_TO, ACME, BOB, key="declaration:1/1", value=10.0),
            rel(RelType.SHIPPED_TO, ACME, BOB, key="declaration:2/1", value=20.0),
            rel(RelType.SHIPPED_TO, ACME, BOB, key="declaration:1/1", value=11.0),
        ]
    )
    got = store.expand([ACME], rel_types=[RelType.SHIPPED_TO])
    assert [(r.key, r.properties["value"]) for r in got] == [
        ("declaration:1/1", 11.0),
        ("declaration:2/1", 20.0),
    ]


def test_find_nodes_by_indexed_property(store: GraphStore) -> None:
    store.write_nodes(
        [
            node(ACME, name="ACME", tax_id="GB123"),
            node("company:tax:GB123", prov("tax"), name="Acme Trading Limited", tax_id="GB123"),
            node("company:customs:tax:GB999", name="Other", tax_id="GB999"),
        ]
    )
    found = store.find_nodes(Label.COMPANY, "tax_id", "GB123")
    assert [n.key for n in found] == ["company:customs:tax:GB123", "company:tax:GB123"]
    assert store.find_nodes(Label.COMPANY, "tax_id", "GB123", limit=1)[0].key == ACME


def _star(store: GraphStore, spokes: int) -> None:
    """ACME registered at a formation agent's address shared by ``spokes`` other companies,
    Bob directing ACME and holding an account that paid a fourth party."""
    others = [f"company:registry:reg:{i:04d}" for i in range(spokes)]
    store.write_nodes(
        [
            node(ACME, name="ACME"),
            node(BOB, name="Bob"),
            node(ADDR, full="1 High Street"),
            node(ACC, account_number="GB29NWBK60161331926819"),
            node("person:fiu:id:Z9", prov("fiu", "str.xml"), name="Zed"),
            *[node(k, prov("registry"), name=k) for k in others],
        ]
    )
    store.write_relationships(
        [
            rel(RelType.REGISTERED_AT, ACME, ADDR),
            rel(RelType.DIRECTOR_OF, BOB, ACME),
            rel(RelType.HOLDS, BOB, ACC, provenance=prov("fiu", "str.xml")),
            rel(
                RelType.PAID,
                ACC,
                "person:fiu:id:Z9",
                key="transaction:T1",
                provenance=prov("fiu", "str.xml"),
            ),
            *[rel(RelType.REGISTERED_AT, k, ADDR, provenance=prov("registry")) for k in others],
        ]
    )


def test_neighbourhood_hops_and_hub_cap(store: GraphStore) -> None:
    _star(store, spokes=30)
    one = store.neighbourhood(BOB, hops=1)
    assert [n.key for n in one.nodes] == [ACC, ACME, BOB]
    two = store.neighbourhood(BOB, hops=2, hub_cap=50)
    assert {ADDR, "person:fiu:id:Z9"} <= {n.key for n in two.nodes}
    three = store.neighbourhood(BOB, hops=3, hub_cap=10)
    assert three.capped == [ADDR]
    assert not any(n.key.startswith("company:registry") for n in three.nodes)
    uncapped = store.neighbourhood(BOB, hops=3, hub_cap=100)
    assert sum(n.key.startswith("company:registry") for n in uncapped.nodes) == 30


def test_neighbourhood_limit_truncates(store: GraphStore) -> None:
    _star(store, spokes=30)
    got = store.neighbourhood(ADDR, hops=1, limit=10)
    assert got.truncated
    assert len(got.nodes) == 10
    rel_ends = {k for r in got.relationships for k in (r.start, r.end)}
    assert rel_ends <= {n.key for n in got.nodes}


def test_neighbourhood_agency_filter_hides_other_compartments(store: GraphStore) -> None:
    _star(store, spokes=2)
    got = store.neighbourhood(BOB, hops=2, agencies=["customs"])
    assert [n.key for n in got.nodes] == [ADDR, ACME, BOB]
    assert all("fiu" not in r.provenance.agencies for r in got.relationships)


def test_neighbourhood_of_unknown_node_raises(store: GraphStore) -> None:
    with pytest.raises(NotFoundError):
        store.neighbourhood("company:nope")


def test_shortest_paths_are_ordered_and_explained(store: GraphStore) -> None:
    _star(store, spokes=3)
    store.write_relationships([rel(RelType.SHAREHOLDER_OF, BOB, ACME, percentage=60.0)])
    paths = store.shortest_paths(BOB, ADDR, k=3, max_hops=3)
    assert [p.nodes for p in paths] == [[BOB, ACME, ADDR]]
    # Two relationships join Bob and ACME; the path names one deterministically.
    assert [r.type for r in paths[0].relationships] == [RelType.DIRECTOR_OF, RelType.REGISTERED_AT]
    far = store.shortest_paths("person:fiu:id:Z9", "company:registry:reg:0001", k=2, max_hops=6)
    assert [p.nodes for p in far] == [
        ["person:fiu:id:Z9", ACC, BOB, ACME, ADDR, "company:registry:reg:0001"]
    ]
    assert store.shortest_paths("person:fiu:id:Z9", ADDR, max_hops=2) == []


def test_projection_to_networkx(store: GraphStore) -> None:
    _star(store, spokes=2)
    graph = store.project()
    assert graph.number_of_nodes() == 7
    assert graph.number_of_edges() == 6
    assert graph.nodes[ACME]["label"] == "Company"
    money = store.project(rel_types=[RelType.PAID, RelType.HOLDS])
    assert sorted(money.nodes) == sorted([BOB, ACC, "person:fiu:id:Z9"])
    ((_, _, data),) = [e for e in money.edges(data=True) if e[2]["type"] == "PAID"]
    assert data["amount"] == 100.0
    parties = store.project(labels=[Label.COMPANY, Label.PERSON])
    assert parties.number_of_edges() == 1


def test_counts_per_label_type_and_agency(store: GraphStore) -> None:
    _star(store, spokes=2)
    counts = store.counts()
    assert counts.nodes == {"Company": 3, "Person": 2, "Address": 1, "Account": 1}
    assert counts.relationships == {"REGISTERED_AT": 3, "DIRECTOR_OF": 1, "HOLDS": 1, "PAID": 1}
    assert counts.nodes_by_agency == {"customs": 4, "fiu": 1, "registry": 2}
    assert counts.relationships_by_agency == {"customs": 2, "fiu": 2, "registry": 2}


def test_clear_empties_the_graph(store: GraphStore) -> None:
    _star(store, spokes=2)
    store.clear()
    assert store.counts().total_nodes == 0
    assert store.get_node(ACME) is None


def test_same_key_twice_in_one_batch_merges_in_order(store: GraphStore) -> None:
    store.write_nodes(
        [
            node(ACME, prov(record="row 2"), name="First"),
            node(ACME, prov(record="row 3", load="load-2"), name="Second"),
        ]
    )
    acme = store.require_node(ACME)
    assert acme.properties["name"] == "Second"
    assert acme.provenance.record_ids == ["declarations.csv|row 2", "declarations.csv|row 3"]


def test_delete_relationships_and_nodes(store: GraphStore) -> None:
    _star(store, spokes=2)
    gone = store.delete_relationships(
        [
            ("DIRECTOR_OF", BOB, ACME, ""),
            ("DIRECTOR_OF", BOB, ACME, "no-such-key"),
        ]
    )
    assert gone == 1
    assert store.expand([BOB], rel_types=[RelType.DIRECTOR_OF]) == []
    assert store.delete_nodes([ADDR, "address:none"]) == 1
    counts = store.counts()
    assert "Address" not in counts.nodes
    assert "REGISTERED_AT" not in counts.relationships
    assert counts.relationships == {"HOLDS": 1, "PAID": 1}
