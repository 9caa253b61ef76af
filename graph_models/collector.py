"""Pausing Python's cyclic garbage collector around bulk work.

Loads, entity resolution and detector runs keep hundreds of thousands of live containers
(pending batch maps, records, indexes) and allocate millions more. Every so often those
allocations trigger a collection that walks every live container again: measured on a load,
the collector was more than half of the client's CPU per relationship (29 µs of which 17 µs
went to it). The objects hold no reference cycles to speak of, reference counting frees them,
so the collector is paused for the work and restored after.

Where the work runs long and may create cyclic garbage now and then (a quarantined record's
exception and traceback), :func:`collect_young` is called at natural checkpoints (a loader
batch): once enough young objects have piled up it walks only those, so such garbage is freed
without a walk over the whole heap.

The collector is process-wide: a pause in one thread pauses it for all. A pause entered while
the collector is already paused leaves it paused at exit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Net container allocations since the last collection above which collect_young collects.
# A loader's batches in flight (pending, queued, being written) are up to about 200k live
# young containers, and walking them takes 70-180 ms: a limit below that collected every few
# batches for nothing and cost a fifth of what the pause saves. Above it, a clean load never
# collects while paused, and cyclic garbage (a quarantined record's exception) piles up to at
# most a few tens of MiB before it is freed.
YOUNG_LIMIT = 500_000


def collect_young(limit: int = YOUNG_LIMIT) -> bool:
    """While paused, free cyclic garbage among the objects made since the last collection
    once they number more than ``limit``; say whether a collection ran.

    Generation 1 holds what survived earlier young collections; collecting it (with
    generation 0) moves the survivors to the oldest generation, which is left alone.
    """
    if gc.isenabled() or gc.get_count()[0] < limit:
        return False
    gc.collect(1)
    return True


# A server's thresholds: young collections after 5,000 net container allocations (not 700),
# the middle generation after 200 of them (not 10).
# - At the defaults (700, 10, 10) each request's thousands of young containers, alive while
#   twenty requests are in flight, were walked several times and promoted until full
#   collections came every few hundred requests: 6.7 s in collections per 40 s of the Neo4j
#   API benchmark (both workers, gc.callbacks), full ones 21 ms on average, p99 67 ms.
# - At (20,000, 50, 100) that fell to about 1 s per worker, but every young collection walked
#   20,000 containers: 15-20 ms with the whole process stopped, about once a second. A
#   request of 50 ms met one about one time in fifteen, which is where p95 is decided.
# - At (5,000, 200, 100) a young collection takes 3-4 ms (ten a second), the middle generation
#   is still collected only every million allocations, and the time in collections is about
#   1.5 s per worker per 40 s. Six 40 s runs of the Neo4j benchmark alternated with the
#   previous setting gave p95 81-94 ms (mean 89.5) against 85-111 ms (mean 99.5); at
#   (2,000, 500, 100) it was 97 and 109 ms.
# Requests make little cyclic garbage (the driver's session/result cycles, about fifty objects
# each), so collecting the middle generation rarely keeps little of it.
SERVER_THRESHOLDS = (5_000, 200, 100)


def settle_for_serving() -> None:
    """For a long-running server, once its app is built: start-up objects out of the
    collector's sight, and the server's thresholds."""
    # Modules, schemas and the app live as long as the process. Left to the collector, every
    # full collection walked their hundred thousand objects (a 0.2 s pause of the whole
    # process every few hundred requests under load); frozen, it skips them.
    gc.freeze()
    gc.set_threshold(*SERVER_THRESHOLDS)
