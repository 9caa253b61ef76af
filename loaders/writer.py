"""The batched writer every loader writes through.

Observations are merged into one flat map per node key and per relationship identity while
they wait (graph_models.merge), so a trader named in a thousand declarations of a batch costs
the store one row, not a thousand; a batch goes to the store when ``batch_size`` distinct
nodes or relationships are pending. Nodes are always flushed before relationships so a
relationship never reaches the store before the nodes it joins (the stores refuse dangling
relationships rather than dropping them).

Batches are written by one background thread while the caller parses and validates the next
batch: the store's work (network and database time for Neo4j, SQLite for the embedded store)
overlaps the loader's Python work. The caller also prepares each batch (the store encodes its
rows, ``GraphStore.prepare_*``) before queueing it, so the writer thread's turn between two
batches is only I/O and the store never waits for the next batch's encoding. One worker and
a FIFO queue keep the write order exactly the order of ``add`` calls; the queue holds at most
two batches, so memory stays bounded.
An error in the worker is raised in the caller at the next add or flush.

Used as a context manager (as every loader does) the writer pauses Python's cyclic garbage
collector until it exits; at each batch it collects the young generations only if enough has
piled up since the last time (graph_models.collector). The pending maps are hundreds of
thousands of live containers, and full collections over them were half the caller's CPU per
relationship.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from graph_models.collector import collect_young, cyclic_gc_paused
from graph_models.merge import NodeMap, Observed, RelMap, absorb, fresh_flat
from graph_models.records import NodeWrite, RelWrite
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore

_STOP = None


def _by_ends(ident: tuple[RelType, str, str, str]) -> tuple[str, RelType, str, str]:
    rel_type, start, end, key = ident
    return (start, rel_type, end, key)


class BatchWriter:
    def __init__(self, store: GraphStore, *, batch_size: int | None = None) -> None:
        batch_size = store.batch_size if batch_size is None else batch_size
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store = store
        self.batch_size = batch_size
        self._nodes: dict[str, NodeMap] = {}
        self._rels: dict[tuple[RelType, str, str, str], RelMap] = {}
        self.nodes_written = 0
        self.relationships_written = 0
        self._queue: queue.Queue[tuple[bool, Callable[[], int]] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._worker: threading.Thread | None = None
        self._gc_pause: contextlib.ExitStack | None = None

    # --- caller side -----------------------------------------------------------------------
    def observe(
        self,
        nodes: list[tuple[Label, str, dict[str, Any]]],
        rels: list[tuple[RelType, str, str, str, dict[str, Any]]],
        obs: Observed,
    ) -> None:
        """Add one record's observations (already checked against the schema)."""
        pending_nodes = self._nodes
        for label, key, props in nodes:
            entry = pending_nodes.get(key)
            if entry is None:
                pending_nodes[key] = (label, key, fresh_flat(props, obs))
            else:
                absorb(entry[2], props, obs)
        pending_rels = self._rels
        for rel_type, start, end, key, props in rels:
            ident = (rel_type, start, end, key)  # a StrEnum member: no .value look-up
            rel_entry = pending_rels.get(ident)
            if rel_entry is None:
                pending_rels[ident] = (rel_type, start, end, key, fresh_flat(props, obs))
            else:
                absorb(rel_entry[4], props, obs)
        if len(pending_nodes) >= self.batch_size or len(pending_rels) >= self.batch_size:
            self._submit_pending()

    def add_node(self, row: NodeWrite) -> None:
        self.observe([(row.label, row.key, dict(row.properties))], [], Observed.of(row.provenance))

    def add_relationship(self, row: RelWrite) -> None:
        self.observe(
            [],
            [(row.type, row.start, row.end, row.key, dict(row.properties))],
            Observed.of(row.provenance),
        )

    def add(self, nodes: list[NodeWrite], rels: list[RelWrite]) -> None:
        """Add validated write models (each keeps its own provenance)."""
        for node in nodes:
            self.add_node(node)
        for rel in rels:
            self.add_relationship(rel)

    def _submit_pending(self) -> None:
        # Key order makes the stores' index look-ups and inserts walk their B-trees in order
        # instead of at random: fewer page misses in SQLite, better locality in Neo4j.
        if self._nodes:
            nodes: list[NodeMap] = [self._nodes[k] for k in sorted(self._nodes)]
            self._nodes = {}
            self._submit(True, self.store.prepare_node_maps(nodes))
        if self._rels:
            rels: list[RelMap] = [self._rels[k] for k in sorted(self._rels, key=_by_ends)]
            self._rels = {}
            self._submit(False, self.store.prepare_rel_maps(rels))
        collect_young()

    def _submit(self, is_nodes: bool, write: Callable[[], int]) -> None:
        self._raise_pending()
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="batch-writer", daemon=True)
            self._worker.start()
        self._queue.put((is_nodes, write))

    def flush(self) -> None:
        """Write everything pending and wait until the store has it."""
        self._submit_pending()
        self._drain()

    def _drain(self) -> None:
        if self._worker is not None:
            self._queue.put(_STOP)
            self._worker.join()
            self._worker = None
        self._raise_pending()

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # --- worker side -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._work()
        finally:
            self.store.release_thread()

    def _work(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            if self._error is not None:
                continue  # keep draining so the caller never blocks on a full queue
            is_nodes, write = item
            try:
                if is_nodes:
                    self.nodes_written += write()
                else:
                    self.relationships_written += write()
            except BaseException as e:
                self._error = e

    # --- context manager -------------------------------------------------------------------
    def __enter__(self) -> Self:
        self._gc_pause = contextlib.ExitStack()
        self._gc_pause.enter_context(cyclic_gc_paused())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pause, self._gc_pause = self._gc_pause, None
        with pause or contextlib.nullcontext():
            if exc_type is None:
                self.flush()
            else:
                self._nodes, self._rels = {}, {}
                # The exception already propagating is the one to report.
                with contextlib.suppress(BaseException):
                    self._drain()
