"""Tokens: issued against stored users, expiring, tamper-evident, re-checked per request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.services import ConfigurationError
from app.settings import Settings
from app.tokens import Signer, TokenError
from app.users import Principal, Role, UserAgency
from tests.app.conftest import PURPOSE, password

Auth = Callable[[str], dict[str, str]]
PROFILE = "/api/v1/entities/company:customs:tax:GB1"


def test_a_token_is_issued_for_the_right_password_only(api: TestClient) -> None:
    ok = api.post(
        "/api/v1/auth/token",
        data={"username": "fiu-analyst", "password": password("fiu-analyst")},
    )
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "bearer"
    wrong = api.post("/api/v1/auth/token", data={"username": "fiu-analyst", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.headers["www-authenticate"] == "Bearer"
    unknown = api.post("/api/v1/auth/token", data={"username": "ghost", "password": "x" * 12})
    assert unknown.status_code == 401


def test_me_names_agency_roles_and_the_request_id_is_echoed(api: TestClient, auth: Auth) -> None:
    resp = api.get("/api/v1/auth/me", headers={**auth("fiu-liaison"), "X-Request-ID": "abc12345"})
    assert resp.status_code == 200
    assert resp.json()["agency"] == "fiu"
    assert resp.json()["roles"] == ["liaison"]
    assert resp.headers["x-request-id"] == "abc12345"


def test_requests_without_or_with_a_bad_token_are_refused(api: TestClient, auth: Auth) -> None:
    assert api.get(PROFILE, params=PURPOSE).status_code == 401
    token = auth("customs-analyst")["Authorization"].split()[1]
    header, body, sig = token.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    tampered = {"Authorization": f"Bearer {header}.{body}.{flipped}"}
    resp = api.get(PROFILE, params=PURPOSE, headers=tampered)
    assert resp.status_code == 401
    assert resp.json()["detail"] == "invalid token"


def test_a_token_signed_with_another_key_or_claiming_more_is_refused(api: TestClient) -> None:
    now = datetime.now(UTC)
    claims = {
        "sub": "customs-analyst",
        "iss": "iffgraph",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "x",
    }
    forged = jwt.encode(claims, "k" * 48, algorithm="HS256")
    resp = api.get(PROFILE, params=PURPOSE, headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401
    unsigned = jwt.encode(claims, None, algorithm="none")
    resp = api.get(PROFILE, params=PURPOSE, headers={"Authorization": f"Bearer {unsigned}"})
    assert resp.status_code == 401


def test_an_expired_token_is_refused(api: TestClient) -> None:
    signer = api.app.state.services.signer  # type: ignore[attr-defined]
    principal = Principal(
        username="customs-analyst", agency=UserAgency.CUSTOMS, roles=frozenset({Role.ANALYST})
    )
    old = signer.issue(principal, now=datetime.now(UTC) - timedelta(hours=2)).access_token
    resp = api.get(PROFILE, params=PURPOSE, headers={"Authorization": f"Bearer {old}"})
    assert resp.status_code == 401
    assert resp.json()["detail"] == "token expired"


def test_disabling_a_user_revokes_their_live_token(api: TestClient, auth: Auth) -> None:
    headers = auth("tax-analyst")
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 200
    resp = api.post("/api/v1/users/tax-analyst/disable", headers=auth("admin"))
    assert resp.status_code == 200
    assert resp.json()["disabled"] is True
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_only_admins_manage_users(api: TestClient, auth: Auth) -> None:
    new = {
        "username": "new.analyst",
        "password": "a long enough password",
        "agency": "tax",
        "roles": ["analyst"],
    }
    assert (
        api.post("/api/v1/users", json=new, headers=auth("customs-supervisor")).status_code == 403
    )
    created = api.post("/api/v1/users", json=new, headers=auth("admin"))
    assert created.status_code == 201
    assert "password" not in created.text
    assert api.post("/api/v1/users", json=new, headers=auth("admin")).status_code == 422
    names = [u["username"] for u in api.get("/api/v1/users", headers=auth("admin")).json()["items"]]
    assert "new.analyst" in names


def test_no_signing_key_means_no_app_outside_dev_mode(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="IFFGRAPH_JWT_SECRET"):
        create_app(settings.model_copy(update={"jwt_secret": None}))
    create_app(settings.model_copy(update={"jwt_secret": None, "dev_mode": True}))
    with pytest.raises(ValueError, match="at least 32"):
        Settings(jwt_secret="short")


def test_a_token_verified_before_stops_working_at_its_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = Signer("k" * 40, minutes=5)
    principal = Principal(username="u", agency=UserAgency.FIU, roles=frozenset({Role.ANALYST}))
    token = signer.issue(principal).access_token
    assert signer.verify(token) == "u"
    assert signer.verify(token) == "u"  # answered from what the first check learnt
    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    monkeypatch.setattr("app.tokens._clock", lambda: float(expiry))
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token)
    # A tampered copy of a verified token is a different token, checked in full.
    head, body, signature = token.split(".")
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]  # six bits of the MAC
    with pytest.raises(TokenError):
        signer.verify(f"{head}.{body}.{forged}")
