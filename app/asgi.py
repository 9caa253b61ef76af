"""The ASGI entry point for servers that import an app by name (``uvicorn app.asgi:app``, or
``iffgraph serve --workers N``); settings come from the environment."""

from __future__ import annotations

from app.api import create_app
from app.observability import configure_logging
from graph_models.collector import settle_for_serving

configure_logging()
app = create_app()
# Here rather than in create_app: tests build many apps in one process, and a frozen app that
# becomes garbage is never collected.
settle_for_serving()
