"""Joint-operation cases (filled in by the cases work): kept in the service DB."""

from __future__ import annotations

from app.servicedb import ServiceDB
from app.users import Principal

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
"""


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
