"""Neo4j reads are auto-commit statements that are tried again on a retryable failure."""

from __future__ import annotations

from types import TracebackType
from typing import Any, cast

import pytest
from neo4j import Driver
from neo4j.exceptions import ClientError, ServiceUnavailable

from graph_models.errors import StoreError, StoreUnavailableError
from graph_models.store.neo4j_store import READ_ATTEMPTS, Neo4jStore


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def keys(self) -> list[str]:
        return ["key", "n"]

    def __iter__(self) -> Any:
        return iter(self.rows)


class _Driver:
    """Fails the first ``failures`` statements with ``error``, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.statements = 0

    def session(self, **_: Any) -> _Driver:
        return self

    def __enter__(self) -> _Driver:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def run(self, query: str, params: dict[str, Any]) -> _Result:
        self.statements += 1
        if self.statements <= self.failures:
            raise self.error
        return _Result([("a", 1), ("b", 2)])


def _store(driver: _Driver) -> Neo4jStore:
    return Neo4jStore(cast(Driver, driver))


def test_a_retryable_failure_is_tried_again() -> None:
    driver = _Driver(READ_ATTEMPTS - 1, ServiceUnavailable("connection dropped"))
    assert _store(driver)._read("RETURN 1") == [{"key": "a", "n": 1}, {"key": "b", "n": 2}]
    assert driver.statements == READ_ATTEMPTS


def test_a_store_still_unavailable_after_the_last_attempt_says_so() -> None:
    driver = _Driver(READ_ATTEMPTS, ServiceUnavailable("down"))
    with pytest.raises(StoreUnavailableError):
        _store(driver)._read("RETURN 1")
    assert driver.statements == READ_ATTEMPTS


def test_a_failure_that_is_not_retryable_is_not_repeated() -> None:
    driver = _Driver(1, ClientError("syntax error"))
    with pytest.raises(StoreError):
        _store(driver)._read("RETURN 1")
    assert driver.statements == 1
