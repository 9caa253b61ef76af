"""Behaviour only the embedded store has: durability and multi-process safety."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from graph_models.records import NodeWrite
from graph_models.store.embedded import EmbeddedStore
from tests.factories import node, prov


def test_data_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with EmbeddedStore(path) as first:
        first.init_schema()
        first.write_nodes([node("company:customs:tax:GB1", name="ACME")])
    with EmbeddedStore(path) as second:
        assert second.require_node("company:customs:tax:GB1").properties["name"] == "ACME"


def _writer(path: str, worker: int) -> None:
    with EmbeddedStore(path) as store:
        for batch in range(20):
            rows: list[NodeWrite] = [
                node(
                    "country:GB",
                    prov(record=f"w{worker}-b{batch}-{i}", load=f"load-{worker}"),
                    code="GB",
                )
                for i in range(5)
            ]
            store.write_nodes(rows)


def test_two_writer_processes_do_not_lose_updates(tmp_path: Path) -> None:
    path = str(tmp_path / "g.sqlite")
    EmbeddedStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    with EmbeddedStore(path) as store:
        # Each process added its own load id; a lost read-modify-write would drop one.
        assert sorted(store.require_node("country:GB").provenance.sources) == [
            "customs|declarations.csv|load-0",
            "customs|declarations.csv|load-1",
        ]
