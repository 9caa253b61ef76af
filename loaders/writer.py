"""The batched writer every loader writes through.

Observations are buffered and handed to the store in batches of ``batch_size``; nodes are
always flushed before relationships so a relationship never reaches the store before the
nodes it joins (the stores refuse dangling relationships rather than dropping them).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from graph_models.records import NodeWrite, RelWrite
from graph_models.store.base import GraphStore


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

    def add_node(self, row: NodeWrite) -> None:
        self._nodes.append(row)
        if len(self._nodes) >= self.batch_size:
            self._flush_nodes()

    def add_relationship(self, row: RelWrite) -> None:
        self._rels.append(row)
        if len(self._rels) >= self.batch_size:
            self.flush()

    def add(self, nodes: list[NodeWrite], rels: list[RelWrite]) -> None:
        """Add one source record's observations together."""
        for node in nodes:
            self.add_node(node)
        for rel in rels:
            self.add_relationship(rel)

    def _flush_nodes(self) -> None:
        if self._nodes:
            self.nodes_written += self.store.write_nodes(self._nodes)
            self._nodes = []

    def flush(self) -> None:
        self._flush_nodes()
        if self._rels:
            self.relationships_written += self.store.write_relationships(self._rels)
            self._rels = []

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
