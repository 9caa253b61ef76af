"""Request ids, access logs and Prometheus metrics, as one pure ASGI middleware.

Pure ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs each
request through an extra task and memory streams, a measurable share of a small request.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("iffgraph.access")

# A caller may pass its own id (a gateway's) if it looks like one; otherwise we make one: a
# random per-process prefix and a serial (a uuid4 per request was 3% of server time).
_PROCESS = secrets.token_hex(6)
_SERIAL = itertools.count(1)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class Metrics:
    """Per-app registry, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "iffgraph_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "iffgraph_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )


class Observe:
    """Give each request an id (``X-Request-ID``), count and time it, log one line."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = given if _REQUEST_ID.fullmatch(given) else f"{_PROCESS}{next(_SERIAL):010x}"
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "-")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            principal = state.get("principal")
            log.info(
                "%s %s %s %.1fms user=%s request_id=%s",
                method,
                route,
                status,
                elapsed * 1000,
                getattr(principal, "username", "-"),
                rid,
            )


def configure_logging(level: int = logging.INFO) -> None:
    """One line per request (method, route, status, ms, user, request id) on stderr, plus the
    service's own warnings; servers call this once at start."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("iffgraph")
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(level)


def install(app: FastAPI) -> Metrics:
    metrics = Metrics()
    app.add_middleware(Observe, metrics=metrics)
    return metrics
