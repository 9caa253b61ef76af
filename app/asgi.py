"""The ASGI entry point for servers that import an app by name (``uvicorn app.asgi:app``,
several workers); settings come from the environment."""

from __future__ import annotations

import gc

from app.api import create_app
from app.observability import configure_logging

configure_logging()
app = create_app()
# Modules, schemas and the app live as long as the server process. Left to the cyclic
# collector, every full collection walked their hundred thousand objects (a 0.2 s pause of
# the whole process every few hundred requests under load, a sixth of its CPU); frozen, it
# skips them. Here rather than in create_app: tests build many apps in one process, and a
# frozen app that becomes garbage is never collected.
gc.freeze()
