"""The audit log: append-only and hash-chained, so an edited or deleted record is detected.

Each record stores the SHA-256 of the previous record's hash followed by its own canonical JSON
(``hash = sha256(prev_hash || canonical(record))``); the first record chains from 64 zeros.
Changing any field of a record breaks its hash; deleting a record breaks the next record's
``prev_hash``; deleting the newest records is caught by the head kept in a separate table,
which the append updates in the same transaction. ``iffgraph audit verify`` walks the chain.
"""

from __future__ import annotations

import hashlib
import json
import queue
import sqlite3
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.servicedb import ServiceDB

GENESIS = "0" * 64

DDL = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    agency TEXT NOT NULL,
    action TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    outcome TEXT NOT NULL,
    purpose TEXT,
    case_id TEXT,
    entities TEXT NOT NULL,
    request_id TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit_log (username, seq);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log (at);
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
-- Which records mention an entity: a contentless full-text index over the records' entity
-- keys, each written as a token (see entity_token). Written with the record it indexes.
CREATE VIRTUAL TABLE IF NOT EXISTS audit_entity_fts
    USING fts5(tokens, content='', detail=none, columnsize=0);
CREATE TABLE IF NOT EXISTS audit_fts_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
-- The B-tree entity index of earlier versions, replaced by audit_entity_fts.
DROP TABLE IF EXISTS audit_entity;
DROP TABLE IF EXISTS audit_entity_head;
"""

Action = Literal["read", "export", "change", "login", "denied", "admin"]


class AuditEntry(BaseModel):
    """What a request did, before it is chained."""

    model_config = ConfigDict(extra="forbid")

    username: str
    agency: str
    action: Action
    endpoint: str
    outcome: str = "ok"
    purpose: str | None = None
    case_id: str | None = None
    entities: list[str] = Field(default_factory=list)
    request_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditRecord(AuditEntry):
    seq: int
    at: str
    prev_hash: str
    hash: str


class Verification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None


# Records one group commit takes at most.
GROUP_COMMIT_MAX = 256
# Entities are capped per record so one huge export cannot bloat the log; the count stays.
MAX_ENTITIES = 1_000


def _canonical(seq: int, at: str, entry: AuditEntry) -> bytes:
    body = {"seq": seq, "at": at, **entry.model_dump()}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev: str, seq: int, at: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev.encode() + _canonical(seq, at, entry)).hexdigest()


def entity_token(key: str) -> str:
    """An entity key as one full-text token: 16 hex digits of its BLAKE2b hash.

    Keys hold spaces, colons and slashes that a tokenizer would split; a hash is one word. A
    lookup also checks the record's own entity list, so a collision cannot return a record
    that does not name the key.
    """
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


class AuditLog:
    """Appends are group-committed: whatever has queued up goes in as one transaction, so
    under concurrent reads one BEGIN/COMMIT serves several records, and the chain is extended
    in exactly the order the records are committed. An append returns only once its record
    is committed: nothing is answered unaudited.

    There is no writer thread: the appending thread that takes the commit lock writes the
    queue, its own record included, and the others find theirs committed when they get the
    lock (or write the next group). A writer thread cost every request two thread hand-offs
    (waking the writer, and being woken by it), a tenth of the API's time under load.
    """

    def __init__(self, db: ServiceDB) -> None:
        self.db = db
        db.ensure(DDL)
        self.index_entities()  # records an earlier version wrote without the index
        self._queue: queue.SimpleQueue[tuple[AuditEntry, Future[AuditRecord]]]
        self._queue = queue.SimpleQueue()
        self._committing = threading.Lock()

    def append(self, entry: AuditEntry) -> AuditRecord:
        entities = sorted(set(entry.entities))
        if len(entities) > MAX_ENTITIES:
            entry = entry.model_copy(
                update={
                    "entities": entities[:MAX_ENTITIES],
                    "detail": {**entry.detail, "entities_total": len(entities)},
                }
            )
        else:
            entry = entry.model_copy(update={"entities": entities})
        done: Future[AuditRecord] = Future()
        self._queue.put((entry, done))
        # Whoever commits holds the lock until every record it took has its outcome, so once
        # we hold it our record is either decided or still queued (and we commit it).
        while not done.done():
            with self._committing:
                if not done.done():
                    self._commit_queued()
        return done.result()

    def close(self) -> None:
        """Nothing to flush: every append commits before it returns."""

    def _commit_queued(self) -> None:
        batch: list[tuple[AuditEntry, Future[AuditRecord]]] = []
        while len(batch) < GROUP_COMMIT_MAX:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not batch:
            return
        try:
            records = self._commit([entry for entry, _ in batch])
        except Exception as e:  # every waiting request learns it was not recorded
            for _, done in batch:
                done.set_exception(e)
        else:
            for (_, done), record in zip(batch, records, strict=True):
                done.set_result(record)

    def _commit(self, entries: list[AuditEntry]) -> list[AuditRecord]:
        out = []
        rows = []
        with self.db.write() as conn:
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
            seq, prev = (int(head["seq"]), str(head["hash"])) if head else (0, GENESIS)
            for entry in entries:
                seq += 1
                at = datetime.now(UTC).isoformat(timespec="microseconds")
                digest = chain_hash(prev, seq, at, entry)
                rows.append(
                    (
                        seq,
                        at,
                        entry.username,
                        entry.agency,
                        entry.action,
                        entry.endpoint,
                        entry.outcome,
                        entry.purpose,
                        entry.case_id,
                        json.dumps(entry.entities),
                        entry.request_id,
                        json.dumps(entry.detail, sort_keys=True),
                        prev,
                        digest,
                    )
                )
                out.append(
                    AuditRecord(seq=seq, at=at, prev_hash=prev, hash=digest, **entry.model_dump())
                )
                prev = digest
            # One call for the group: each call into SQLite gives up the GIL and, under load,
            # waits to get it back while the write lock is held.
            conn.executemany(
                "INSERT INTO audit_log (seq, at, username, agency, action, endpoint,"
                " outcome, purpose, case_id, entities, request_id, detail, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute(
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (seq, prev),
            )
            # The entity index goes in with the records: an FTS5 insert appends to an
            # in-memory segment, about 0.17 ms a record with sixty keys. The B-tree index it
            # replaces (key, seq) was built every 15 s off the request path, and its random
            # inserts held the write lock 1.8-3.5 s per 15 s of API traffic, stalling every
            # audited request of every worker behind them.
            _index(
                conn, [(row[0], entry.entities) for row, entry in zip(rows, entries, strict=True)]
            )
        return out

    def query(
        self,
        *,
        username: str | None = None,
        entity: str | None = None,
        since: str | None = None,
        until: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[AuditRecord], int]:
        """Records matching every filter given, oldest first, and how many match in all."""
        where: list[str] = []
        params: list[Any] = []
        if username is not None:
            where.append("l.username = ?")
            params.append(username)
        if entity is not None:
            where.append(
                "l.seq IN (SELECT rowid FROM audit_entity_fts WHERE audit_entity_fts MATCH ?)"
                " AND EXISTS (SELECT 1 FROM json_each(l.entities) WHERE value = ?)"
            )
            params.extend([f'"{entity_token(entity)}"', entity])
        if since is not None:
            where.append("l.at >= ?")
            params.append(since)
        if until is not None:
            # A bare date means the whole day.
            where.append("l.at <= ?")
            params.append(until + ("T23:59:59.999999+00:00" if len(until) == 10 else ""))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.db.read() as conn:
            total = int(
                conn.execute(f"SELECT count(*) FROM audit_log l {clause}", params).fetchone()[0]  # noqa: S608
            )
            rows = conn.execute(
                f"SELECT * FROM audit_log l {clause} ORDER BY l.seq LIMIT ? OFFSET ?",  # noqa: S608
                [*params, limit, offset],
            ).fetchall()
        return [_record(r) for r in rows], total

    def index_entities(self) -> int:
        """Index the records the entity index lacks (those a version without it wrote);
        return how many. Appends index their own records, so this is a one-off on opening
        a log, and 0 after."""
        indexed = 0
        while True:
            with self.db.write() as conn:
                row = conn.execute("SELECT seq FROM audit_fts_head WHERE id = 1").fetchone()
                rows = conn.execute(
                    "SELECT seq, entities FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 5000",
                    (int(row["seq"]) if row else 0,),
                ).fetchall()
                if not rows:
                    return indexed
                _index(conn, [(int(r["seq"]), json.loads(r["entities"])) for r in rows])
            indexed += len(rows)

    def verify(self) -> Verification:
        """Walk the whole chain; report the first record that does not hold."""
        prev = GENESIS
        expected_seq = 1
        count = 0
        with self.db.read() as conn:
            for row in conn.execute("SELECT * FROM audit_log ORDER BY seq"):
                record = _record(row)
                count += 1
                if record.seq != expected_seq:
                    return Verification(
                        ok=False,
                        records=count,
                        first_bad_seq=expected_seq,
                        problem=f"record {expected_seq} is missing",
                    )
                if record.prev_hash != prev:
                    return Verification(
                        ok=False,
                        records=count,
                        first_bad_seq=record.seq,
                        problem=f"record {record.seq} does not chain from the record before it",
                    )
                entry = AuditEntry.model_validate(
                    record.model_dump(exclude={"seq", "at", "prev_hash", "hash"})
                )
                if chain_hash(prev, record.seq, record.at, entry) != record.hash:
                    return Verification(
                        ok=False,
                        records=count,
                        first_bad_seq=record.seq,
                        problem=f"record {record.seq} was altered (hash mismatch)",
                    )
                prev = record.hash
                expected_seq += 1
            head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        head_seq, head_hash = (int(head["seq"]), str(head["hash"])) if head else (0, GENESIS)
        if head_seq != count or head_hash != prev:
            return Verification(
                ok=False,
                records=count,
                first_bad_seq=count + 1 if head_seq > count else head_seq,
                problem=f"the log ends at record {count} but its head says {head_seq}"
                " (records removed from the end, or the head was edited)",
            )
        return Verification(ok=True, records=count)


def _index(conn: sqlite3.Connection, records: list[tuple[int, list[str]]]) -> None:
    """Add records (seq, entity keys), in seq order, to the entity index and move its head."""
    conn.executemany(
        "INSERT INTO audit_entity_fts (rowid, tokens) VALUES (?, ?)",
        [(seq, " ".join(entity_token(k) for k in keys)) for seq, keys in records],
    )
    conn.execute(
        "INSERT INTO audit_fts_head (id, seq) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
        (records[-1][0],),
    )


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"],
        at=row["at"],
        username=row["username"],
        agency=row["agency"],
        action=row["action"],
        endpoint=row["endpoint"],
        outcome=row["outcome"],
        purpose=row["purpose"],
        case_id=row["case_id"],
        entities=json.loads(row["entities"]),
        request_id=row["request_id"],
        detail=json.loads(row["detail"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
