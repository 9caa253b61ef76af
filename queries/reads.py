"""A read-only view of a store that reads a node label or relationship type at most once.

A detection run asks for the same record families many times: declarations and their party
edges feed five trade detectors, tax returns three, flows and account holders four. Decoding
a stored record (JSON, provenance) is most of what a scan costs, so :class:`CachedReads`
keeps the labels and relationship types it is told to keep once streamed, and answers later
scans of them from memory; other families are streamed from the store each time (a family
read once would only cost memory). Look-ups (``get_nodes``) are answered from the kept labels
when they hold the key and passed on otherwise; everything else (one-hop ``expand``, degrees,
counts) is passed on unchanged. Writes are refused: the cache would go stale, and detectors
only read (``run_detectors`` saves alerts through the store itself).

Indexes built from the records (the shipments and the party index of
``queries.misinvoicing``) are kept too, through :meth:`CachedReads.derived`: the view cannot
change under them, so every detector of a run can share one.

Memory: the kept records stay alive for the view's lifetime (one detection run, until
``close``); they are the same objects the detectors would otherwise decode again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, TypeVar

from graph_models.records import GraphCounts, Node, Relationship
from graph_models.schema import Label, RelType
from graph_models.store.base import (
    Direction,
    Edge,
    GraphStore,
    ReadOnlyStore,
    check_edge_properties,
)

T = TypeVar("T")


class CachedReads(ReadOnlyStore):
    """``store`` seen through a scan cache of the labels and types given (read-only).

    ``labels`` / ``rel_types`` name the families to keep (None: every family scanned).
    """

    read_only = "a cached read view is read-only"

    def __init__(
        self,
        store: GraphStore,
        *,
        labels: Collection[Label] | None = None,
        rel_types: Collection[RelType] | None = None,
    ) -> None:
        self.store = store
        self.kind = store.kind
        self._keep_labels = None if labels is None else frozenset(labels)
        self._keep_types = None if rel_types is None else frozenset(rel_types)
        self._nodes: dict[Label, list[Node]] = {}
        self._by_key: dict[str, Node] = {}
        self._rels: dict[RelType, list[Relationship]] = {}
        self._derived: dict[str, Any] = {}

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """The index called ``name``, built by ``build`` on first use and kept after.

        The caller owns the name: one name, one kind of index (callers must not mutate it).
        """
        if name not in self._derived:
            self._derived[name] = build()
        found: T = self._derived[name]
        return found

    # --- scans, cached -----------------------------------------------------------------------
    def iter_nodes(self, labels: Collection[Label] | None = None) -> Iterator[Node]:
        """Nodes in (label, key) order, as the stores stream them; a whole-graph scan
        (``labels=None``) is passed on uncached."""
        if labels is None:
            yield from self.store.iter_nodes()
            return
        for label in sorted({Label(lb) for lb in labels}, key=lambda lb: lb.value):
            yield from self._label(label)

    def _label(self, label: Label) -> Iterator[Node] | list[Node]:
        if self._keep_labels is not None and label not in self._keep_labels:
            return self.store.iter_nodes([label])
        cached = self._nodes.get(label)
        if cached is None:
            cached = self._nodes[label] = list(self.store.iter_nodes([label]))
            self._by_key.update((n.key, n) for n in cached)
        return cached

    def iter_relationships(
        self, rel_types: Collection[RelType] | None = None
    ) -> Iterator[Relationship]:
        """Relationships of each type in turn (types in name order; the stores promise no
        order either); ``rel_types=None`` is passed on uncached."""
        if rel_types is None:
            yield from self.store.iter_relationships()
            return
        for rel_type in sorted({RelType(t) for t in rel_types}, key=lambda t: t.value):
            if self._keep_types is not None and rel_type not in self._keep_types:
                yield from self.store.iter_relationships([rel_type])
                continue
            cached = self._rels.get(rel_type)
            if cached is None:
                cached = self._rels[rel_type] = list(self.store.iter_relationships([rel_type]))
            yield from cached

    def iter_edges(
        self, rel_types: Collection[RelType], properties: Sequence[str] = ()
    ) -> Iterator[Edge]:
        """Kept types from their cached relationships, the others bare from the store."""
        check_edge_properties(rel_types, properties)
        for rel_type in sorted({RelType(t) for t in rel_types}, key=lambda t: t.value):
            if self._keep_types is not None and rel_type not in self._keep_types:
                yield from self.store.iter_edges([rel_type], properties)
                continue
            for rel in self.iter_relationships([rel_type]):
                values = tuple(rel.properties.get(p) for p in properties)
                yield Edge(rel.type, rel.start, rel.end, rel.key, values)

    def get_nodes(self, keys: Collection[str]) -> dict[str, Node]:
        out: dict[str, Node] = {}
        missing = []
        for key in keys:
            node = self._by_key.get(key)
            if node is None:
                missing.append(key)
            else:
                out[key] = node
        if missing:
            out.update(self.store.get_nodes(missing))
        return out

    # --- passed on ---------------------------------------------------------------------------
    def find_nodes(self, label: Label, prop: str, value: str, *, limit: int = 100) -> list[Node]:
        return self.store.find_nodes(label, prop, value, limit=limit)

    def expand(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> list[Relationship]:
        return self.store.expand(keys, rel_types=rel_types, direction=direction)

    def degrees(self, keys: Collection[str]) -> dict[str, int]:
        return self.store.degrees(keys)

    def capped_degrees(self, keys: Collection[str], cap: int) -> dict[str, int]:
        return self.store.capped_degrees(keys, cap)

    def counts(self) -> GraphCounts:
        return self.store.counts()

    def ping(self) -> str:
        return self.store.ping()

    def close(self) -> None:
        """Drop the cache; the underlying store stays open (its owner closes it)."""
        self._nodes.clear()
        self._by_key.clear()
        self._rels.clear()
        self._derived.clear()
