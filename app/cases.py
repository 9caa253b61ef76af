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
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.servicedb import ServiceDB
from app.users import Principal
from graph_models.errors import IffgraphError, NotFoundError

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
