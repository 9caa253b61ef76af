"""An API over a seeded store of each kind, with one user per agency and role.

``api`` is a started ``TestClient`` (real HTTP semantics through the ASGI app) whose store
holds the four-agency Acme scenario of ``tests.queries.test_profile``; ``auth(name)`` gives
the bearer header of one of :data:`USERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app import users as users_module
from app.api import create_app
from app.settings import Settings
from app.users import Role, UserAgency, UserCreate
from graph_models.store.base import GraphStore
from tests.queries.test_profile import build

# name -> (agency, roles, extra clearances)
USERS: dict[str, tuple[UserAgency, list[Role], list[UserAgency]]] = {
    "customs-analyst": (UserAgency.CUSTOMS, [Role.ANALYST], []),
    "fiu-analyst": (UserAgency.FIU, [Role.ANALYST], []),
    "tax-analyst": (UserAgency.TAX, [Role.ANALYST], []),
    "fiu-liaison": (UserAgency.FIU, [Role.LIAISON], []),
    "customs-supervisor": (UserAgency.CUSTOMS, [Role.SUPERVISOR], []),
    "admin": (UserAgency.CUSTOMS, [Role.ADMIN], []),
    # Every role and compartment: lets the conformance run reach past the access checks.
    "all-access": (
        UserAgency.FIU,
        [Role.ANALYST, Role.LIAISON, Role.SUPERVISOR, Role.ADMIN],
        [UserAgency.CUSTOMS, UserAgency.TAX],
    ),
}
PURPOSE = {"purpose": "test investigation"}


def password(name: str) -> str:
    return f"pw-{name}-long-enough"


def api_settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        jwt_secret=SecretStr("t" * 48),
        service_db=tmp_path / "service.sqlite",
        attachments_dir=tmp_path / "attachments",
        exports_dir=tmp_path / "exports",
        embedded_path=tmp_path / "unused.sqlite",
    )


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2id at production cost (64 MiB, 3 passes) for seven users per test would dominate
    # the suite; hashing behaviour is the same at the minimum cost.
    monkeypatch.setattr(users_module, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return api_settings(tmp_path)


@pytest.fixture
def seeded(store: GraphStore) -> GraphStore:
    build(store)
    return store


@pytest.fixture
def api(seeded: GraphStore, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store=seeded)) as client:
        users = client.app.state.services.users  # type: ignore[attr-defined]
        for name, (agency, roles, clearances) in USERS.items():
            users.add(
                UserCreate(
                    username=name,
                    password=password(name),
                    agency=agency,
                    roles=roles,
                    clearances=clearances,
                )
            )
        yield client


def login(client: TestClient, name: str) -> dict[str, str]:
    resp = client.post("/api/v1/auth/token", data={"username": name, "password": password(name)})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture
def auth(api: TestClient) -> Callable[[str], dict[str, str]]:
    cache: dict[str, dict[str, str]] = {}

    def headers(name: str) -> dict[str, str]:
        if name not in cache:
            cache[name] = login(api, name)
        return cache[name]

    return headers
