"""The ASGI entry point for servers that import an app by name (``uvicorn app.asgi:app``,
several workers); settings come from the environment."""

from __future__ import annotations

from app.api import create_app

app = create_app()
