"""Joint-operation cases, kept in the service DB: who works on what, and what they share.

A case has a title, a legal basis, a status, members (whose agencies are the case's member
agencies) and what the members added to it: entities, alerts, notes, attachments, saved
subgraph snapshots and disseminations. Every addition records who and when; a change of title
or status is kept as history. A **closed** case is read-only.

This module stores the case as its members added it, unfiltered (:meth:`Cases.get`). What a
member may *see* of it is decided per caller by the router, from the caller's scope and the
disseminations: an entity added by the FIU stays an FIU fact until the FIU disseminates it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.servicedb import ServiceDB
from app.users import Principal
from graph_models.errors import IffgraphError, NotFoundError
from graph_models.records import Node, StoredProvenance
from graph_models.schema import Label
from graph_models.store.base import GraphStore
from queries.access import Scope, Tally, entity_members
from queries.models import Withheld

DDL = """
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_members (
    case_id TEXT NOT NULL REFERENCES cases (id),
    username TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (case_id, username)
);
CREATE INDEX IF NOT EXISTS case_members_by_user ON case_members (username, case_id);
CREATE TABLE IF NOT EXISTS case_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS case_history (
    seq INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    field TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_entities (
    case_id TEXT NOT NULL REFERENCES cases (id),
    key TEXT NOT NULL,
    note TEXT,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (case_id, key)
);
CREATE TABLE IF NOT EXISTS case_alerts (
    case_id TEXT NOT NULL REFERENCES cases (id),
    alert_id TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (case_id, alert_id)
);
CREATE TABLE IF NOT EXISTS case_notes (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    text TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_attachments (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_snapshots (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    title TEXT NOT NULL,
    compartments TEXT NOT NULL,
    body TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_disseminations (
    id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    key TEXT NOT NULL,
    compartments TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


class CaseStatus(StrEnum):
    OPEN = "open"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class CaseError(IffgraphError):
    """A case cannot be changed as asked: it is closed, or the item is already in it."""


# --- what a case holds ---------------------------------------------------------------------
class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseMember(_Item):
    username: str
    agency: str | None = Field(description="the user's agency (None if the user was removed)")
    added_by: str
    added_at: str


class CaseEntity(_Item):
    key: str
    note: str | None = None
    added_by: str
    added_at: str


class CaseAlert(_Item):
    alert_id: str
    added_by: str
    added_at: str


class CaseNote(_Item):
    id: int
    text: str
    by: str
    at: str


class Attachment(_Item):
    id: int
    filename: str = Field(description="sanitised at upload")
    media_type: str
    size: int = Field(ge=0, description="bytes")
    sha256: str
    by: str
    at: str


class SnapshotInfo(_Item):
    id: int
    title: str
    compartments: list[str] = Field(
        description="the scope of whoever saved it: a reader's scope must cover all of them"
    )
    by: str
    at: str


class Dissemination(_Item):
    key: str
    compartments: list[str] = Field(
        description="the node's compartments when disseminated: what members may now read of it"
    )
    legal_basis: str
    by: str
    at: str


class CaseChange(_Item):
    field: str
    old: str
    new: str
    by: str
    at: str


class CaseRecord(_Item):
    """A case as stored, unfiltered: never returned to a caller as it is."""

    id: str
    title: str
    legal_basis: str
    status: CaseStatus
    agencies: list[str] = Field(description="agencies of the member users")
    members: list[CaseMember]
    entities: list[CaseEntity]
    alerts: list[CaseAlert]
    notes: list[CaseNote]
    attachments: list[Attachment]
    snapshots: list[SnapshotInfo]
    disseminations: list[Dissemination]
    history: list[CaseChange] = Field(default_factory=list, description="title/status changes")
    created_by: str
    created_at: str


class CaseSummary(_Item):
    """A case in a list: what any member may see of it."""

    id: str
    title: str
    status: CaseStatus
    created_by: str
    created_at: str


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Cases:
    def __init__(self, db: ServiceDB) -> None:
        self.db = db
        db.ensure(DDL)

    def is_member(self, case_id: str, principal: Principal) -> bool:
        """Whether the principal is a member of the case (and so may state it as a purpose)."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM case_members WHERE case_id = ? AND username = ?",
                (case_id, principal.username),
            ).fetchone()
        return row is not None

    def get(self, case_id: str) -> CaseRecord:
        """The whole case, unfiltered; NotFoundError when there is none."""
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no case {case_id!r}")
            return _record(conn, row)

    def create(self, *, title: str, legal_basis: str, by: str) -> CaseRecord:
        """A new open case, with its creator as the first member."""
        at = now()
        with self.db.write() as conn:
            year = int(at[:4])
            conn.execute(
                "INSERT INTO case_counters (year, last) VALUES (?, 1)"
                " ON CONFLICT (year) DO UPDATE SET last = last + 1",
                (year,),
            )
            seq = int(
                conn.execute("SELECT last FROM case_counters WHERE year = ?", (year,)).fetchone()[0]
            )
            case_id = f"case-{year}-{seq:06d}"
            conn.execute(
                "INSERT INTO cases (id, title, legal_basis, status, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, title, legal_basis, CaseStatus.OPEN.value, by, at),
            )
            conn.execute(
                "INSERT INTO case_members (case_id, username, added_by, added_at)"
                " VALUES (?, ?, ?, ?)",
                (case_id, by, by, at),
            )
        return self.get(case_id)

    def of_member(self, username: str, *, offset: int, limit: int) -> tuple[list[CaseSummary], int]:
        """The cases a user is a member of, newest first, and how many in all."""
        with self.db.read() as conn:
            total = int(
                conn.execute(
                    "SELECT count(*) FROM case_members WHERE username = ?", (username,)
                ).fetchone()[0]
            )
            rows = conn.execute(
                "SELECT c.id, c.title, c.status, c.created_by, c.created_at FROM cases c"
                " JOIN case_members m ON m.case_id = c.id WHERE m.username = ?"
                " ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?",
                (username, limit, offset),
            ).fetchall()
        return [CaseSummary.model_validate(dict(r)) for r in rows], total

    def update(
        self, case_id: str, *, by: str, title: str | None = None, status: CaseStatus | None = None
    ) -> CaseRecord:
        """Change title and/or status; each change is kept in the history with who and when."""
        at = now()
        with self.db.write() as conn:
            row = _writable(conn, case_id)
            for field, new in (("title", title), ("status", status)):
                if new is None or str(new) == row[field]:
                    continue
                conn.execute(
                    f"UPDATE cases SET {field} = ? WHERE id = ?",  # noqa: S608 (fixed names)
                    (str(new), case_id),
                )
                conn.execute(
                    "INSERT INTO case_history (case_id, field, old, new, by, at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (case_id, field, row[field], str(new), by, at),
                )
        return self.get(case_id)

    def add_member(self, case_id: str, username: str, *, by: str) -> CaseMember:
        values = {"username": username, "added_by": by, "added_at": now()}
        self._add(case_id, "case_members", values, what=f"user {username!r} is already a member")
        return CaseMember.model_validate({**values, "agency": self._agency(username)})

    def add_entity(self, case_id: str, key: str, *, note: str | None, by: str) -> CaseEntity:
        values = {"key": key, "note": note, "added_by": by, "added_at": now()}
        return CaseEntity.model_validate(
            self._add(case_id, "case_entities", values, what="this entity is already in the case")
        )

    def add_alert(self, case_id: str, alert_id: str, *, by: str) -> CaseAlert:
        values = {"alert_id": alert_id, "added_by": by, "added_at": now()}
        return CaseAlert.model_validate(
            self._add(case_id, "case_alerts", values, what="this alert is already in the case")
        )

    def add_note(self, case_id: str, text: str, *, by: str) -> CaseNote:
        values = {"text": text, "by": by, "at": now()}
        return CaseNote.model_validate(self._add(case_id, "case_notes", values, numbered=True))

    def add_attachment(
        self, case_id: str, *, filename: str, media_type: str, size: int, sha256: str, by: str
    ) -> Attachment:
        values = {
            "filename": filename,
            "media_type": media_type,
            "size": size,
            "sha256": sha256,
            "by": by,
            "at": now(),
        }
        row = self._add(case_id, "case_attachments", values, numbered=True)
        return Attachment.model_validate(row)

    def attachment(self, case_id: str, attachment_id: int) -> Attachment:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, filename, media_type, size, sha256, by, at FROM case_attachments"
                " WHERE case_id = ? AND id = ?",
                (case_id, attachment_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no attachment {attachment_id} in case {case_id!r}")
        return Attachment.model_validate(dict(row))

    def add_snapshot(
        self, case_id: str, *, title: str, compartments: list[str], body: str, by: str
    ) -> SnapshotInfo:
        """Keep ``body`` (the JSON the saver saw) as it is: later graph changes do not touch it."""
        values = {
            "title": title,
            "compartments": json.dumps(sorted(compartments)),
            "body": body,
            "by": by,
            "at": now(),
        }
        row = self._add(case_id, "case_snapshots", values, numbered=True)
        del row["body"]
        return SnapshotInfo.model_validate({**row, "compartments": sorted(compartments)})

    def snapshot(self, case_id: str, snapshot_id: int) -> tuple[SnapshotInfo, str]:
        """A snapshot's description and the JSON body saved with it."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, title, compartments, body, by, at FROM case_snapshots"
                " WHERE case_id = ? AND id = ?",
                (case_id, snapshot_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no snapshot {snapshot_id} in case {case_id!r}")
        info = {k: row[k] for k in ("id", "title", "by", "at")}
        info["compartments"] = json.loads(row["compartments"])
        return SnapshotInfo.model_validate(info), str(row["body"])

    def disseminate(
        self, case_id: str, key: str, *, compartments: list[str], legal_basis: str, by: str
    ) -> Dissemination:
        values = {
            "key": key,
            "compartments": json.dumps(sorted(compartments)),
            "legal_basis": legal_basis,
            "by": by,
            "at": now(),
        }
        row = self._add(case_id, "case_disseminations", values)
        return Dissemination.model_validate({**row, "compartments": sorted(compartments)})

    def _add(
        self,
        case_id: str,
        table: str,
        values: Mapping[str, object],
        *,
        what: str = "",
        numbered: bool = False,
    ) -> dict[str, object]:
        """Insert one row into a case's table (refused on a closed case): the row's values, with
        its id when the table numbers its rows. ``table`` and the column names are this
        module's own constants, never input."""
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.db.write() as conn:
            _writable(conn, case_id)
            try:
                cur = conn.execute(
                    f"INSERT INTO {table} (case_id, {columns}) VALUES (?, {marks})",  # noqa: S608
                    (case_id, *values.values()),
                )
            except sqlite3.IntegrityError as e:
                raise CaseError(what or str(e)) from e
        return {"id": cur.lastrowid, **values} if numbered else dict(values)

    def _agency(self, username: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT agency FROM users WHERE username = ?", (username,)
            ).fetchone()
        return None if row is None else str(row["agency"])


def _record(conn: sqlite3.Connection, case: sqlite3.Row) -> CaseRecord:
    cid = (case["id"],)
    # Member agencies come from the user directory (same service DB), so they are never stale.
    members = [
        CaseMember(**dict(r))
        for r in conn.execute(
            "SELECT m.username, u.agency, m.added_by, m.added_at FROM case_members m"
            " LEFT JOIN users u ON u.username = m.username WHERE m.case_id = ?"
            " ORDER BY m.rowid",
            cid,
        )
    ]

    def rows(sql: str) -> list[dict[str, object]]:
        return [dict(r) for r in conn.execute(sql, cid)]

    return CaseRecord(
        id=case["id"],
        title=case["title"],
        legal_basis=case["legal_basis"],
        status=CaseStatus(case["status"]),
        agencies=sorted({m.agency for m in members if m.agency}),
        members=members,
        entities=[
            CaseEntity.model_validate(r)
            for r in rows(
                "SELECT key, note, added_by, added_at FROM case_entities WHERE case_id = ?"
                " ORDER BY rowid"
            )
        ],
        alerts=[
            CaseAlert.model_validate(r)
            for r in rows(
                "SELECT alert_id, added_by, added_at FROM case_alerts WHERE case_id = ?"
                " ORDER BY rowid"
            )
        ],
        notes=[
            CaseNote.model_validate(r)
            for r in rows("SELECT id, text, by, at FROM case_notes WHERE case_id = ? ORDER BY id")
        ],
        attachments=[
            Attachment.model_validate(r)
            for r in rows(
                "SELECT id, filename, media_type, size, sha256, by, at FROM case_attachments"
                " WHERE case_id = ? ORDER BY id"
            )
        ],
        snapshots=[
            SnapshotInfo.model_validate({**r, "compartments": json.loads(str(r["compartments"]))})
            for r in rows(
                "SELECT id, title, compartments, by, at FROM case_snapshots WHERE case_id = ?"
                " ORDER BY id"
            )
        ],
        disseminations=[
            Dissemination.model_validate({**r, "compartments": json.loads(str(r["compartments"]))})
            for r in rows(
                "SELECT key, compartments, legal_basis, by, at FROM case_disseminations"
                " WHERE case_id = ? ORDER BY id"
            )
        ],
        history=[
            CaseChange.model_validate(r)
            for r in rows(
                "SELECT field, old, new, by, at FROM case_history WHERE case_id = ? ORDER BY seq"
            )
        ],
        created_by=case["created_by"],
        created_at=case["created_at"],
    )


def _writable(conn: sqlite3.Connection, case_id: str) -> sqlite3.Row:
    """The case row, inside a write transaction; refuses a closed case (read-only)."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM cases WHERE id = ?", (case_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no case {case_id!r}")
    if row["status"] == CaseStatus.CLOSED:
        raise CaseError(f"case {case_id} is closed: it is read-only")
    return row


# --- what a member sees of a case ----------------------------------------------------------
class CaseView(_Item):
    """A case as one member may see it.

    Members share the case's own material (members, notes, attachments, history, what was
    disseminated), but the intelligence in it keeps its compartments: an entity, alert or
    snapshot the caller's scope may not read, and that nobody disseminated into the case, is
    only counted in ``withheld`` (hit / no-hit), never named.
    """

    id: str
    title: str
    legal_basis: str
    status: CaseStatus
    agencies: list[str]
    members: list[CaseMember]
    entities: list[CaseEntity]
    alerts: list[CaseAlert]
    notes: list[CaseNote]
    attachments: list[Attachment]
    snapshots: list[SnapshotInfo]
    disseminations: list[Dissemination]
    history: list[CaseChange]
    created_by: str
    created_at: str
    withheld: list[Withheld] = Field(default_factory=list)


# A hidden element that no longer exists in the graph still may not be named: it is counted
# under no compartment ("unknown") rather than shown.
_GONE = StoredProvenance()


def readable(store: GraphStore, node: Node, scope: Scope) -> bool:
    """Whether ``scope`` may read ``node`` on its own (without any dissemination).

    ``Scope.reads`` lets every resolved entity through because queries only reach one from a
    member they checked; a case names entities directly, so here an entity is readable only
    when one of its members is.
    """
    if node.label == Label.RESOLVED_ENTITY:
        return bool(entity_members(store, node.key, scope=scope, tally=Tally(scope)))
    return scope.reads(node)


def case_view(store: GraphStore, case: CaseRecord, scope: Scope) -> CaseView:
    """What a member whose scope is ``scope`` may see of ``case``."""
    disseminated = {d.key for d in case.disseminations}
    nodes = store.get_nodes([e.key for e in case.entities] + [a.alert_id for a in case.alerts])
    tally = Tally(scope)
    entities = []
    for entity in case.entities:
        node = nodes.get(entity.key)
        if entity.key in disseminated or (node is not None and readable(store, node, scope)):
            entities.append(entity)
        else:
            tally.add("case entities", entity.key, node.provenance if node else _GONE)
    alerts = []
    for alert in case.alerts:
        node = nodes.get(alert.alert_id)
        # Rule 3: an alert is open only to a scope covering every compartment it rests on.
        if alert.alert_id in disseminated or (
            node is not None and node.label == Label.ALERT and scope.sees_all(node.provenance)
        ):
            alerts.append(alert)
        else:
            tally.add("case alerts", alert.alert_id, node.provenance if node else _GONE)
    snapshots = []
    for snap in case.snapshots:
        if snapshot_readable(snap, scope):
            snapshots.append(snap)
        else:
            tally.add("snapshots", str(snap.id), StoredProvenance(compartments=snap.compartments))
    return CaseView(
        **case.model_dump(exclude={"entities", "alerts", "snapshots"}),
        entities=entities,
        alerts=alerts,
        snapshots=snapshots,
        withheld=tally.markers(),
    )


def snapshot_readable(snapshot: SnapshotInfo, scope: Scope) -> bool:
    """A snapshot shows what its saver's scope saw, so only a scope covering it may read it."""
    return scope.compartments.issuperset(snapshot.compartments)
