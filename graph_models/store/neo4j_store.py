"""The Neo4j store: the official driver, batched ``UNWIND $rows ... MERGE`` writes.

The driver is passed in (one per process, owned by the app's lifespan or the CLI); the store
only opens sessions on it. Every call names its database. Writes run as managed transactions
(``execute_write``), which the driver retries on transient errors; the MERGE statements are
idempotent, so a retried batch changes nothing it had not already changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, LiteralString, TypeVar

import neo4j
from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable

from graph_models.errors import NotFoundError, StoreError, StoreUnavailableError
from graph_models.merge import NodeMap, RelMap, split_flat
from graph_models.records import (
    RECORD_ID_CAP,
    GraphCounts,
    Node,
    Relationship,
)
from graph_models.schema import PROVENANCE_PROPERTIES, SCHEMA, Label, RelType
from graph_models.store import neo4j_cypher as cy
from graph_models.store.base import (
    Batch,
    Direction,
    ExpandRequest,
    Expansion,
    GraphStore,
    Prefetch,
    batched,
)
from graph_models.store.element_ids import ElementIdCache
from graph_models.store.rows import node as build_node
from graph_models.store.rows import rel_type_of
from graph_models.store.rows import relationship as build_relationship

T = TypeVar("T")
_KEYS_CHUNK = 5_000
READ_ATTEMPTS = 3


def _q(text: str) -> LiteralString:
    # Builders only format schema-validated names into the text (see neo4j_cypher); mypy
    # treats LiteralString as str, the annotation documents the driver's expectation.
    return text


_PROVENANCE = frozenset(PROVENANCE_PROPERTIES)


class _Rows(list[Any]):
    """Batch rows as a Cypher parameter, with a one-line repr.

    The driver formats every RUN message for its DEBUG log before it knows whether DEBUG is
    on: a repr of all parameters, 16 ms for a batch of 5,000 relationship rows and a fifth of
    the writer thread's time (py-spy on benchmarks/ingest). With this repr the log line says
    how many rows went, and record values (names, ids, amounts) stay out of a debug log.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


def _by_label(keys: Collection[str]) -> dict[Label, list[str]]:
    grouped: dict[Label, list[str]] = defaultdict(list)
    for key in sorted(set(keys)):
        grouped[SCHEMA.label_of_key(key)].append(key)
    return grouped


class Neo4jStore(GraphStore):
    kind = "neo4j"

    def __init__(self, driver: Driver, *, database: str = "neo4j", owns_driver: bool = False):
        self._driver = driver
        self.database = database
        self._owns_driver = owns_driver
        self._known_ids = ElementIdCache()

    @classmethod
    def connect(cls, uri: str, user: str, password: str, *, database: str = "neo4j") -> Neo4jStore:
        """Open a driver that this store owns and closes (for the CLI and tests)."""
        # Counting a label or type that no data has used yet is normal here (stats, empty
        # stores); the server's "does not exist" notices about it are noise.
        driver = GraphDatabase.driver(
            uri,
            auth=(user, password),
            notifications_disabled_classifications=[
                neo4j.NotificationDisabledClassification.UNRECOGNIZED
            ],
        )
        return cls(driver, database=database, owns_driver=True)

    def close(self) -> None:
        if self._owns_driver:
            self._driver.close()

    # --- plumbing --------------------------------------------------------------------------
    def _write(self, work: Callable[[ManagedTransaction], T]) -> T:
        try:
            with self._driver.session(database=self.database) as session:
                return session.execute_write(work)
        except ServiceUnavailable as e:
            raise StoreUnavailableError(f"Neo4j unavailable: {e}") from e
        except (Neo4jError, DriverError) as e:
            raise StoreError(f"Neo4j write failed: {e}") from e

    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        # An auto-commit read (one statement, RUN and PULL) rather than execute_query's
        # managed transaction, whose BEGIN and COMMIT made every read two round trips and a
        # third more client CPU. What the managed transaction added is kept: a retryable
        # failure (a leader change, a dropped connection) is tried again.
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                with self._driver.session(
                    database=self.database, default_access_mode=neo4j.READ_ACCESS
                ) as session:
                    result = session.run(_q(query), params)
                    keys = result.keys()
                    # Zipped with the keys, not data(): data() walks every value recursively
                    # to turn graph objects into maps, and these queries return only maps and
                    # scalars (a fifth of a neighbourhood's client time went there).
                    return [dict(zip(keys, r, strict=True)) for r in result]
            except (Neo4jError, DriverError) as e:
                if attempt < READ_ATTEMPTS and e.is_retryable():
                    continue
                if isinstance(e, ServiceUnavailable):
                    raise StoreUnavailableError(f"Neo4j unavailable: {e}") from e
                raise StoreError(f"Neo4j read failed: {e}") from e
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _stream(self, query: str, **params: Any) -> Iterator[dict[str, Any]]:
        try:
            with self._driver.session(database=self.database) as session:
                result = session.run(_q(query), params)
                keys = result.keys()
                for record in result:
                    yield dict(zip(keys, record, strict=True))
        except ServiceUnavailable as e:
            raise StoreUnavailableError(f"Neo4j unavailable: {e}") from e
        except (Neo4jError, DriverError) as e:
            raise StoreError(f"Neo4j read failed: {e}") from e

    # --- lifecycle -------------------------------------------------------------------------
    def ping(self) -> str:
        try:
            self._driver.verify_connectivity()
        except (Neo4jError, DriverError, OSError) as e:
            raise StoreUnavailableError(f"Neo4j unavailable: {e}") from e
        rows = self._read(cy.SERVER_VERSION)
        versions = ", ".join(f"{r['name']} {r['versions'][0]} {r['edition']}" for r in rows)
        return f"{versions} (database {self.database})"

    def init_schema(self) -> list[str]:
        statements = []
        for label, node_type in SCHEMA.nodes.items():
            statements.append(cy.key_constraint(label))
            statements.extend(cy.property_index(label, p) for p in node_type.indexed)
        for _, ddl in statements:
            self._run_auto(ddl)
        self._run_auto(cy.AWAIT_INDEXES)
        return [name for name, _ in statements]

    def _run_auto(self, query: str) -> None:
        # Schema commands and CALL { } IN TRANSACTIONS need an auto-commit transaction.
        try:
            with self._driver.session(database=self.database) as session:
                session.run(_q(query)).consume()
        except ServiceUnavailable as e:
            raise StoreUnavailableError(f"Neo4j unavailable: {e}") from e
        except (Neo4jError, DriverError) as e:
            raise StoreError(f"Neo4j statement failed: {e}") from e

    def clear(self) -> None:
        self._known_ids.clear()
        for statement in cy.CLEAR:
            self._run_auto(statement)

    # --- writes ----------------------------------------------------------------------------
    def write_node_maps(self, rows: Sequence[NodeMap]) -> int:
        return self.prepare_node_maps(rows)()

    def write_rel_maps(self, rows: Sequence[RelMap]) -> int:
        return self.prepare_rel_maps(rows)()

    # Preparing (rows as Bolt parameters) runs in the caller's thread while the previous batch
    # is still on the server; the write call only fills in end-node ids and talks to Neo4j.
    def prepare_node_maps(self, rows: Sequence[NodeMap]) -> Callable[[], int]:
        by_label: dict[Label, _Rows] = defaultdict(_Rows)
        for label, key, flat in rows:
            by_label[label].append({"key": key, **split_flat(flat)})
        return partial(self._merge_nodes, by_label)

    def _merge_nodes(self, by_label: dict[Label, _Rows]) -> int:
        if not by_label:
            return 0

        def work(tx: ManagedTransaction) -> list[tuple[str, str]]:
            pairs: list[tuple[str, str]] = []
            for label, params in by_label.items():
                result = tx.run(_q(cy.merge_nodes(label)), rows=params, cap=RECORD_ID_CAP)
                got = result.single(strict=True)
                pairs.extend(zip(got["keys"], got["ids"], strict=True))
            return pairs

        pairs = self._write(work)
        self._known_ids.remember(pairs)  # only once committed: the nodes now exist
        _release(by_label.values())
        return len(pairs)

    def prepare_rel_maps(self, rows: Sequence[RelMap]) -> Callable[[], int]:
        groups: dict[tuple[RelType, Label, Label], list[RelMap]] = defaultdict(list)
        for row in rows:
            groups[(row[0], SCHEMA.label_of_key(row[1]), SCHEMA.label_of_key(row[2]))].append(row)
        batches = []
        for (rel_type, start, end), group in groups.items():
            params, provs, props = _rel_params(group)
            query = cy.merge_relationships(rel_type, start, end, props)
            batches.append(_RelBatch(rel_type, query, params, provs))
        ends = {r[1] for r in rows} | {r[2] for r in rows}
        return partial(self._merge_rel_batches, batches, ends)

    def _merge_rel_batches(self, batches: list[_RelBatch], ends: set[str]) -> int:
        if not batches:
            return 0
        try:
            written = self._write(lambda tx: self._merge_rels(tx, batches, ends, trust=True))
        except _StaleElementIdError:
            # A remembered id no longer names the node with that key (deleted, perhaps
            # reused): the transaction rolled back; look every end up again.
            self._known_ids.forget(ends)
            written = self._write(lambda tx: self._merge_rels(tx, batches, ends, trust=False))
        _release(batch.rows for batch in batches)
        return written

    def _merge_rels(
        self, tx: ManagedTransaction, batches: list[_RelBatch], ends: set[str], *, trust: bool
    ) -> int:
        # End nodes are found before anything is written: a dangling relationship fails the
        # batch with the missing keys and writes nothing.
        ids, unknown = self._known_ids.split(ends) if trust else ({}, sorted(ends))
        remembered = bool(ids)
        if unknown:
            wanted = _by_label(unknown)
            found = _element_ids(tx, wanted)
            _refuse_missing(wanted, found)
            ids.update(found)
            self._known_ids.remember(found.items())
        written = 0
        for batch in batches:
            _fill_ids(batch.rows, ids)
            result = tx.run(_q(batch.query), rows=batch.rows, provs=batch.provs, cap=RECORD_ID_CAP)
            got = result.single(strict=True)
            count = int(got["written"])
            if count != len(batch.rows) or got["misplaced"]:
                if remembered:
                    raise _StaleElementIdError
                # A node deleted by another transaction since the look-up.
                wanted = _by_label(ends)
                _refuse_missing(wanted, _element_ids(tx, wanted))
                raise StoreError(f"{batch.rel_type} batch wrote {count} of {len(batch.rows)} rows")
            written += count
        return written

    def delete_relationships(self, identities: Sequence[tuple[str, str, str, str]]) -> int:
        groups: dict[tuple[RelType, Label, Label], list[dict[str, str]]] = defaultdict(list)
        for rel_type, start, end, key in identities:
            group = (RelType(rel_type), SCHEMA.label_of_key(start), SCHEMA.label_of_key(end))
            groups[group].append({"start": start, "end": end, "key": key})

        def work(tx: ManagedTransaction) -> int:
            deleted = 0
            for (rel_type, start, end), rows in groups.items():
                query = cy.delete_relationships(rel_type, start, end)
                deleted += int(tx.run(_q(query), rows=rows).single(strict=True)["deleted"])
            return deleted

        return self._write(work)

    def delete_nodes(self, keys: Collection[str]) -> int:
        grouped = _by_label(keys)
        self._known_ids.forget(keys)

        def work(tx: ManagedTransaction) -> int:
            deleted = 0
            for label, label_keys in grouped.items():
                for chunk in batched(label_keys, _KEYS_CHUNK):
                    result = tx.run(_q(cy.delete_nodes(label)), keys=chunk)
                    deleted += int(result.single(strict=True)["deleted"])
            return deleted

        return self._write(work)

    # --- reads -----------------------------------------------------------------------------
    def _keyed(self, keys: Collection[str]) -> Iterator[tuple[list[Label], dict[str, Any]]]:
        """Keys grouped by label into chunks of at most _KEYS_CHUNK keys: the labels of each
        chunk and its ``$k<i>`` parameters (see ``neo4j_cypher._keyed_nodes``)."""
        chunk: dict[Label, list[str]] = defaultdict(list)
        size = 0
        for label, label_keys in _by_label(keys).items():
            for key in label_keys:
                chunk[label].append(key)
                size += 1
                if size == _KEYS_CHUNK:
                    yield _chunk_params(chunk)
                    chunk, size = defaultdict(list), 0
        if size:
            yield _chunk_params(chunk)

    def get_nodes(self, keys: Collection[str]) -> dict[str, Node]:
        out: dict[str, Node] = {}
        for labels, params in self._keyed(keys):
            for row in self._read(cy.get_nodes_multi(labels), **params):
                key = row["key"]
                out[key] = _node(SCHEMA.label_of_key(key), key, row["props"])
        return out

    def find_nodes(self, label: Label, prop: str, value: str, *, limit: int = 100) -> list[Node]:
        label = Label(label)
        rows = self._read(cy.find_nodes(label, prop), value=value, limit=limit)
        return [_node(label, r["key"], r["props"]) for r in rows]

    def expand(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> list[Relationship]:
        found: dict[tuple[str, str, str, str], Relationship] = {}
        types = [RelType(t).value for t in rel_types] if rel_types is not None else None
        for labels, params in self._keyed(keys):
            query = cy.expand_multi(labels, direction=direction, typed=types is not None)
            for row in self._read(query, types=types, **params):
                rel = _rel(row)
                found[rel.identity] = rel  # a relationship between two keys comes twice
        return [found[i] for i in sorted(found)]

    def expand_with_ends(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> Expansion:
        # A neighbourhood hop was three round trips (expand, the far ends' nodes, then their
        # degrees for the hub check of the next hop); here it is one.
        found: dict[tuple[str, str, str, str], Relationship] = {}
        nodes: dict[str, Node] = {}
        degrees: dict[str, int] = {}
        types = [RelType(t).value for t in rel_types] if rel_types is not None else None
        for labels, params in self._keyed(keys):
            query = cy.expand_with_ends_multi(labels, direction=direction, typed=types is not None)
            for row in self._read(query, types=types, **params):
                rel = _rel(row)
                found[rel.identity] = rel
                other = row["other"]
                if other not in nodes:
                    nodes[other] = _node(SCHEMA.label_of_key(other), other, row["other_props"])
                    degrees[other] = int(row["other_degree"])
        return Expansion([found[i] for i in sorted(found)], nodes, degrees)

    def prefetch_neighbourhood(
        self,
        key: str,
        *,
        hops: int,
        rel_types: Collection[RelType] | None,
        hub_cap: int,
        limit: int,
    ) -> Prefetch | None:
        # One round trip for what was three (the start node, then a query per hop), and one
        # record for what was one per relationship (see neo4j_cypher.two_hops).
        types = sorted({RelType(t) for t in rel_types}) if rel_types is not None else None
        rows = self._read(
            cy.two_hops(SCHEMA.label_of_key(key)),
            key=key,
            types=[t.value for t in types] if types is not None else None,
            hops=hops,
            hub_cap=hub_cap,
            limit=limit,
        )
        if not rows:
            raise NotFoundError(f"no node with key {key!r}")
        row = rows[0]
        nodes: dict[str, Node] = {}
        degrees: dict[str, int] = {}
        for other, props, degree in row["near"]:
            nodes[other] = _node(SCHEMA.label_of_key(other), other, props)
            degrees[other] = int(degree)
        first = Expansion(_sorted_rels(row["first"]), nodes, degrees)
        second: Expansion | None = None
        expanded: frozenset[str] = frozenset()
        if row["deep"]:
            # The far ends include first-hop nodes (relationships between two of them), built
            # once above already.
            far = {
                k: _node(SCHEMA.label_of_key(k), k, props)
                for k, props in row["far"]
                if k not in nodes and k != key
            }
            second = Expansion(_sorted_rels(row["second"]), far)
            expanded = frozenset(k for k, d in degrees.items() if d <= hub_cap and k != key)
        return Prefetch(
            start=_node(SCHEMA.label_of_key(key), key, row["props"]),
            rel_types=frozenset(types) if types is not None else None,
            first=first,
            second=second,
            expanded=expanded,
        )

    def read_many(
        self, nodes: Collection[str], expansions: Collection[ExpandRequest]
    ) -> Batch | None:
        # One statement, a record per part, for what was a round trip per call.
        asked = frozenset(nodes)
        requests = [e for e in dict.fromkeys(expansions) if e.keys]
        if len(asked) + sum(len(e.keys) for e in requests) > _KEYS_CHUNK:
            return None  # large reads go by the chunked calls
        params: dict[str, Any] = {}
        node_labels, node_params = _chunk_params(_by_label(asked))
        params.update({f"n{k[1:]}": v for k, v in node_params.items()})
        shapes = []
        for i, request in enumerate(requests):
            labels, keyed = _chunk_params(_by_label(request.keys))
            params.update({f"e{i}_{k[1:]}": v for k, v in keyed.items()})
            if request.rel_types is not None:
                params[f"t{i}"] = sorted(t.value for t in request.rel_types)
            shapes.append((labels, request.direction, request.rel_types is not None))
        out = Batch(asked, {}, {e: Expansion([]) for e in expansions})
        if not node_labels and not shapes:
            return out
        for row in self._read(cy.read_many(node_labels, shapes), **params):
            part, items = int(row["part"]), row["rows"]
            if part < 0:
                out.nodes.update((k, _node(SCHEMA.label_of_key(k), k, p)) for k, p in items)
                continue
            found: dict[tuple[str, str, str, str], Relationship] = {}
            ends: dict[str, Node] = {}
            for rel_type, start, end, k, props, other, other_props in items:
                rel = build_relationship(rel_type_of(rel_type), start, end, k, props)
                found[rel.identity] = rel  # a relationship between two keys comes twice
                if other not in ends:
                    ends[other] = _node(SCHEMA.label_of_key(other), other, other_props)
            rels = [found[i] for i in sorted(found)]
            out.expansions[requests[part]] = Expansion(rels, ends)
        return out

    def degrees(self, keys: Collection[str]) -> dict[str, int]:
        out = dict.fromkeys(keys, 0)
        for labels, params in self._keyed(keys):
            for row in self._read(cy.degrees_multi(labels), **params):
                out[row["key"]] = int(row["degree"])
        return out

    def iter_nodes(self, labels: Collection[Label] | None = None) -> Iterator[Node]:
        chosen = sorted(Label(lb) for lb in labels) if labels is not None else sorted(Label)
        for label in chosen:
            for row in self._stream(cy.iter_nodes(label)):
                yield _node(label, row["key"], row["props"])

    def iter_relationships(
        self, rel_types: Collection[RelType] | None = None
    ) -> Iterator[Relationship]:
        chosen = sorted(RelType(t) for t in rel_types) if rel_types is not None else sorted(RelType)
        for rel_type in chosen:
            for row in self._stream(cy.iter_relationships(rel_type)):
                yield _rel(row)

    def node_counts(self, labels: Collection[Label]) -> dict[str, int]:
        # Answered from Neo4j's count store, one statement per label, no node read.
        names = sorted({Label(label) for label in labels})
        return {label.value: int(self._read(cy.count_label(label))[0]["n"]) for label in names}

    def counts(self) -> GraphCounts:
        nodes = {lb.value: self._read(cy.count_label(lb))[0]["n"] for lb in Label}
        rels = {t.value: self._read(cy.count_rel_type(t))[0]["n"] for t in RelType}
        return GraphCounts(
            nodes={k: v for k, v in nodes.items() if v},
            relationships={k: v for k, v in rels.items() if v},
            nodes_by_agency={r["agency"]: r["n"] for r in self._read(cy.NODES_BY_AGENCY)},
            relationships_by_agency={r["agency"]: r["n"] for r in self._read(cy.RELS_BY_AGENCY)},
        )


def _release(written: Iterable[_Rows]) -> None:
    """Empty the parameter rows of a committed batch.

    The driver's result objects sit in reference cycles (result, hydration scope, graph) and
    keep the parameters they were run with until Python's cyclic collector frees them; loads
    pause that collector (graph_models.collector), so without this every batch's rows stayed
    in memory until the next collection.
    """
    for rows in written:
        rows.clear()


def _fill_ids(rows: list[list[Any]], ids: dict[str, str]) -> None:
    for row in rows:
        row[cy.REL_START] = ids[row[cy.REL_START_KEY]]
        row[cy.REL_END] = ids[row[cy.REL_END_KEY]]


@dataclass(frozen=True, slots=True)
class _RelBatch:
    """One relationship type between two labels, ready to send."""

    rel_type: RelType
    query: str
    rows: _Rows
    provs: list[list[str]]


class _StaleElementIdError(Exception):
    """A relationship batch matched fewer end nodes by remembered id than it sent."""


def _chunk_params(chunk: dict[Label, list[str]]) -> tuple[list[Label], dict[str, Any]]:
    labels = sorted(chunk)
    return labels, {f"k{i}": chunk[label] for i, label in enumerate(labels)}


def _element_ids(tx: ManagedTransaction, keys: dict[Label, list[str]]) -> dict[str, str]:
    labels, params = _chunk_params(keys)
    found = tx.run(_q(cy.element_ids_multi(labels)), params).single(strict=True)
    return dict(zip(found["keys"], found["ids"], strict=True))


def _refuse_missing(keys: dict[Label, list[str]], ids: dict[str, str]) -> None:
    missing = [k for label_keys in keys.values() for k in label_keys if k not in ids]
    if missing:
        raise StoreError(f"relationships point at missing nodes: {sorted(missing)[:10]}")


def _rel_params(group: list[RelMap]) -> tuple[_Rows, list[list[str]], list[str]]:
    """Rows for ``cy.merge_relationships`` (laid out as its ``REL_*`` indexes say; the end
    nodes' ids are filled in at write time by ``_fill_ids``), the distinct source lists
    they point at, and the property names used."""
    rows = _Rows()
    provs: dict[tuple[str, ...], int] = {}
    names: set[str] = set()
    for _, start, end, key, flat in group:
        props = {k: v for k, v in flat.items() if k not in _PROVENANCE}
        names.update(props)
        prov = tuple(flat["sources"])
        index = provs.setdefault(prov, len(provs))
        rows.append(
            [
                None,
                None,
                key,
                props,
                flat["record_ids"],
                index,
                flat.get("first_seen"),
                flat.get("last_seen"),
                start,
                end,
            ]
        )
    return rows, [list(prov) for prov in provs], sorted(names)


def _node(label: Label, key: str, flat: dict[str, Any]) -> Node:
    return build_node(label, key, flat)


def _rel(row: dict[str, Any]) -> Relationship:
    return build_relationship(
        rel_type_of(row["type"]), row["start"], row["end"], row["key"], row["props"]
    )


def _sorted_rels(rows: list[list[Any]]) -> list[Relationship]:
    """Relationships from ``[type, start, end, key, props]`` lists, ordered by identity."""
    rels = [
        build_relationship(rel_type_of(t), start, end, k, props) for t, start, end, k, props in rows
    ]
    rels.sort(key=lambda r: r.identity)
    return rels
