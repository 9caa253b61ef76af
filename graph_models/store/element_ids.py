"""Element ids of nodes the Neo4j store has just written or looked up, by node key.

A relationship batch needs the element id of every end node. Looking them up by key is a
seek in the label's key index per end: measured with Java Flight Recorder on the ingest
benchmark, those seeks were a fifth of the server's CPU for a relationship batch. The nodes
of a record are written one batch before its relationships, so the ids the node writes return
answer almost every look-up of the next relationship batch.

An id can go stale (another process deletes the node; Neo4j reuses the id later), so the
relationship statement re-checks the key of every node it matched by id and the store retries
a batch with fresh look-ups when fewer rows matched than were sent (see
``Neo4jStore.write_rel_maps``). The map is bounded: memory stays flat however large the load
(the oldest quarter goes when it is full; batches arrive in key order, so a load's recent keys
are the ones its next batches name).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Collection, Iterable

DEFAULT_CAPACITY = 250_000


class ElementIdCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 4:
            raise ValueError("capacity must be at least 4")
        self.capacity = capacity
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def split(self, keys: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        """The known ids among ``keys``, and the keys without one."""
        ids = self._ids
        known: dict[str, str] = {}
        unknown: list[str] = []
        for key in keys:
            element_id = ids.get(key)
            if element_id is None:
                unknown.append(key)
            else:
                known[key] = element_id
        return known, unknown

    def remember(self, pairs: Iterable[tuple[str, str]]) -> None:
        with self._lock:
            ids = self._ids
            ids.update(pairs)
            if len(ids) > self.capacity:
                drop = len(ids) - self.capacity + self.capacity // 4
                for key in list(itertools.islice(ids, drop)):
                    del ids[key]

    def forget(self, keys: Collection[str]) -> None:
        with self._lock:
            for key in keys:
                self._ids.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()
