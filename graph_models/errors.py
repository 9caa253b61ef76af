"""One exception tree for the whole project; HTTP and CLI layers map it once."""

from __future__ import annotations


class IffgraphError(Exception):
    """Base of every error iffgraph raises on purpose."""


class SchemaError(IffgraphError, ValueError):
    """A label, relationship type, key or property does not fit the declared schema."""


class StoreError(IffgraphError):
    """The graph store failed or refused a write; wraps driver and database errors."""


class StoreUnavailableError(StoreError):
    """The graph store cannot be reached (server down, file locked by another writer)."""


class NotFoundError(IffgraphError):
    """The requested node or relationship does not exist."""
