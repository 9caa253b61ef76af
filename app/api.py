"""The FastAPI application factory; the lifespan owns the one store (and driver) per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.routers import health
from app.settings import Settings, get_settings
from app.stores import open_store
from graph_models.store.base import GraphStore


def create_app(settings: Settings | None = None, *, store: GraphStore | None = None) -> FastAPI:
    """Build the app. The lifespan opens (and closes) the configured store, unless the caller
    hands in a store it owns itself (tests share one Neo4j driver across apps)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = open_store(settings) if store is None else store
        app.state.settings = settings
        try:
            yield
        finally:
            if owned:
                app.state.store.close()

    app = FastAPI(
        title="iffgraph",
        summary="Customs, FIU and tax records in one entity graph, with link analysis.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    return app
