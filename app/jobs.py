"""Background jobs: detection runs and file loads (filled in by the jobs work)."""

from __future__ import annotations

from app.servicedb import ServiceDB
from app.settings import Settings
from graph_models.store.base import GraphStore


class Jobs:
    def __init__(self, db: ServiceDB, store: GraphStore, settings: Settings) -> None:
        self.db = db
        self.store = store
        self.settings = settings

    def close(self) -> None:
        """Stop accepting work and wait for running jobs."""
