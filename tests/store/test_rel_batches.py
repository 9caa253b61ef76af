"""Relationship batches: what the Neo4j writer's batch plumbing must keep.

The Neo4j store looks every end node up once per batch, sends rows as lists with the repeated
provenance lists factored out, and sets properties one by one; these tests pin that this
changes nothing observable (both stores agree) and that its failure paths still refuse.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import pytest

from graph_models.collector import cyclic_gc_paused
from graph_models.errors import SchemaError, StoreError
from graph_models.merge import Observed, RelMap, fresh_flat
from graph_models.schema import Label, RelType
from graph_models.store import neo4j_cypher as cy
from graph_models.store import neo4j_store
from graph_models.store.base import GraphStore
from graph_models.store.neo4j_store import Neo4jStore
from tests.factories import node, prov, rel

A = "account:GB01"
B = "account:GB02"
C = "account:GB03"
ACME = "company:customs:tax:GB123"


def _accounts(store: GraphStore) -> None:
    store.write_nodes([node(k, account_number=k[8:]) for k in (A, B, C)] + [node(ACME)])


def test_one_dangling_relationship_fails_the_whole_batch(store: GraphStore) -> None:
    _accounts(store)
    batch = [
        rel(RelType.PAID, A, B, key="t1"),
        rel(RelType.HOLDS, ACME, A),
        rel(RelType.PAID, B, "account:GONE", key="t2"),
    ]
    with pytest.raises(StoreError, match="account:GONE"):
        store.write_relationships(batch)
    assert store.counts().relationships == {}


def test_a_batch_mixing_types_agencies_and_properties(store: GraphStore) -> None:
    _accounts(store)
    fiu = prov("fiu", "str.xml", "report[1]", "load-2", seen="2024-05-02")
    store.write_relationships(
        [
            rel(RelType.PAID, A, B, key="t1", amount=10.0, currency="EUR"),
            rel(RelType.PAID, A, C, key="t2", provenance=fiu, amount=20.0),
            rel(RelType.HOLDS, ACME, A, role="owner"),
            rel(RelType.HOLDS, ACME, B, provenance=fiu),
        ]
    )
    # A later observation without the currency keeps it; the amount is corrected.
    store.write_relationships([rel(RelType.PAID, A, B, key="t1", provenance=fiu, amount=11.0)])
    got = {(r.type, r.end, r.key): r for r in store.expand([A, ACME], direction="out")}
    t1 = got[(RelType.PAID, B, "t1")]
    assert t1.properties == {"date": "2024-03-01", "amount": 11.0, "currency": "EUR"}
    assert t1.provenance.agencies == ["customs", "fiu"]
    assert t1.provenance.record_ids == ["declarations.csv|row 2", "str.xml|report[1]"]
    assert (t1.provenance.first_seen, t1.provenance.last_seen) == ("2024-03-01", "2024-05-02")
    t2 = got[(RelType.PAID, C, "t2")]
    assert (t2.properties["amount"], t2.provenance.sources) == (20.0, ["fiu|str.xml|load-2"])
    assert got[(RelType.HOLDS, A, "")].properties == {"role": "owner"}
    holds_b = got[(RelType.HOLDS, B, "")]
    assert (holds_b.properties, holds_b.provenance.compartments) == ({}, ["fiu"])


@pytest.mark.neo4j
def test_a_node_deleted_after_the_look_up_is_refused(
    neo4j_session_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write statement matches nodes by element id: if one vanished since the look-up
    (another transaction deleted it), the batch fails naming it and is rolled back."""
    store = neo4j_session_store
    store.clear()
    _accounts(store)
    look_up = neo4j_store._element_ids

    def look_up_then_lose_b(tx: Any, keys: dict[Label, list[str]]) -> dict[str, str]:
        ids = look_up(tx, keys)
        tx.run("MATCH (n:Account {key: $key}) DETACH DELETE n", key=B).consume()
        return ids

    monkeypatch.setattr(neo4j_store, "_element_ids", look_up_then_lose_b)
    store._known_ids.clear()
    with pytest.raises(StoreError, match=B):
        store.write_relationships([rel(RelType.PAID, A, B, key="t1")])
    monkeypatch.undo()
    assert store.get_node(B) is not None
    assert store.counts().relationships == {}


def _element_id(store: Neo4jStore, key: str) -> str:
    found = store._driver.execute_query(
        "MATCH (n {key: $key}) RETURN elementId(n) AS id", key=key, database_=store.database
    )
    return str(found.records[0]["id"])


@pytest.mark.neo4j
def test_a_remembered_id_that_names_another_node_is_never_trusted(
    neo4j_session_store: Neo4jStore,
) -> None:
    """Ids of written nodes are remembered for the next relationship batch; one that has come
    to name another node (deleted, id reused) must not attach the relationship there."""
    store = neo4j_session_store
    store.clear()
    _accounts(store)
    store._known_ids.remember([(B, _element_id(store, C))])
    store.write_relationships([rel(RelType.PAID, A, B, key="t1")])
    assert [(r.start, r.end) for r in store.expand([A], direction="out")] == [(A, B)]
    assert store.expand([C]) == []


@pytest.mark.neo4j
def test_a_node_deleted_by_another_process_after_it_was_written_is_refused(
    neo4j_session_store: Neo4jStore,
) -> None:
    store = neo4j_session_store
    store.clear()
    _accounts(store)
    # Another process deletes B: this store still remembers B's id.
    store._driver.execute_query(
        "MATCH (n:Account {key: $key}) DETACH DELETE n", key=B, database_=store.database
    )
    with pytest.raises(StoreError, match=B):
        store.write_relationships([rel(RelType.PAID, A, B, key="t1"), rel(RelType.PAID, A, C)])
    assert store.counts().relationships == {}
    # Written again (by anyone), B gets a new id and the same batch now goes through.
    store._driver.execute_query("CREATE (:Account {key: $key})", key=B, database_=store.database)
    store.write_relationships([rel(RelType.PAID, A, B, key="t1"), rel(RelType.PAID, A, C)])
    assert sorted(r.end for r in store.expand([A], direction="out")) == [B, C]


@pytest.mark.neo4j
def test_a_written_batch_is_not_kept_alive_by_the_driver(neo4j_session_store: Neo4jStore) -> None:
    """Loads pause the cyclic collector; the driver's result objects sit in reference cycles
    and would keep every batch's parameters until it runs again, so the store lets go of
    them itself once the batch is committed."""
    store = neo4j_session_store
    store.clear()
    _accounts(store)
    marker = prov(file="release.csv", record="row 424242").record

    def held() -> bool:
        # The relationship's record-id list, [marker], as the batch rows hold it.
        return any(
            type(o) is list and len(o) == 1 and type(o[0]) is str and o[0] == marker
            for o in gc.get_objects()
        )

    with cyclic_gc_paused():
        gc.collect()
        store.write_relationships(
            [
                rel(
                    RelType.PAID,
                    A,
                    B,
                    key="t1",
                    provenance=prov(file="release.csv", record="row 424242"),
                )
            ]
        )
        assert not held()
    assert store.expand([A])[0].provenance.record_ids == [marker]


def test_merge_relationships_matches_ends_by_element_id_and_checks_names() -> None:
    text = cy.merge_relationships(RelType.PAID, Label.ACCOUNT, Label.PERSON, ["amount"])
    assert text.startswith("UNWIND $rows AS row")
    assert f"MATCH (b:Person) WHERE elementId(b) = row[{cy.REL_END}]" in text
    assert f"b.key <> row[{cy.REL_END_KEY}]" in text
    assert "b.key = " not in text  # a key predicate in the MATCH would seek the index
    assert f"MERGE (a)-[r:PAID {{key: row[{cy.REL_KEY}]}}]->(b)" in text
    assert f"r.amount = coalesce(row[{cy.REL_PROPS}].amount, r.amount)" in text
    assert "+=" not in text
    with pytest.raises(SchemaError):
        cy.merge_relationships(RelType.PAID, Label.ACCOUNT, Label.ACCOUNT, ["x} DELETE r //"])
    with pytest.raises(SchemaError):
        cy.merge_relationships(RelType.HOLDS, Label.COMPANY, Label.ACCOUNT, ["amount"])


def test_relationship_rows_follow_the_cypher_layout() -> None:
    customs = Observed("customs", "customs", "customs|a.csv|l1", "a.csv|row 1", "2024-01-02")
    fiu = Observed("fiu", "fiu", "fiu|b.xml|l2", "b.xml|r1", None)
    group: list[RelMap] = [
        (RelType.PAID, A, B, "t1", fresh_flat({"amount": 1.0}, customs)),
        (RelType.PAID, A, C, "t2", fresh_flat({"date": "2024-01-01"}, fiu)),
        (RelType.PAID, B, C, "t3", fresh_flat({}, customs)),
    ]
    rows, provs, names = neo4j_store._rel_params(group)
    neo4j_store._fill_ids(rows, {A: "e:a", B: "e:b", C: "e:c"})
    assert names == ["amount", "date"]
    # Only the sources travel: agencies and compartments are derived from them on read.
    assert provs == [["customs|a.csv|l1"], ["fiu|b.xml|l2"]]
    first = rows[0]
    assert (first[cy.REL_START], first[cy.REL_END], first[cy.REL_KEY]) == ("e:a", "e:b", "t1")
    assert (first[cy.REL_START_KEY], first[cy.REL_END_KEY]) == (A, B)
    assert first[cy.REL_PROPS] == {"amount": 1.0}
    assert first[cy.REL_RECORDS] == ["a.csv|row 1"]
    assert (first[cy.REL_FIRST], first[cy.REL_LAST]) == ("2024-01-02", "2024-01-02")
    assert [r[cy.REL_PROV] for r in rows] == [0, 1, 0]
    assert rows[1][cy.REL_FIRST] is None


@pytest.mark.neo4j
def test_batch_values_stay_out_of_the_drivers_debug_log(
    neo4j_session_store: Neo4jStore, caplog: pytest.LogCaptureFixture
) -> None:
    """The driver logs every message it sends at DEBUG; batch rows must appear there as a
    count, not as the names and account numbers they carry."""
    store = neo4j_session_store
    store.clear()
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        store.write_nodes([node(A, account_number="SECRET-NUMBER-1")])
        store.write_nodes([node(B, account_number="SECRET-NUMBER-2")])
        store.write_relationships([rel(RelType.PAID, A, B, key="t1", amount=123456.78)])
    runs = [r.getMessage() for r in caplog.records if "C: RUN" in r.getMessage()]
    assert any("<1 rows>" in m for m in runs)
    assert not [m for m in runs if "SECRET-NUMBER" in m or "123456.78" in m]
    assert store.get_node(A) is not None
