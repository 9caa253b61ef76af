"""Relationship batches: what the Neo4j writer's batch plumbing must keep.

The Neo4j store looks every end node up once per batch, sends rows as lists with the repeated
provenance lists factored out, and sets properties one by one; these tests pin that this
changes nothing observable (both stores agree) and that its failure paths still refuse.
"""

from __future__ import annotations

from typing import Any

import pytest

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
    with pytest.raises(StoreError, match=B):
        store.write_relationships([rel(RelType.PAID, A, B, key="t1")])
    monkeypatch.undo()
    assert store.get_node(B) is not None
    assert store.counts().relationships == {}


def test_merge_relationships_matches_ends_by_element_id_and_checks_names() -> None:
    text = cy.merge_relationships(RelType.PAID, Label.ACCOUNT, Label.PERSON, ["amount"])
    assert text.startswith("UNWIND $rows AS row")
    assert f"MATCH (b:Person) WHERE elementId(b) = row[{cy.REL_END}]" in text
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
    rows, provs, names = neo4j_store._rel_params(group, {A: "e:a", B: "e:b", C: "e:c"})
    assert names == ["amount", "date"]
    assert provs == [
        [["customs"], ["customs"], ["customs|a.csv|l1"]],
        [["fiu"], ["fiu"], ["fiu|b.xml|l2"]],
    ]
    first = rows[0]
    assert (first[cy.REL_START], first[cy.REL_END], first[cy.REL_KEY]) == ("e:a", "e:b", "t1")
    assert first[cy.REL_PROPS] == {"amount": 1.0}
    assert first[cy.REL_RECORDS] == ["a.csv|row 1"]
    assert (first[cy.REL_FIRST], first[cy.REL_LAST]) == ("2024-01-02", "2024-01-02")
    assert [r[cy.REL_PROV] for r in rows] == [0, 1, 0]
    assert rows[1][cy.REL_FIRST] is None
