"""The ``GraphStore`` interface and the traversals both stores share.

A store implements a handful of primitives natively (batched merge writes, look-ups, one-hop
expansion, streaming scans, counts). Neighbourhoods, paths and networkx projections are built
once here on top of those primitives, so the two stores agree by construction and the
behaviour suite only has to prove that the primitives agree.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice, pairwise
from types import TracebackType
from typing import ClassVar, Literal, NamedTuple, NoReturn, Self, TypeVar

import networkx as nx

from graph_models.errors import NotFoundError, SchemaError, StoreError
from graph_models.merge import NodeMap, RelMap, coalesce_nodes, coalesce_relationships
from graph_models.records import (
    GraphCounts,
    Node,
    NodeWrite,
    Path,
    Relationship,
    RelWrite,
    Scalar,
    Subgraph,
)
from graph_models.schema import SCHEMA, Label, RelType

Direction = Literal["out", "in", "both"]


class Edge(NamedTuple):
    """A relationship without its provenance: see :meth:`GraphStore.iter_edges`."""

    type: RelType
    start: str
    end: str
    key: str
    values: tuple[Scalar | None, ...]


def check_edge_properties(rel_types: Collection[RelType], properties: Sequence[str]) -> None:
    """Edge scans read schema properties only (both stores then answer alike)."""
    for rel_type in rel_types:
        declared = SCHEMA.relationship(rel_type).properties
        missing = [p for p in properties if p not in declared]
        if missing:
            raise SchemaError(f"{RelType(rel_type).value} has no properties {missing}")


T = TypeVar("T")


@dataclass(frozen=True)
class Expansion:
    """Relationships found by ``GraphStore.expand_with_ends``, with the far end nodes and
    degrees the store read in the same round trip (any subset of them, maybe none)."""

    relationships: list[Relationship]
    nodes: dict[str, Node] = field(default_factory=dict)
    degrees: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Prefetch:
    """What ``GraphStore.prefetch_neighbourhood`` read around ``start`` in one round trip.

    ``first`` is ``expand_with_ends([start])`` (far end nodes and degrees included);
    ``second``, when not None, holds every relationship touching any of ``expanded`` (the far
    ends of ``first`` with at most ``hub_cap`` relationships, the start excepted), ordered by
    identity, with their far end nodes: a superset of what a second hop expands.
    """

    start: Node
    rel_types: frozenset[RelType] | None
    first: Expansion
    second: Expansion | None
    expanded: frozenset[str]


class ExpandRequest(NamedTuple):
    """One ``expand_with_ends`` call, as ``GraphStore.read_many`` takes it."""

    keys: frozenset[str]
    rel_types: frozenset[RelType] | None
    direction: Direction

    @classmethod
    def of(
        cls,
        keys: Collection[str],
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> ExpandRequest:
        types = frozenset(RelType(t) for t in rel_types) if rel_types is not None else None
        return cls(frozenset(keys), types, direction)


@dataclass(frozen=True)
class Batch:
    """What ``GraphStore.read_many`` read: the nodes that exist among those asked for, and
    each expansion asked for (relationships and far end nodes; no degrees)."""

    asked: frozenset[str]
    nodes: dict[str, Node]
    expansions: dict[ExpandRequest, Expansion]


class GraphStore(abc.ABC):
    """A graph of keyed nodes and keyed relationships with provenance."""

    kind: str = "abstract"
    # Distinct nodes or relationships a loader batch holds before it is written: what this
    # store writes best per transaction (see the subclasses).
    batch_size: int = 5_000

    # --- lifecycle -------------------------------------------------------------------------
    @abc.abstractmethod
    def init_schema(self) -> list[str]:
        """Create constraints and indexes from the schema (idempotent); return their names."""

    @abc.abstractmethod
    def ping(self) -> str:
        """Check the store answers; return a short description. Raise StoreUnavailableError."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def clear(self) -> None:
        """Delete every node and relationship (schema objects stay)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- writes ----------------------------------------------------------------------------
    @abc.abstractmethod
    def write_node_maps(self, rows: Sequence[NodeMap]) -> int:
        """Merge a batch of flat node maps (one per key, see graph_models.merge) in one
        transaction; return the number of rows."""

    @abc.abstractmethod
    def write_rel_maps(self, rows: Sequence[RelMap]) -> int:
        """Merge a batch of flat relationship maps in one transaction.

        Both end nodes must exist: a relationship to a missing node raises StoreError naming
        the missing keys, rather than being dropped.
        """

    def release_thread(self) -> None:
        """Free what the calling thread holds in the store (the embedded store keeps one
        connection, with its page cache, per thread). The batched writer calls this when its
        thread ends, so a long load of many files does not keep a cache per file."""
        return  # a store without per-thread state has nothing to free

    def prepare_node_maps(self, rows: Sequence[NodeMap]) -> Callable[[], int]:
        """``write_node_maps(rows)`` as a call to make later.

        A store does the CPU work it can up front (encoding rows as its parameters) here, in
        the caller's thread, so that the call does little but the store's own I/O: the batched
        writer prepares the next batch while the store is still busy with the previous one.
        """
        return partial(self.write_node_maps, rows)

    def prepare_rel_maps(self, rows: Sequence[RelMap]) -> Callable[[], int]:
        """``write_rel_maps(rows)`` as a call to make later (see ``prepare_node_maps``)."""
        return partial(self.write_rel_maps, rows)

    def write_nodes(self, rows: Sequence[NodeWrite]) -> int:
        """Merge a batch of node observations; return how many store rows they made."""
        return self.write_node_maps(coalesce_nodes(rows)) if rows else 0

    def write_relationships(self, rows: Sequence[RelWrite]) -> int:
        """Merge a batch of relationship observations (end nodes must exist)."""
        return self.write_rel_maps(coalesce_relationships(rows)) if rows else 0

    @abc.abstractmethod
    def delete_relationships(self, identities: Sequence[tuple[str, str, str, str]]) -> int:
        """Delete relationships by (type, start, end, key); return how many existed.

        Derived facts (resolution links, alerts) are retracted this way; source facts are
        never deleted by iffgraph, only superseded by later observations.
        """

    @abc.abstractmethod
    def delete_nodes(self, keys: Collection[str]) -> int:
        """Delete nodes and every relationship touching them; return how many existed."""

    # --- reads -----------------------------------------------------------------------------
    @abc.abstractmethod
    def get_nodes(self, keys: Collection[str]) -> dict[str, Node]:
        """The nodes that exist among ``keys``."""

    def get_node(self, key: str) -> Node | None:
        return self.get_nodes([key]).get(key)

    def require_node(self, key: str) -> Node:
        node = self.get_node(key)
        if node is None:
            raise NotFoundError(f"no node with key {key!r}")
        return node

    @abc.abstractmethod
    def find_nodes(self, label: Label, prop: str, value: str, *, limit: int = 100) -> list[Node]:
        """Nodes of ``label`` whose ``prop`` equals ``value``, ordered by key."""

    @abc.abstractmethod
    def expand(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> list[Relationship]:
        """Every relationship touching ``keys``, ordered by (type, start, end, key)."""

    @abc.abstractmethod
    def degrees(self, keys: Collection[str]) -> dict[str, int]:
        """Number of relationships (any type, any direction) on each node."""

    def expand_with_ends(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> Expansion:
        """``expand``, plus what the store read of the far end nodes in the same round trip.

        A store behind a network (Neo4j) returns the far ends' nodes and degrees with the
        relationships, saving the traversals a round trip per hop for each; a local store
        returns the relationships alone and callers look the rest up as they need it.
        """
        return Expansion(self.expand(keys, rel_types=rel_types, direction=direction))

    def prefetch_neighbourhood(
        self,
        key: str,
        *,
        hops: int,
        rel_types: Collection[RelType] | None,
        hub_cap: int,
        limit: int,
    ) -> Prefetch | None:
        """The first two hops around ``key`` read at once, for a traversal that filters them
        itself (queries.neighbourhood); None, without looking at ``key``, when the store has
        no cheaper way than hop by hop (a local store). A store that prefetches raises
        NotFoundError when there is no such node.

        A store behind a network (Neo4j) reads in one round trip what the traversal would
        otherwise ask for in three (the start, then each hop).
        """
        return None

    def read_many(
        self, nodes: Collection[str], expansions: Collection[ExpandRequest]
    ) -> Batch | None:
        """``get_nodes(nodes)`` and several ``expand_with_ends`` at once, for a query that
        knows up front what it will ask (queries.batched); None when the store has no
        cheaper way than one call each (a local store).

        A store behind a network (Neo4j) answers them all in one round trip.
        """
        return None

    def capped_degrees(self, keys: Collection[str], cap: int) -> dict[str, int]:
        """Each node's degree where it is at most ``cap``, and some number above ``cap``
        otherwise: all a hub check needs. Stores that count a hub's relationships one by one
        (the embedded store) override this to stop counting past the cap."""
        return self.degrees(keys)

    @abc.abstractmethod
    def iter_nodes(self, labels: Collection[Label] | None = None) -> Iterator[Node]:
        """Stream nodes (all, or of the given labels) in (label, key) order."""

    @abc.abstractmethod
    def iter_relationships(
        self, rel_types: Collection[RelType] | None = None
    ) -> Iterator[Relationship]:
        """Stream relationships (all, or of the given types)."""

    def iter_edges(
        self, rel_types: Collection[RelType], properties: Sequence[str] = ()
    ) -> Iterator[Edge]:
        """Stream relationships of ``rel_types`` as bare edges: type, ends, key and the values
        of ``properties`` (None where a relationship has none), without provenance or other
        properties. For scans that only need who links to whom: a store that can skip
        decoding the rest overrides this (the embedded store reads the values in SQL).

        Raises SchemaError for a property the schema does not give every one of the types.
        """
        check_edge_properties(rel_types, properties)
        for rel in self.iter_relationships(rel_types):
            values = tuple(rel.properties.get(p) for p in properties)
            yield Edge(rel.type, rel.start, rel.end, rel.key, values)

    @abc.abstractmethod
    def counts(self) -> GraphCounts: ...

    def node_counts(self, labels: Collection[Label]) -> dict[str, int]:
        """How many nodes each of ``labels`` has (by label value, 0 when none).

        ``counts`` also tallies every element's agencies, a scan of the whole graph (seconds
        at scale 10); stores override this with a count that reads no element.
        """
        nodes = self.counts().nodes
        return {Label(label).value: nodes.get(Label(label).value, 0) for label in labels}

    # --- shared traversals -----------------------------------------------------------------
    def neighbourhood(
        self,
        key: str,
        *,
        hops: int = 2,
        rel_types: Collection[RelType] | None = None,
        agencies: Collection[str] | None = None,
        limit: int = 500,
        hub_cap: int = 50,
    ) -> Subgraph:
        """Breadth-first ``hops`` around ``key``.

        Nodes with more than ``hub_cap`` relationships are included but not expanded through
        (except the start node), so a formation agent's address with thousands of companies
        cannot explode the result. ``agencies`` keeps only elements at least one of those
        agencies has seen. Expansion stops at ``limit`` nodes and says so in ``truncated``.
        """
        start = self.require_node(key)
        allowed = set(agencies) if agencies is not None else None
        seen: dict[str, None] = {key: None}
        rels: dict[tuple[str, str, str, str], Relationship] = {}
        capped: list[str] = []
        frontier = [key]
        truncated = False
        for _ in range(hops):
            if not frontier or truncated:
                break
            expandable = self._uncapped(frontier, hub_cap, exempt=key, capped=capped)
            next_frontier: list[str] = []
            for rel in self.expand(expandable, rel_types=rel_types):
                if allowed is not None and not allowed.intersection(rel.provenance.agencies):
                    continue
                for other in (rel.start, rel.end):
                    if other not in seen:
                        if len(seen) >= limit:
                            truncated = True
                            break
                        seen[other] = None
                        next_frontier.append(other)
                if rel.start in seen and rel.end in seen:
                    rels[rel.identity] = rel
            frontier = next_frontier
        nodes = self.get_nodes(list(seen))
        nodes[key] = start
        return Subgraph(
            nodes=[nodes[k] for k in sorted(nodes)],
            relationships=[rels[i] for i in sorted(rels)],
            truncated=truncated,
            capped=sorted(capped),
        )

    def _uncapped(
        self, frontier: list[str], hub_cap: int, *, exempt: str, capped: list[str]
    ) -> list[str]:
        # The start node is expanded whatever its degree: no need to count it.
        degrees = self.capped_degrees([k for k in frontier if k != exempt], hub_cap)
        out = []
        for k in frontier:
            if k != exempt and degrees.get(k, 0) > hub_cap:
                capped.append(k)
            else:
                out.append(k)
        return out

    def shortest_paths(
        self,
        source: str,
        target: str,
        *,
        k: int = 3,
        max_hops: int = 4,
        rel_types: Collection[RelType] | None = None,
        agencies: Collection[str] | None = None,
        hub_cap: int = 50,
        limit: int = 5_000,
    ) -> list[Path]:
        """Up to ``k`` shortest simple paths (ignoring direction) of at most ``max_hops``.

        Paths are searched inside the hub-capped neighbourhood of ``source``; ties are broken
        by the sorted node keys so both stores return the same paths in the same order.
        """
        self.require_node(target)
        sub = self.neighbourhood(
            source,
            hops=max_hops,
            rel_types=rel_types,
            agencies=agencies,
            limit=limit,
            hub_cap=hub_cap,
        )
        graph = nx.Graph()
        by_pair: dict[frozenset[str], list[Relationship]] = {}
        for rel in sub.relationships:
            graph.add_edge(rel.start, rel.end)
            by_pair.setdefault(frozenset((rel.start, rel.end)), []).append(rel)
        if target not in graph or source not in graph:
            return []
        # Enumerate by length, then order ties by keys; simple paths are generated lazily so
        # only as many as needed (plus the ties at the last length) are materialised.
        found: list[list[str]] = []
        for nodes in nx.shortest_simple_paths(graph, source, target):
            if len(nodes) - 1 > max_hops:
                break
            if len(found) >= k and len(nodes) > len(found[-1]):
                break
            found.append(nodes)
        found.sort(key=lambda p: (len(p), p))
        return [
            Path(
                nodes=p,
                relationships=[min(by_pair[frozenset(e)], key=_rel_order) for e in _pairs(p)],
            )
            for p in found[:k]
        ]

    def project(
        self,
        *,
        labels: Collection[Label] | None = None,
        rel_types: Collection[RelType] | None = None,
    ) -> nx.MultiDiGraph:
        """A networkx projection for analytics: nodes carry label and properties, edges their
        type, key and properties. With ``rel_types`` only, nodes are those the edges touch."""
        graph = nx.MultiDiGraph()
        if labels is not None or rel_types is None:
            for node in self.iter_nodes(labels):
                graph.add_node(node.key, label=node.label.value, **node.properties)
        for rel in self.iter_relationships(rel_types):
            if labels is not None and (rel.start not in graph or rel.end not in graph):
                continue
            graph.add_edge(
                rel.start,
                rel.end,
                key=f"{rel.type.value}:{rel.key}",
                type=rel.type.value,
                **rel.properties,
            )
        return graph


def far_ends(store: GraphStore, keys: Collection[str], *found: Expansion) -> dict[str, Node]:
    """The nodes at the far ends of relationships found around ``keys`` (both ends of one
    between two of them): those the expansions brought, the rest read in one look-up."""
    near = set(keys)
    nodes: dict[str, Node] = {}
    needed: set[str] = set()
    for expansion in found:
        nodes.update(expansion.nodes)
        for rel in expansion.relationships:
            inner = rel.start in near and rel.end in near
            if inner or rel.start not in near:
                needed.add(rel.start)
            if inner or rel.end not in near:
                needed.add(rel.end)
    missing = needed - nodes.keys()
    if missing:
        nodes.update(store.get_nodes(missing))
    return nodes


def _pairs(nodes: list[str]) -> Iterable[tuple[str, str]]:
    return pairwise(nodes)


def _rel_order(rel: Relationship) -> tuple[str, str, str, str]:
    return rel.identity


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Chunks of ``size`` items (itertools.batched returns tuples and is 3.12+)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class ReadOnlyStore(GraphStore):
    """A view over another store that refuses every change, before any work is done.

    Views (a detection run's cached reads, an investigator's filtered neighbourhood) answer
    reads only; refusing in ``prepare_*`` too means a batched writer pointed at one fails in the
    caller's thread at once, not later in its writer thread.
    """

    read_only: ClassVar[str] = "this view of the store is read-only"

    def _refuse(self) -> NoReturn:
        raise StoreError(self.read_only)

    def init_schema(self) -> list[str]:
        self._refuse()

    def clear(self) -> None:
        self._refuse()

    def write_node_maps(self, rows: Sequence[NodeMap]) -> int:
        self._refuse()

    def write_rel_maps(self, rows: Sequence[RelMap]) -> int:
        self._refuse()

    def prepare_node_maps(self, rows: Sequence[NodeMap]) -> Callable[[], int]:
        self._refuse()

    def prepare_rel_maps(self, rows: Sequence[RelMap]) -> Callable[[], int]:
        self._refuse()

    def write_nodes(self, rows: Sequence[NodeWrite]) -> int:
        self._refuse()

    def write_relationships(self, rows: Sequence[RelWrite]) -> int:
        self._refuse()

    def delete_relationships(self, identities: Sequence[tuple[str, str, str, str]]) -> int:
        self._refuse()

    def delete_nodes(self, keys: Collection[str]) -> int:
        self._refuse()
