"""Reads asked for up front, answered from one round trip where the store can.

A query that knows which look-ups and expansions it will make (a profile: the record, its
resolution link, its records' links and its alerts) asks :func:`read_ahead` for them at once;
on Neo4j that is one statement instead of a round trip each (``GraphStore.read_many``). The
query then runs unchanged on the returned view, whose ``get_nodes`` / ``expand_with_ends``
answer from the batch when asked what was read ahead (or an expansion of some of the keys
read ahead: what touches them is among what touches all), and ask the store otherwise. A
store without a cheaper way (the embedded store) is returned as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from graph_models.records import GraphCounts, Node, Relationship
from graph_models.schema import Label, RelType
from graph_models.store.base import (
    Batch,
    Direction,
    Edge,
    ExpandRequest,
    Expansion,
    GraphStore,
    ReadOnlyStore,
)


def read_ahead(
    store: GraphStore, nodes: Collection[str], expansions: Collection[ExpandRequest]
) -> GraphStore:
    """``store``, or a view of it holding ``nodes`` and ``expansions`` read in one go."""
    batch = store.read_many(nodes, expansions)
    return store if batch is None else BatchedReads(store, batch)


class BatchedReads(ReadOnlyStore):
    """``store`` with one batch of reads already made (read-only)."""

    read_only = "a read-ahead view is read-only"

    def __init__(self, store: GraphStore, batch: Batch) -> None:
        self.store = store
        self.batch = batch
        self.kind = store.kind

    def get_nodes(self, keys: Collection[str]) -> dict[str, Node]:
        wanted = set(keys)
        if not wanted <= self.batch.asked:
            return self.store.get_nodes(keys)
        nodes = self.batch.nodes
        return {k: nodes[k] for k in wanted if k in nodes}

    def _found(self, request: ExpandRequest) -> Expansion | None:
        """The expansion read ahead for ``request``, or cut from one read ahead for more
        keys (same types and direction); None when neither was."""
        found = self.batch.expansions.get(request)
        if found is not None:
            return found
        for asked, wider in self.batch.expansions.items():
            if (asked.rel_types, asked.direction) == (request.rel_types, request.direction) and (
                request.keys <= asked.keys
            ):
                keys, direction = request.keys, request.direction
                rels = [
                    r
                    for r in wider.relationships
                    if (direction != "in" and r.start in keys)
                    or (direction != "out" and r.end in keys)
                ]
                return Expansion(rels, wider.nodes)
        return None

    def expand_with_ends(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> Expansion:
        found = self._found(ExpandRequest.of(keys, rel_types, direction))
        if found is None:
            return self.store.expand_with_ends(keys, rel_types=rel_types, direction=direction)
        return found

    def expand(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> list[Relationship]:
        found = self._found(ExpandRequest.of(keys, rel_types, direction))
        if found is None:
            return self.store.expand(keys, rel_types=rel_types, direction=direction)
        return list(found.relationships)

    # --- passed on -------------------------------------------------------------------------
    def find_nodes(self, label: Label, prop: str, value: str, *, limit: int = 100) -> list[Node]:
        return self.store.find_nodes(label, prop, value, limit=limit)

    def degrees(self, keys: Collection[str]) -> dict[str, int]:
        return self.store.degrees(keys)

    def capped_degrees(self, keys: Collection[str], cap: int) -> dict[str, int]:
        return self.store.capped_degrees(keys, cap)

    def iter_nodes(self, labels: Collection[Label] | None = None) -> Iterator[Node]:
        return self.store.iter_nodes(labels)

    def iter_relationships(
        self, rel_types: Collection[RelType] | None = None
    ) -> Iterator[Relationship]:
        return self.store.iter_relationships(rel_types)

    def iter_edges(
        self, rel_types: Collection[RelType], properties: Sequence[str] = ()
    ) -> Iterator[Edge]:
        return self.store.iter_edges(rel_types, properties)

    def counts(self) -> GraphCounts:
        return self.store.counts()

    def node_counts(self, labels: Collection[Label]) -> dict[str, int]:
        return self.store.node_counts(labels)

    def ping(self) -> str:
        return self.store.ping()

    def close(self) -> None:
        """The view does not own the store: closing it leaves the store open."""
