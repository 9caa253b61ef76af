"""The scan cache a detection run reads through: same answers as the store, each kept family
read once, writes refused."""

from __future__ import annotations

import pytest

from graph_models.errors import StoreError
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.writer import BatchWriter
from queries.misinvoicing import PartyIndex, read_shipments
from queries.reads import CachedReads
from tests.factories import node, rel


def _graph(store: GraphStore) -> None:
    store.write_nodes(
        [
            node("company:customs:tax:GB1", name="Alpha", tax_id="GB1111"),
            node("company:customs:tax:GB2", name="Beta", tax_id="GB2222"),
            node("person:fiu:id:X1", name="Carol"),
            node("declaration:GB:1:1", flow="export", hs_code="850110"),
            node("declaration:GB:2:1", flow="import", hs_code="850110"),
        ]
    )
    store.write_relationships(
        [
            rel(RelType.DECLARED, "company:customs:tax:GB1", "declaration:GB:1:1", "exporter"),
            rel(RelType.DECLARED, "company:customs:tax:GB2", "declaration:GB:2:1", "importer"),
            rel(RelType.DIRECTOR_OF, "person:fiu:id:X1", "company:customs:tax:GB1"),
            rel(RelType.DIRECTOR_OF, "person:fiu:id:X1", "company:customs:tax:GB2"),
        ]
    )


def test_scans_answer_as_the_store_does(store: GraphStore) -> None:
    _graph(store)
    cached = CachedReads(store)
    labels = [Label.PERSON, Label.COMPANY]
    assert [n.key for n in cached.iter_nodes(labels)] == [n.key for n in store.iter_nodes(labels)]
    types = [RelType.DIRECTOR_OF, RelType.DECLARED]
    for _ in range(2):  # the second scan comes from memory
        assert sorted(r.identity for r in cached.iter_relationships(types)) == sorted(
            r.identity for r in store.iter_relationships(types)
        )
    keys = ["company:customs:tax:GB1", "declaration:GB:1:1", "company:nowhere:tax:0"]
    assert {k: n.properties for k, n in cached.get_nodes(keys).items()} == {
        k: n.properties for k, n in store.get_nodes(keys).items()
    }
    assert [s.key for s in read_shipments(cached)] == [s.key for s in read_shipments(store)]
    assert PartyIndex.build(cached).canonical == PartyIndex.build(store).canonical


def test_kept_families_are_read_once_the_others_each_time(store: GraphStore) -> None:
    _graph(store)
    cached = CachedReads(store, labels=[Label.COMPANY], rel_types=[RelType.DIRECTOR_OF])
    assert len(list(cached.iter_nodes([Label.COMPANY]))) == 2
    assert len(list(cached.iter_nodes([Label.PERSON]))) == 1
    assert len(list(cached.iter_relationships([RelType.DIRECTOR_OF]))) == 2
    assert len(list(cached.iter_relationships([RelType.DECLARED]))) == 2
    store.write_nodes(
        [node("company:customs:tax:GB3", name="Gamma"), node("person:fiu:id:X2", name="Dan")]
    )
    store.write_relationships(
        [
            rel(RelType.DIRECTOR_OF, "person:fiu:id:X2", "company:customs:tax:GB3"),
            rel(RelType.DECLARED, "company:customs:tax:GB3", "declaration:GB:2:1", "consignor"),
        ]
    )
    # Kept families answer from what was read first; the others read the store again.
    assert len(list(cached.iter_nodes([Label.COMPANY]))) == 2
    assert len(list(cached.iter_nodes([Label.PERSON]))) == 2
    assert len(list(cached.iter_relationships([RelType.DIRECTOR_OF]))) == 2
    assert len(list(cached.iter_relationships([RelType.DECLARED]))) == 3
    cached.close()  # drops the cache: the next scan reads the store
    assert len(list(cached.iter_nodes([Label.COMPANY]))) == 3


def test_edges_answer_as_the_store_does_kept_or_not(store: GraphStore) -> None:
    _graph(store)
    cached = CachedReads(store, rel_types=[RelType.DIRECTOR_OF])
    types = [RelType.DIRECTOR_OF, RelType.DECLARED]
    for _ in range(2):
        assert sorted(cached.iter_edges(types, ["role"])) == sorted(
            store.iter_edges(types, ["role"])
        )


def test_derived_indexes_are_built_once(store: GraphStore) -> None:
    _graph(store)
    cached = CachedReads(store)
    first = PartyIndex.build(cached)
    assert PartyIndex.build(cached) is first
    assert read_shipments(cached) == read_shipments(cached)
    assert read_shipments(cached) is not read_shipments(cached)  # a caller may sort its copy


def test_writes_are_refused(store: GraphStore) -> None:
    cached = CachedReads(store)
    with pytest.raises(StoreError):
        cached.write_nodes([node("company:customs:tax:GB9", name="Nine")])
    with pytest.raises(StoreError):
        cached.delete_nodes(["company:customs:tax:GB9"])
    # A batched writer pointed at the view fails in the caller, not later in its thread.
    writer = BatchWriter(cached, batch_size=1)
    with pytest.raises(StoreError, match="read-only"):
        writer.add_node(node("company:customs:tax:GB9", name="Nine"))
    assert store.get_node("company:customs:tax:GB9") is None
