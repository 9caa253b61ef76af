"""Bulk batches written by the embedded store's writer process (embedded_process).

The process must be invisible in the result: the same delivery gives the same graph whether
its batches are written in the loader's thread or in the child, errors reach the caller as
they would in-process, and a child that dies is an error rather than a hang or a loss.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datagen import generate
from graph_models.errors import StoreError
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from loaders.base import LoadOptions
from loaders.catalog import load_dir
from tests.factories import node, rel


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("delivery")
    generate(out, scale=0.02, seed=5)
    return out


def _store(path: Path, process_min_rows: int | None) -> EmbeddedStore:
    store = EmbeddedStore(path, process_min_rows=process_min_rows)
    store.init_schema()
    return store


def _graph(store: GraphStore) -> tuple[list[object], list[object]]:
    nodes = [(n.key, n.label, n.properties, n.provenance) for n in store.iter_nodes()]
    rels = sorted(
        ((r.identity, r.properties, r.provenance) for r in store.iter_relationships()),
        key=lambda t: t[0],
    )
    return nodes, rels  # type: ignore[return-value]


def test_a_delivery_written_by_the_process_equals_one_written_in_thread(
    delivery: Path, tmp_path: Path
) -> None:
    options = LoadOptions(quiet=True, quarantine_dir=tmp_path / "q", reports_dir=None)
    with (
        _store(tmp_path / "thread.sqlite", None) as in_thread,
        _store(tmp_path / "process.sqlite", 1) as by_process,
    ):
        load_dir(delivery, in_thread, options)
        load_dir(delivery, by_process, options)
        assert in_thread.writer_peak_rss_mib() == 0.0  # never started a process
        assert by_process.writer_peak_rss_mib() > 0.0  # did
        assert by_process.counts() == in_thread.counts()
        assert by_process.counts().total_relationships > 0
        assert _graph(by_process) == _graph(in_thread)
        # Re-loading through the process changes nothing either.
        load_dir(delivery, by_process, options)
        assert _graph(by_process) == _graph(in_thread)


def test_a_dangling_relationship_is_refused_in_the_caller(tmp_path: Path) -> None:
    with _store(tmp_path / "g.sqlite", 1) as store:
        store.write_nodes([node("company:a")])
        with pytest.raises(StoreError, match="company:ghost"):
            store.write_relationships([rel("DIRECTOR_OF", "company:a", "company:ghost")])
        assert store.counts().total_relationships == 0
        # The process survives a refused batch and takes the next one.
        store.write_nodes([node("company:ghost")])
        store.write_relationships([rel("DIRECTOR_OF", "company:a", "company:ghost")])
        assert store.counts().total_relationships == 1


def test_a_writer_process_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    with _store(tmp_path / "g.sqlite", 1) as store:
        store.write_nodes([node("company:a")])
        os.kill(store.writer_process().pid, signal.SIGKILL)
        with pytest.raises(StoreError, match="writer process stopped"):
            store.write_nodes([node("company:b")])
        assert set(store.get_nodes(["company:a", "company:b"])) == {"company:a"}


def test_closing_the_store_ends_its_writer_process(tmp_path: Path) -> None:
    store = _store(tmp_path / "g.sqlite", 1)
    store.write_nodes([node("company:a")])
    pid = store.writer_process().pid
    store.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # exited and reaped


_PARENT = """
import os, sys
from graph_models.store.embedded import EmbeddedStore
from tests.factories import node
store = EmbeddedStore(sys.argv[1], process_min_rows=1)
store.write_nodes([node("company:a")])
print(store.writer_process().pid, flush=True)
os.kill(os.getpid(), 9)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it has exited all the same.
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


def test_a_writer_process_outlives_no_parent(tmp_path: Path) -> None:
    # The parent is killed without closing anything: the child sees its pipe close and exits.
    parent = subprocess.run(
        [sys.executable, "-c", _PARENT, str(tmp_path / "g.sqlite")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
        timeout=60,
    )
    assert parent.returncode == -signal.SIGKILL, parent.stderr
    pid = int(parent.stdout.strip())
    deadline = time.monotonic() + 30
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)
    # What it committed before is there.
    with EmbeddedStore(tmp_path / "g.sqlite") as store:
        assert set(store.get_nodes(["company:a"])) == {"company:a"}
