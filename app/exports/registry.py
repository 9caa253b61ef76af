"""The register of exports in the service DB: whose each bundle is, and its hashes.

The files live under ``settings.exports_dir/<id>/``; the register keeps, apart from them, who
asked for the export and the SHA-256 of its manifest and zip as they were written, so the
service can refuse to hand out a bundle that changed on disk since (chain of custody), and
only the requester is ever given it.
"""

from __future__ import annotations

import sqlite3

from pydantic import BaseModel, ConfigDict

from app.servicedb import ServiceDB

DDL = """
CREATE TABLE IF NOT EXISTS exports (
    id TEXT PRIMARY KEY,
    requested_by TEXT NOT NULL,
    agency TEXT NOT NULL,
    case_id TEXT,
    purpose TEXT NOT NULL,
    formats TEXT NOT NULL,
    created_at TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    bundle_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS exports_by_user ON exports (requested_by, created_at);
"""


class ExportRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    requested_by: str
    agency: str
    case_id: str | None
    purpose: str
    formats: str
    created_at: str
    manifest_sha256: str
    bundle_sha256: str
    bundle_bytes: int


class Exports:
    def __init__(self, db: ServiceDB) -> None:
        self.db = db
        db.ensure(DDL)

    def add(self, record: ExportRecord) -> None:
        values = record.model_dump()
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.db.write() as conn:
            conn.execute(
                f"INSERT INTO exports ({columns}) VALUES ({marks})",  # noqa: S608 (model fields)
                tuple(values.values()),
            )

    def get(self, export_id: str) -> ExportRecord | None:
        with self.db.read() as conn:
            row: sqlite3.Row | None = conn.execute(
                "SELECT * FROM exports WHERE id = ?", (export_id,)
            ).fetchone()
        return None if row is None else ExportRecord.model_validate(dict(row))
