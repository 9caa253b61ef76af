"""The store seam: one ``GraphStore`` interface, an embedded store and a Neo4j store."""

from graph_models.store.base import GraphStore

__all__ = ["GraphStore"]
