"""The embedded store: one SQLite file, no server.

Why SQLite rather than an in-memory networkx graph: the file is the durable state, so data
survives a restart and a scale-100 delivery does not have to fit in memory; networkx graphs
are built on demand by ``project()`` for analytics. Nodes and relationships are rows with their
properties and provenance as a JSON document; the schema's indexed properties become partial
expression indexes, the embedded twin of Neo4j's range indexes.

Concurrency: WAL journal, one connection per thread, and every batch is read-merge-written
inside ``BEGIN IMMEDIATE`` so a second writer process waits (busy timeout) instead of
interleaving. Readers never block the writer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from graph_models.errors import SchemaError, StoreError, StoreUnavailableError
from graph_models.merge import NodeMap, RelMap, merge_flat
from graph_models.records import GraphCounts, Node, Relationship
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store import rows
from graph_models.store.base import (
    Direction,
    Edge,
    GraphStore,
    batched,
    check_edge_properties,
)
from graph_models.store.embedded_process import WriterProcess

# SQLite caps host parameters per statement (32766 on current builds); stay well below.
_IN_CHUNK = 900

# Rowid tables with unique indexes rather than WITHOUT ROWID: the JSON documents are large
# (provenance lists), and large rows in a WITHOUT ROWID B-tree make every random-key insert
# move them around; here rows are appended and only the small key indexes take random inserts.
CREATE_TABLES = (
    "CREATE TABLE IF NOT EXISTS nodes (key TEXT NOT NULL, label TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS nodes_by_key ON nodes (key)",
    "CREATE TABLE IF NOT EXISTS rels ("
    " src TEXT NOT NULL, type TEXT NOT NULL, dst TEXT NOT NULL, rkey TEXT NOT NULL,"
    " data TEXT NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS rels_by_src ON rels (src, type, dst, rkey)",
    "CREATE INDEX IF NOT EXISTS rels_by_dst ON rels (dst, type)",
    "CREATE INDEX IF NOT EXISTS rels_by_type ON rels (type)",
    "CREATE INDEX IF NOT EXISTS nodes_by_label ON nodes (label, key)",
)
# On conflict SQLite calls iff_merge (graph_models.merge.merge_flat) with the stored and the
# incoming JSON: one statement per batch, no read-before-write round trip, and rows of one
# batch that share a key merge in order, exactly as Neo4j's UNWIND ... MERGE does.
UPSERT_NODE = (
    "INSERT INTO nodes (key, label, data) VALUES (?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET data = iff_merge(nodes.data, excluded.data)"
)
UPSERT_REL = (
    "INSERT INTO rels (src, type, dst, rkey, data) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (src, type, dst, rkey) DO UPDATE SET data = iff_merge(rels.data, excluded.data)"
)
REL_COLUMNS = "src, type, dst, rkey, data"


def _index_ddl(label: Label, prop: str) -> tuple[str, str]:
    # Label and property come from the validated schema, never from input: safe to inline,
    # and inlining is what lets SQLite match the partial index to the query.
    name = f"ix_{label.value}_{prop}"
    ddl = (
        f"CREATE INDEX IF NOT EXISTS {name} ON nodes (json_extract(data, '$.{prop}'))"
        f" WHERE label = '{label.value}'"
    )
    return name, ddl


# orjson rather than json: encoding every row's document was a fifth of a load's Python time,
# and each upsert that meets a stored row decodes two documents and encodes one more. The
# documents stay TEXT (orjson gives UTF-8 bytes): SQLite's json functions would read a BLOB as
# its binary JSONB format.
def _dumps(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _merge_json(stored: str, incoming: str) -> str:
    return _dumps(merge_flat(orjson.loads(stored), orjson.loads(incoming)))


MMAP_BYTES = 8 * 1024**3  # SQLite caps it at its compile-time maximum (2 GiB by default)
# A batch of at least this many rows is written by the store's writer process
# (graph_models.store.embedded_process). Only bulk loads make batches this large; starting the
# process (about half a second) would cost a small write more than it saves.
PROCESS_MIN_ROWS = 5_000


class EmbeddedStore(GraphStore):
    kind = "embedded"
    # Larger batches merge more repeated observations (a trader, its address, its country)
    # before they reach SQLite and commit less often: a scale-1 customs file took 29% less
    # CPU at 20,000 than at 5,000, for 30 MiB more peak memory. (Neo4j goes the other way:
    # its CPU per relationship doubled at 20,000, so it keeps the default.)
    batch_size = 20_000

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_s: float = 60.0,
        process_min_rows: int | None = PROCESS_MIN_ROWS,
    ) -> None:
        """``process_min_rows``: batches of at least this many rows go to a writer process
        (None: every batch is written in the calling thread)."""
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._process_min_rows = process_min_rows
        self._process: WriterProcess | None = None
        self._process_lock = threading.Lock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            for ddl in CREATE_TABLES:
                conn.execute(ddl)
        except (OSError, sqlite3.Error) as e:
            raise StoreUnavailableError(f"cannot open embedded store {self.path}: {e}") from e

    # --- connections -----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout_s,
                isolation_level=None,  # explicit BEGIN/COMMIT below
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache per connection
            # Reads go through one shared memory map (the OS page cache) instead of filling a
            # private cache per connection: the API opens one per worker thread, and forty
            # private 256 MiB caches of the same pages would be both slow to warm and large.
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.create_function("iff_merge", 2, _merge_json, deterministic=True)
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def open_connections(self) -> int:
        with self._all_lock:
            return len(self._all)

    def release_thread(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            return
        with self._all_lock:
            self._all.remove(conn)
        conn.close()
        del self._local.conn
        self._local.bulk = False

    def writer_process(self) -> WriterProcess:
        """The process that writes bulk batches, started on first use."""
        with self._process_lock:
            if self._process is None:
                self._process = WriterProcess(self.path, busy_timeout_s=self._busy_timeout_s)
            return self._process

    def writer_peak_rss_mib(self) -> float:
        """Peak memory of the writer process (0 when no batch needed it)."""
        with self._process_lock:
            return 0.0 if self._process is None else self._process.peak_rss_mib()

    def close(self) -> None:
        with self._process_lock:
            process, self._process = self._process, None
        if process is not None:
            process.close()
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def ping(self) -> str:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"embedded store {self.path}: {e}") from e
        return f"embedded sqlite {sqlite3.sqlite_version} at {self.path}"

    def init_schema(self) -> list[str]:
        names = []
        conn = self._conn()
        for label, node_type in SCHEMA.nodes.items():
            for prop in node_type.indexed:
                name, ddl = _index_ddl(label, prop)
                conn.execute(ddl)
                names.append(name)
        return names

    def clear(self) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM rels")
        conn.execute("DELETE FROM nodes")
        conn.execute("COMMIT")

    # --- writes ----------------------------------------------------------------------------
    def write_node_maps(self, rows: Sequence[NodeMap]) -> int:
        return self.prepare_node_maps(rows)()

    def write_rel_maps(self, rows: Sequence[RelMap]) -> int:
        return self.prepare_rel_maps(rows)()

    # JSON encoding is the Python half of a batch; SQLite's half runs without the GIL, or
    # for a bulk batch in the writer process (encoded for it here as well).
    def prepare_node_maps(self, rows: Sequence[NodeMap]) -> Callable[[], int]:
        params = [(key, label.value, _dumps(flat)) for label, key, flat in rows]
        return self._prepared(UPSERT_NODE, params, None)

    def prepare_rel_maps(self, rows: Sequence[RelMap]) -> Callable[[], int]:
        params = [(start, t.value, end, key, _dumps(flat)) for t, start, end, key, flat in rows]
        ends = {r[1] for r in rows} | {r[2] for r in rows}
        return self._prepared(UPSERT_REL, params, ends)

    def _prepared(
        self, sql: str, params: Sequence[tuple[str, ...]], ends: set[str] | None
    ) -> Callable[[], int]:
        limit = self._process_min_rows
        if limit is not None and len(params) >= limit:
            message = WriterProcess.encode_write(sql, params, ends)
            return lambda: int(self.writer_process().send(message))
        return partial(self.write_rows_here, sql, params, ends)

    def write_rows_here(
        self, sql: str, params: Sequence[tuple[str, ...]], ends: set[str] | None
    ) -> int:
        """Write one prepared batch in the calling thread (the writer process calls this)."""
        if not params:
            return 0
        if not getattr(self._local, "bulk", False):
            # A bulk writer reads the key indexes of the whole file once per batch: through
            # the memory map those pages would stay resident and the loader's memory would
            # grow with the store's size; through the bounded page cache it does not.
            self._conn().execute("PRAGMA mmap_size=0")
            self._local.bulk = True
        self._write(sql, params, ends=ends)
        return len(params)

    def _write(
        self, sql: str, params: Sequence[tuple[str, ...]], *, ends: set[str] | None = None
    ) -> None:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            if ends is not None:
                missing = sorted(ends - self._existing_keys(conn, ends))
                if missing:
                    raise StoreError(f"relationships point at missing nodes: {missing[:10]}")
            conn.executemany(sql, params)
            conn.execute("COMMIT")
        except (sqlite3.Error, StoreError) as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(e, StoreError):
                raise
            raise StoreError(f"embedded store write failed: {e}") from e

    def _existing_keys(self, conn: sqlite3.Connection, keys: Collection[str]) -> set[str]:
        present: set[str] = set()
        for chunk in batched(sorted(keys), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key FROM nodes WHERE key IN ({marks})"  # noqa: S608
            present.update(k for (k,) in conn.execute(sql, chunk))
        return present

    def delete_relationships(self, identities: Sequence[tuple[str, str, str, str]]) -> int:
        conn = self._conn()
        deleted = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for rel_type, start, end, key in identities:
                cur = conn.execute(
                    "DELETE FROM rels WHERE src = ? AND type = ? AND dst = ? AND rkey = ?",
                    (start, RelType(rel_type).value, end, key),
                )
                deleted += cur.rowcount
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            conn.execute("ROLLBACK")
            raise StoreError(f"embedded store delete failed: {e}") from e
        return deleted

    def delete_nodes(self, keys: Collection[str]) -> int:
        conn = self._conn()
        deleted = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for chunk in batched(sorted(set(keys)), _IN_CHUNK):
                marks = ",".join("?" * len(chunk))
                for column in ("src", "dst"):
                    sql = f"DELETE FROM rels WHERE {column} IN ({marks})"  # noqa: S608
                    conn.execute(sql, chunk)
                sql = f"DELETE FROM nodes WHERE key IN ({marks})"  # noqa: S608
                deleted += conn.execute(sql, chunk).rowcount
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            conn.execute("ROLLBACK")
            raise StoreError(f"embedded store delete failed: {e}") from e
        return deleted

    # --- reads -----------------------------------------------------------------------------
    def get_nodes(self, keys: Collection[str]) -> dict[str, Node]:
        conn = self._conn()
        out: dict[str, Node] = {}
        for chunk in batched(sorted(set(keys)), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, label, data FROM nodes WHERE key IN ({marks})"  # noqa: S608
            for key, label, data in conn.execute(sql, chunk):
                out[key] = _node(key, label, data)
        return out

    def find_nodes(self, label: Label, prop: str, value: str, *, limit: int = 100) -> list[Node]:
        label = Label(label)
        if prop not in SCHEMA.node(label).properties:
            raise SchemaError(f"{label} has no property {prop!r}")
        sql = (
            f"SELECT key, label, data FROM nodes WHERE label = '{label.value}'"  # noqa: S608
            f" AND json_extract(data, '$.{prop}') = ? ORDER BY key LIMIT ?"
        )
        return [_node(*row) for row in self._conn().execute(sql, (value, limit))]

    def expand(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> list[Relationship]:
        conn = self._conn()
        found: dict[tuple[str, str, str, str], Relationship] = {}
        type_filter, type_args = _type_filter(rel_types)
        columns = [c for c, d in (("src", "out"), ("dst", "in")) if direction in (d, "both")]
        for chunk in batched(sorted(set(keys)), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            for column in columns:
                sql = (
                    f"SELECT {REL_COLUMNS} FROM rels"  # noqa: S608
                    f" WHERE {column} IN ({marks}){type_filter}"
                )
                for row in conn.execute(sql, [*chunk, *type_args]):
                    rel = _rel(*row)
                    found[rel.identity] = rel
        return [found[i] for i in sorted(found)]

    def degrees(self, keys: Collection[str]) -> dict[str, int]:
        conn = self._conn()
        out = dict.fromkeys(keys, 0)
        for chunk in batched(sorted(set(keys)), _IN_CHUNK):
            marks = ",".join("?" * len(chunk))
            for column in ("src", "dst"):
                sql = (
                    f"SELECT {column}, count(*) FROM rels"  # noqa: S608
                    f" WHERE {column} IN ({marks}) GROUP BY {column}"
                )
                for key, n in conn.execute(sql, chunk):
                    out[key] += n
        return out

    def capped_degrees(self, keys: Collection[str], cap: int) -> dict[str, int]:
        # Counting a country's 100k+ index entries on every neighbourhood expansion was a
        # seventh of the API's time; each side stops after cap + 1 entries here.
        conn = self._conn()
        out = dict.fromkeys(keys, 0)
        for chunk in batched(sorted(set(keys)), _IN_CHUNK):
            sql = (
                "SELECT k.value,"
                " (SELECT count(*) FROM (SELECT 1 FROM rels WHERE src = k.value LIMIT ?))"
                " + (SELECT count(*) FROM (SELECT 1 FROM rels WHERE dst = k.value LIMIT ?))"
                " FROM json_each(?) k"
            )
            for key, n in conn.execute(sql, (cap + 1, cap + 1, json.dumps(chunk))):
                out[key] = n
        return out

    def iter_nodes(self, labels: Collection[Label] | None = None) -> Iterator[Node]:
        conn = self._conn()
        if labels is None:
            cursor = conn.execute("SELECT key, label, data FROM nodes ORDER BY label, key")
        else:
            names = [Label(lb).value for lb in labels]
            marks = ",".join("?" * len(names))
            sql = f"SELECT key, label, data FROM nodes WHERE label IN ({marks}) ORDER BY label, key"  # noqa: S608
            cursor = conn.execute(sql, names)
        for row in cursor:
            yield _node(*row)

    def iter_relationships(
        self, rel_types: Collection[RelType] | None = None
    ) -> Iterator[Relationship]:
        type_filter, args = _type_filter(rel_types)
        where = f" WHERE 1=1{type_filter}" if type_filter else ""
        sql = f"SELECT {REL_COLUMNS} FROM rels{where}"  # noqa: S608
        for row in self._conn().execute(sql, args):
            yield _rel(*row)

    def iter_edges(
        self, rel_types: Collection[RelType], properties: Sequence[str] = ()
    ) -> Iterator[Edge]:
        # SQLite reads the few values from the stored JSON itself: no decoding of the whole
        # map and its provenance in Python, which is most of what a relationship scan costs.
        check_edge_properties(rel_types, properties)
        type_filter, args = _type_filter(rel_types)
        columns = ", json_extract(data, ?), json_type(data, ?)" * len(properties)
        paths = [path for p in properties for path in (f"$.{p}", f"$.{p}")]
        sql = f"SELECT type, src, dst, rkey{columns} FROM rels WHERE 1=1{type_filter}"  # noqa: S608
        for row in self._conn().execute(sql, [*paths, *args]):
            values = tuple(_json_value(row[i], row[i + 1]) for i in range(4, len(row), 2))
            yield Edge(rows.rel_type_of(row[0]), row[1], row[2], row[3], values)

    def node_counts(self, labels: Collection[Label]) -> dict[str, int]:
        # Counted on the (label, key) index: no row and no JSON document is read.
        names = sorted({Label(label).value for label in labels})
        marks = ",".join("?" * len(names))
        sql = f"SELECT label, count(*) FROM nodes WHERE label IN ({marks}) GROUP BY label"  # noqa: S608
        found = dict(self._conn().execute(sql, names).fetchall()) if names else {}
        return {name: int(found.get(name, 0)) for name in names}

    def counts(self) -> GraphCounts:
        conn = self._conn()
        nodes = dict(conn.execute("SELECT label, count(*) FROM nodes GROUP BY label").fetchall())
        rels = dict(conn.execute("SELECT type, count(*) FROM rels GROUP BY type").fetchall())
        node_agencies = dict(
            conn.execute(
                "SELECT j.value, count(*) FROM nodes, json_each(nodes.data, '$.agencies') j"
                " GROUP BY j.value"
            ).fetchall()
        )
        rel_agencies = dict(
            conn.execute(
                "SELECT j.value, count(*) FROM rels, json_each(rels.data, '$.agencies') j"
                " GROUP BY j.value"
            ).fetchall()
        )
        return GraphCounts(
            nodes=nodes,
            relationships=rels,
            nodes_by_agency=node_agencies,
            relationships_by_agency=rel_agencies,
        )


def _json_value(value: Any, kind: str | None) -> Any:
    """A value as json_extract gave it, typed as the JSON had it (SQLite has no booleans and
    returns arrays as text)."""
    if kind == "true":
        return True
    if kind == "false":
        return False
    if kind == "array":
        return json.loads(value)
    return value


def _type_filter(rel_types: Collection[RelType] | None) -> tuple[str, list[str]]:
    if rel_types is None:
        return "", []
    names = [RelType(t).value for t in rel_types]
    return f" AND type IN ({','.join('?' * len(names))})", names


def _node(key: str, label: str, data: str) -> Node:
    return rows.node(rows.label_of(label), key, json.loads(data))


def _rel(src: str, typ: str, dst: str, rkey: str, data: str) -> Relationship:
    return rows.relationship(rows.rel_type_of(typ), src, dst, rkey, json.loads(data))
