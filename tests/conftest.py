"""Fixtures shared by the whole suite.

``store`` is parametrised over both stores, so every behaviour test runs twice: once on the
embedded SQLite store in a temporary file, once on the real Neo4j 5.26 that
``scripts/neo4j-local`` starts. The Neo4j URI comes from ``IFFGRAPH_TEST_NEO4J_URI`` (set by
``make test``); without it the fixture starts Neo4j itself. When Neo4j cannot be reached the
Neo4j-parametrised tests **fail**: they never skip. To run only the embedded half locally,
deselect explicitly with ``-m "not neo4j"``.

Neo4j Community has a single user database, so isolation is by clearing it before each test
(session-scoped server, function-scoped data), as the tests run one at a time.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from graph_models.store.neo4j_store import Neo4jStore

ROOT = Path(__file__).resolve().parent.parent
NEO4J_USER = "neo4j"


def neo4j_password() -> str:
    return os.environ.get("NEO4J_LOCAL_PASSWORD", "iffgraph-test-pw")


@pytest.fixture(scope="session")
def neo4j_uri() -> str:
    uri = os.environ.get("IFFGRAPH_TEST_NEO4J_URI")
    if uri:
        return uri
    done = subprocess.run(
        [str(ROOT / "scripts" / "neo4j-local"), "start"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0 or not done.stdout.strip():
        pytest.fail(f"could not start Neo4j for the tests:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def neo4j_session_store(neo4j_uri: str) -> Iterator[Neo4jStore]:
    store = Neo4jStore.connect(neo4j_uri, NEO4J_USER, neo4j_password())
    try:
        store.ping()
    except Exception as e:
        pytest.fail(f"Neo4j at {neo4j_uri} does not answer: {e}")
    store.init_schema()
    yield store
    store.close()


def _embedded(tmp_path: Path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "graph.sqlite")
    store.init_schema()
    return store


@pytest.fixture(
    params=[
        pytest.param("embedded"),
        pytest.param("neo4j", marks=pytest.mark.neo4j),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """A fresh, empty store of each kind."""
    if request.param == "embedded":
        emb = _embedded(tmp_path)
        yield emb
        emb.close()
    else:
        neo: Neo4jStore = request.getfixturevalue("neo4j_session_store")
        neo.clear()
        yield neo


@pytest.fixture
def embedded_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = _embedded(tmp_path)
    yield store
    store.close()
