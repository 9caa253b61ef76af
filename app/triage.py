"""Alert triage: the analysts' workflow state of each alert, kept in the service DB.

Alerts live in the graph and are refreshed whenever detection runs again (an alert's id hashes
its typology and members, so a re-run finds the same alert and rewrites its score and
evidence). The workflow state therefore lives here, keyed by alert id, where no detection run
can reach it: an alert without a row is ``new``.

The workflow (:data:`TRANSITIONS`)::

    new        -> in_review | dismissed
    in_review  -> escalated | dismissed | confirmed
    escalated  -> confirmed | dismissed
    dismissed  -> in_review        (reopening: supervisors only)
    confirmed  -> in_review        (reopening: supervisors only)

Dismissing, confirming and reopening are decisions another analyst will have to rely on, so
each needs a note giving the reason. Every change appends to the history (who, when,
from -> to) in the same ``BEGIN IMMEDIATE`` transaction that reads the current state and checks
the transition, so two analysts acting at once cannot both move an alert out of one state.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.servicedb import ServiceDB
from graph_models.errors import IffgraphError


class TriageStatus(StrEnum):
    NEW = "new"
    IN_REVIEW = "in_review"
    ESCALATED = "escalated"
    DISMISSED = "dismissed"
    CONFIRMED = "confirmed"


S = TriageStatus
TRANSITIONS: dict[TriageStatus, frozenset[TriageStatus]] = {
    S.NEW: frozenset({S.IN_REVIEW, S.DISMISSED}),
    S.IN_REVIEW: frozenset({S.ESCALATED, S.DISMISSED, S.CONFIRMED}),
    S.ESCALATED: frozenset({S.CONFIRMED, S.DISMISSED}),
    S.DISMISSED: frozenset({S.IN_REVIEW}),
    S.CONFIRMED: frozenset({S.IN_REVIEW}),
}
# Closed alerts are reopened only by a supervisor: a decision is not undone by a peer.
CLOSED = frozenset({S.DISMISSED, S.CONFIRMED})
# Changes that are decisions and must say why.
NEEDS_REASON = frozenset({S.DISMISSED, S.CONFIRMED})


class EventKind(StrEnum):
    STATUS = "status"
    ASSIGNEE = "assignee"
    NOTE = "note"


DDL = """
CREATE TABLE IF NOT EXISTS alert_triage (
    alert_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    assignee TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_triage_by_status ON alert_triage (status);
CREATE INDEX IF NOT EXISTS alert_triage_by_assignee ON alert_triage (assignee);
CREATE TABLE IF NOT EXISTS alert_triage_history (
    seq INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS alert_triage_history_by_alert ON alert_triage_history (alert_id, seq);
"""


class TransitionConflictError(IffgraphError):
    """The alert is not in a state the asked change may leave from (a conflict, 409)."""


class ReopenForbiddenError(IffgraphError):
    """Only a supervisor reopens a dismissed or confirmed alert (403)."""


class TriageError(IffgraphError, ValueError):
    """The change is incomplete, e.g. a dismissal without its reason (422)."""


class TriageEvent(BaseModel):
    """One entry of an alert's triage history."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    at: str = Field(description="UTC time of the change")
    by: str = Field(description="the user who made it")
    kind: EventKind
    from_value: str | None = Field(description="status or assignee before (null for notes)")
    to_value: str | None = Field(description="status or assignee after (null for notes)")
    note: str | None = None


class TriageState(BaseModel):
    """Where an alert stands in the workflow, and how it got there (oldest event first)."""

    model_config = ConfigDict(extra="forbid")

    alert_id: str
    status: TriageStatus
    assignee: str | None
    updated_at: str | None
    updated_by: str | None
    history: list[TriageEvent]


class TriageChange(BaseModel):
    """A change of status and / or assignee, optionally with a note.

    ``assignee: null`` unassigns; leaving ``assignee`` out keeps it. ``expected_status``
    makes the change conditional on the status the caller last saw (409 when it moved on).
    """

    model_config = ConfigDict(extra="forbid")

    status: TriageStatus | None = None
    assignee: str | None = Field(default=None, min_length=3, max_length=64)
    note: str | None = Field(
        default=None, max_length=4_000, examples=["same goods and counterparties as case 17"]
    )
    expected_status: TriageStatus | None = None

    @field_validator("note")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @model_validator(mode="after")
    def _something(self) -> TriageChange:
        if self.status is None and "assignee" not in self.model_fields_set and self.note is None:
            raise ValueError("give a status, an assignee (null to unassign) or a note")
        return self


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4_000, examples=["called the bank: STR pending"])

    @field_validator("text")
    @classmethod
    def _blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a note needs some text")
        return value.strip()


@dataclass(frozen=True)
class Current:
    """The workflow state of one alert without its history (for filtering lists)."""

    status: TriageStatus
    assignee: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Triage:
    """The triage state of every alert that has left ``new`` or been noted."""

    def __init__(self, db: ServiceDB) -> None:
        self.db = db
        db.ensure(DDL)

    def current(self) -> dict[str, Current]:
        """Status and assignee of every alert that has a row (the others are new and
        unassigned): one scan of a table that holds one row per alert."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT alert_id, status, assignee FROM alert_triage").fetchall()
        return {r["alert_id"]: Current(TriageStatus(r["status"]), r["assignee"]) for r in rows}

    def state(self, alert_id: str) -> TriageState:
        with self.db.read() as conn:
            return _state(conn, alert_id)

    def change(
        self, alert_id: str, change: TriageChange, *, by: str, may_reopen: bool
    ) -> tuple[TriageState, TriageState]:
        """Apply ``change`` (the caller has checked the assignee); return (before, after).

        Raises TransitionConflictError, ReopenForbiddenError or TriageError, and then writes
        nothing. A change to the status the alert already has is no change (PATCH is
        idempotent).
        """
        at = _now()
        with self.db.write() as conn:
            before = _state(conn, alert_id)
            if change.expected_status is not None and change.expected_status != before.status:
                raise TransitionConflictError(
                    f"the alert is {before.status.value}, not {change.expected_status.value}:"
                    " someone changed it since you looked"
                )
            events: list[tuple[EventKind, str | None, str | None, str | None]] = []
            status = before.status
            if change.status is not None and change.status != before.status:
                _check(before.status, change.status, change.note, may_reopen=may_reopen)
                status = change.status
                events.append((EventKind.STATUS, before.status.value, status.value, change.note))
            assignee = before.assignee
            if "assignee" in change.model_fields_set and change.assignee != before.assignee:
                assignee = change.assignee
                events.append((EventKind.ASSIGNEE, before.assignee, assignee, None))
            if change.note is not None and not any(e[0] == EventKind.STATUS for e in events):
                events.append((EventKind.NOTE, None, None, change.note))
            if not events:
                return before, before
            conn.execute(
                "INSERT INTO alert_triage (alert_id, status, assignee, updated_by, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET"
                " status = excluded.status, assignee = excluded.assignee,"
                " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (alert_id, status.value, assignee, by, at),
            )
            _append(conn, alert_id, at, by, events)
            after = _state(conn, alert_id)
        return before, after

    def add_note(self, alert_id: str, text: str, *, by: str) -> TriageState:
        """Append a note to the history; the status and assignee stay as they are."""
        with self.db.write() as conn:
            _append(conn, alert_id, _now(), by, [(EventKind.NOTE, None, None, text)])
            return _state(conn, alert_id)


def _check(
    current: TriageStatus, target: TriageStatus, note: str | None, *, may_reopen: bool
) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current]))
        raise TransitionConflictError(
            f"an alert that is {current.value} cannot become {target.value}"
            f" (from {current.value}: {allowed})"
        )
    if current in CLOSED and not may_reopen:
        raise ReopenForbiddenError(f"only a supervisor reopens a {current.value} alert")
    if (target in NEEDS_REASON or current in CLOSED) and note is None:
        what = "reopening" if current in CLOSED else f"setting {target.value}"
        raise TriageError(f"{what} needs a note giving the reason")


def _append(
    conn: sqlite3.Connection,
    alert_id: str,
    at: str,
    by: str,
    events: list[tuple[EventKind, str | None, str | None, str | None]],
) -> None:
    conn.executemany(
        "INSERT INTO alert_triage_history (alert_id, at, username, kind, from_value, to_value,"
        " note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(alert_id, at, by, kind.value, old, new, note) for kind, old, new, note in events],
    )


def _state(conn: sqlite3.Connection, alert_id: str) -> TriageState:
    row = conn.execute("SELECT * FROM alert_triage WHERE alert_id = ?", (alert_id,)).fetchone()
    history = [
        TriageEvent(
            seq=r["seq"],
            at=r["at"],
            by=r["username"],
            kind=EventKind(r["kind"]),
            from_value=r["from_value"],
            to_value=r["to_value"],
            note=r["note"],
        )
        for r in conn.execute(
            "SELECT * FROM alert_triage_history WHERE alert_id = ? ORDER BY seq", (alert_id,)
        )
    ]
    if row is None:
        return TriageState(
            alert_id=alert_id,
            status=TriageStatus.NEW,
            assignee=None,
            updated_at=None,
            updated_by=None,
            history=history,
        )
    return TriageState(
        alert_id=alert_id,
        status=TriageStatus(row["status"]),
        assignee=row["assignee"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
        history=history,
    )
