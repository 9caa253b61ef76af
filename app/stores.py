"""Open the store the settings ask for."""

from __future__ import annotations

from app.settings import Settings
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from graph_models.store.neo4j_store import Neo4jStore


def open_store(settings: Settings) -> GraphStore:
    """A store that owns its connection; close it (or use it as a context manager)."""
    if settings.store == "neo4j":
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        return Neo4jStore.connect(
            settings.neo4j_uri,
            settings.neo4j_user,
            password,
            database=settings.neo4j_database,
        )
    return EmbeddedStore(settings.embedded_path)
