"""The ASGI entry point for servers that import an app by name (``uvicorn app.asgi:app``,
several workers); settings come from the environment."""

from __future__ import annotations

import gc

from app.api import create_app
from app.observability import configure_logging

# Young container objects allowed to pile up before a young collection.
GEN0_THRESHOLD = 20_000

configure_logging()
app = create_app()
# Modules, schemas and the app live as long as the server process. Left to the cyclic
# collector, every full collection walked their hundred thousand objects (a 0.2 s pause of
# the whole process every few hundred requests under load, a sixth of its CPU); frozen, it
# skips them. Here rather than in create_app: tests build many apps in one process, and a
# frozen app that becomes garbage is never collected.
gc.freeze()
# Each request leaves thousands of young container objects (rows, models, the answer) alive
# while twenty are in flight; at the default thresholds (700, 10, 10) the collector walked
# them several times a request and promoted them until full collections came every few
# hundred requests. Measured over 40 s of the Neo4j API benchmark (gc.callbacks, two
# workers): 6.7 s in collections at the defaults (full ones 21 ms on average, p99 67 ms),
# 2.2 s here (about a hundred collections of 22 ms, p99 57 ms). Requests make little cyclic
# garbage (the driver's session/result cycles, about fifty objects each), so collecting less
# often keeps little more of it.
gc.set_threshold(GEN0_THRESHOLD, 50, 100)
