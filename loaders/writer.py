"""The batched writer every loader writes through.

Observations are buffered and handed to the store in batches of ``batch_size``; nodes are
always flushed before relationships so a relationship never reaches the store before the
nodes it joins (the stores refuse dangling relationships rather than dropping them).

Batches are written by one background thread while the caller parses and validates the next
batch: the store's work (network and database time for Neo4j, SQLite for the embedded store)
overlaps the loader's Python work. One worker and a FIFO queue keep the write order exactly
the order of ``add`` calls; the queue holds at most two batches, so memory stays bounded.
An error in the worker is raised in the caller at the next add or flush.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from graph_models.records import NodeWrite, RelWrite
from graph_models.store.base import GraphStore

_STOP = None


class BatchWriter:
    def __init__(self, store: GraphStore, *, batch_size: int = 5_000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store = store
        self.batch_size = batch_size
        self._nodes: list[NodeWrite] = []
        self._rels: list[RelWrite] = []
        self.nodes_written = 0
        self.relationships_written = 0
        self._queue: queue.Queue[tuple[bool, Sequence[NodeWrite | RelWrite]] | None] = queue.Queue(
            maxsize=2
        )
        self._error: BaseException | None = None
        self._worker: threading.Thread | None = None

    # --- caller side -----------------------------------------------------------------------
    def add_node(self, row: NodeWrite) -> None:
        self._nodes.append(row)
        if len(self._nodes) >= self.batch_size:
            self._submit_nodes()

    def add_relationship(self, row: RelWrite) -> None:
        self._rels.append(row)
        if len(self._rels) >= self.batch_size:
            self._submit_nodes()
            self._submit(False, self._rels)
            self._rels = []

    def add(self, nodes: list[NodeWrite], rels: list[RelWrite]) -> None:
        """Add one source record's observations together."""
        for node in nodes:
            self.add_node(node)
        for rel in rels:
            self.add_relationship(rel)

    def _submit_nodes(self) -> None:
        if self._nodes:
            self._submit(True, self._nodes)
            self._nodes = []

    def _submit(self, is_nodes: bool, rows: Sequence[NodeWrite | RelWrite]) -> None:
        self._raise_pending()
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="batch-writer", daemon=True)
            self._worker.start()
        self._queue.put((is_nodes, rows))

    def flush(self) -> None:
        """Write everything buffered and wait until the store has it."""
        self._submit_nodes()
        if self._rels:
            self._submit(False, self._rels)
            self._rels = []
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
        while (item := self._queue.get()) is not _STOP:
            if self._error is not None:
                continue  # keep draining so the caller never blocks on a full queue
            is_nodes, rows = item
            try:
                if is_nodes:
                    self.nodes_written += self.store.write_nodes(rows)  # type: ignore[arg-type]
                else:
                    self.relationships_written += self.store.write_relationships(
                        rows  # type: ignore[arg-type]
                    )
            except BaseException as e:
                self._error = e

    # --- context manager -------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.flush()
        else:
            self._nodes, self._rels = [], []
            # The exception already propagating is the one to report.
            with contextlib.suppress(BaseException):
                self._drain()
