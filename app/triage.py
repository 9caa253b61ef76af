"""Alert triage state (filled in by the alerts work): kept in the service DB."""

from __future__ import annotations

from app.servicedb import ServiceDB


class Triage:
    def __init__(self, db: ServiceDB) -> None:
        self.db = db
