"""The FastAPI application factory; the lifespan owns the one store (and driver) per process,
and the service records (users, audit, cases, triage, jobs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app import observability, problems
from app.deps import purpose_dependency
from app.limits import BodyLimit
from app.problems import PURPOSE_REQUIRED
from app.routers import (
    alerts,
    audit,
    auth,
    cases,
    entities,
    exports,
    health,
    jobs,
    metrics,
    resolution,
    users,
)
from app.services import open_services, signing_key
from app.settings import Settings, get_settings
from app.stores import open_store
from graph_models.store.base import GraphStore

DESCRIPTION = """
One entity graph of customs declarations, FIU reports, cash declarations and tax / registry
records, with link analysis for investigators.

**Authentication**: `POST /api/v1/auth/token` (OAuth2 password flow) gives a bearer token.
**Compartments**: you read your agency's records and the open registry / external data; FIU
and tax material outside your clearance is answered with *hit / no-hit* markers (`withheld`)
that say who holds it, never what it says. **Purpose**: reads of entity data need
`?purpose=<reason>` or `?case_id=<case you are a member of>`, and every such read is audited.
Errors are RFC 9457 problem details.
"""


def create_app(settings: Settings | None = None, *, store: GraphStore | None = None) -> FastAPI:
    """Build the app. The lifespan opens (and closes) the configured store, unless the caller
    hands in a store it owns itself (tests share one Neo4j driver across apps)."""
    settings = settings or get_settings()
    signing_key(settings)  # refuse to build an app that could not sign tokens

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = open_store(settings) if store is None else store
        app.state.settings = settings
        app.state.services = open_services(settings, app.state.store)
        # Requests run their store work in threads; with forty of them sharing one GIL a short
        # request waits behind every long one. A few threads and a queue answer sooner.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        try:
            yield
        finally:
            app.state.services.close()
            if owned:
                app.state.store.close()

    app = FastAPI(
        title="iffgraph",
        summary="Customs, FIU and tax records in one entity graph, with link analysis.",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(BodyLimit)
    app.state.metrics = observability.install(app)  # outermost: it times and ids everything
    for module in (
        health,
        metrics,
        auth,
        entities,
        alerts,
        jobs,
        resolution,
        cases,
        exports,
        users,
        audit,
    ):
        _document_purpose(module.router)
        app.include_router(module.router)
    return app


def _document_purpose(router: APIRouter) -> None:
    """Declare the 428 of every route that needs a stated purpose, wherever it was written,
    so the OpenAPI schema cannot forget one (schemathesis checks it does not)."""

    def needs_purpose(dependant: Dependant) -> bool:
        return any(d.call is purpose_dependency or needs_purpose(d) for d in dependant.dependencies)

    for route in router.routes:
        if isinstance(route, APIRoute) and needs_purpose(route.dependant):
            route.responses.setdefault(428, PURPOSE_REQUIRED)
