from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.api import create_app
from app.settings import Settings
from graph_models.store.base import GraphStore
from graph_models.store.neo4j_store import Neo4jStore


def test_health_reports_the_store_and_its_reachability(
    store: GraphStore, settings: Settings
) -> None:
    with TestClient(create_app(settings, store=store)) as client:
        resp = client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["store"] == store.kind
    assert body["reachable"] is True


def test_health_is_503_when_neo4j_does_not_answer(settings: Settings) -> None:
    # Nothing listens on port 1: the driver cannot connect, as when the server is down.
    store = Neo4jStore.connect("bolt://127.0.0.1:1", "neo4j", "x")
    with TestClient(create_app(settings, store=store)) as client:
        resp = client.get("/health")
    store.close()
    assert resp.status_code == 503
    assert resp.json()["reachable"] is False
    assert resp.json()["store"] == "neo4j"


def test_lifespan_opens_the_configured_embedded_store(tmp_path: Path, settings: Settings) -> None:
    configured = settings.model_copy(
        update={"store": "embedded", "embedded_path": tmp_path / "x.sqlite"}
    )
    with TestClient(create_app(configured)) as client:
        assert client.get("/health").json()["detail"].endswith("x.sqlite")
