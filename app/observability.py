"""Request ids, access logs and Prometheus metrics, as one middleware."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram

log = logging.getLogger("iffgraph.access")

# A caller may pass its own id (a gateway's) if it looks like one; otherwise we make one.
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


def install(app: FastAPI) -> Metrics:
    metrics = Metrics()

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.state.request_id = rid
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(elapsed)
        response.headers["X-Request-ID"] = rid
        principal = getattr(request.state, "principal", None)
        log.info(
            "%s %s %s %.1fms user=%s request_id=%s",
            request.method,
            route,
            response.status_code,
            elapsed * 1000,
            getattr(principal, "username", "-"),
            rid,
        )
        return response

    return metrics
