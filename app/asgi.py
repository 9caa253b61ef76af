"""The ASGI entry point for servers that import an app by name (``uvicorn app.asgi:app``,
several workers); settings come from the environment."""

from __future__ import annotations

from app.api import create_app
from app.observability import configure_logging

configure_logging()
app = create_app()
