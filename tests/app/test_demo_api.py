"""The demo's API: dev mode, one user per agency and role, compartments live over real HTTP.

A real uvicorn server in a thread and a real httpx client, as a newcomer would try it with
curl after ``make demo``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.api import create_app
from app.cli import demo_api
from app.settings import Settings
from graph_models.store.embedded import EmbeddedStore
from tests.queries.test_profile import ENTITY, FIU_SECRETS, build


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    store_path = tmp_path / "demo.sqlite"
    with EmbeddedStore(store_path) as store:
        store.init_schema()
        build(store)
    served, created = demo_api(Settings(store="embedded", embedded_path=store_path))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(served), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):  # wait for the socket to accept (start-up, not a measurement)
        try:
            httpx.get(f"{base}/health", timeout=1)
            break
        except httpx.TransportError:
            threading.Event().wait(0.05)
    yield base, created
    server.should_exit = True
    thread.join(timeout=10)


def test_demo_users_try_compartments_over_http(demo_server: tuple[str, dict[str, str]]) -> None:
    base, created = demo_server
    assert {"customs.analyst", "fiu.analyst", "tax.analyst", "admin"} <= set(created)

    def token(user: str) -> dict[str, str]:
        resp = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": user, "password": created[user]}
        )
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    params = {"purpose": "demo tour"}
    customs = httpx.get(
        f"{base}/api/v1/entities/{ENTITY}", params=params, headers=token("customs.analyst")
    )
    assert customs.status_code == 200
    assert not [s for s in FIU_SECRETS if s in customs.text]
    assert "fiu" in {w["compartment"] for w in customs.json()["withheld"]}
    fiu = httpx.get(f"{base}/api/v1/entities/{ENTITY}", params=params, headers=token("fiu.analyst"))
    assert "fiu" in fiu.json()["records_by_agency"]
    # No default credential: a wrong password for a demo user is refused.
    wrong = httpx.post(f"{base}/api/v1/auth/token", data={"username": "admin", "password": "admin"})
    assert wrong.status_code == 401
