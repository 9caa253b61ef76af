from __future__ import annotations

import gc
from pathlib import Path

import pytest

from graph_models.errors import StoreError
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from loaders.writer import BatchWriter
from tests.factories import node, rel


def test_relationships_follow_their_nodes_across_many_small_batches(store: GraphStore) -> None:
    with BatchWriter(store, batch_size=3) as writer:
        for i in range(10):
            writer.add(
                [node(f"account:A{i}", account_number=f"A{i}")],
                [rel(RelType.PAID, f"account:A{i}", "account:A0", key=f"t{i}")] if i else [],
            )
    counts = store.counts()
    assert counts.nodes == {"Account": 10}
    assert counts.relationships == {"PAID": 9}
    assert writer.nodes_written == 10
    assert writer.relationships_written == 9


def test_a_failed_background_write_is_raised_in_the_caller(store: GraphStore) -> None:
    writer = BatchWriter(store, batch_size=2)
    writer.add_node(node("account:A1", account_number="A1"))
    writer.add_relationship(rel(RelType.PAID, "account:A1", "account:MISSING", key="t1"))
    with pytest.raises(StoreError, match="account:MISSING"):
        writer.flush()


def _load_then_fail(store: GraphStore) -> None:
    with BatchWriter(store, batch_size=100) as writer:
        writer.add_node(node("account:A1", account_number="A1"))
        raise RuntimeError("parser failed")


def test_an_error_inside_the_block_discards_the_buffer(store: GraphStore) -> None:
    with pytest.raises(RuntimeError, match="parser failed"):
        _load_then_fail(store)
    assert store.counts().total_nodes == 0


def test_each_load_gives_back_its_writer_connection(tmp_path: Path) -> None:
    """The writer thread of every load opens its own SQLite connection (with a page cache of
    its own): loading many files must not keep one per file."""
    store = EmbeddedStore(tmp_path / "graph.sqlite")
    baseline = store.open_connections()
    for i in range(4):
        with BatchWriter(store, batch_size=2) as writer:
            for j in range(5):
                writer.add_node(node(f"account:F{i}N{j}", account_number=f"F{i}N{j}"))
        assert writer.nodes_written == 5
    assert store.open_connections() == baseline
    assert store.counts().nodes == {"Account": 20}
    store.close()


def test_the_writer_pauses_the_cyclic_collector_while_open(store: GraphStore) -> None:
    assert gc.isenabled()
    with BatchWriter(store, batch_size=2) as writer:
        assert not gc.isenabled()
        writer.add([node("account:A1", account_number="A1")], [])
    assert gc.isenabled()
    with pytest.raises(ValueError, match="boom"), BatchWriter(store) as writer:
        raise ValueError("boom")
    assert gc.isenabled()


def test_without_a_batch_size_the_writer_uses_the_stores_own(store: GraphStore) -> None:
    assert BatchWriter(store).batch_size == store.batch_size
    assert BatchWriter(store, batch_size=7).batch_size == 7
    with pytest.raises(ValueError, match="at least 1"):
        BatchWriter(store, batch_size=0)
