"""The access matrix: role x agency x endpoint x data kind → allowed / hit-only / denied.

The expected outcome is computed from the **policy**, written here independently of the code:
a user reads their own agency's compartment, the compartments they were cleared for, and the
open ones (registry, external); an alert needs all of its compartments (it is computed from
all of them); roles gate actions, never widen what is read. For each cell:

- **allowed** — 200 and the data kind's marker string is in the body;
- **hit-only** — the body holds none of the data kind's marker strings, but says who holds it
  (a withheld marker for the compartment, or a 403 naming the holder for a single alert);
- **denied** — 403 and none of the marker strings.

Every cell runs over HTTP on both stores, as every user, so a leak anywhere fails a cell.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import httpx
import pytest
from fastapi.testclient import TestClient

from app.users import Role
from queries.alerts import Typology, alert_id
from tests.app.conftest import PURPOSE, USERS
from tests.queries.test_profile import (
    ACCOUNT,
    CUSTOMS,
    ENTITY,
    FIU,
    FIU_SECRETS,
    REGISTRY,
    REPORT,
    TAX,
    TXN,
)

Auth = Callable[[str], dict[str, str]]
OPEN = {"registry", "external"}
# The two alerts the scenario saves: one on customs records only, one on customs + FIU.
CUSTOMS_ALERT = alert_id(Typology.CASH_SMUGGLING, [CUSTOMS])
JOINT_ALERT = alert_id(Typology.STRUCTURING, [ENTITY])


class Outcome(StrEnum):
    ALLOWED = "allowed"
    HIT_ONLY = "hit-only"
    DENIED = "denied"


@dataclass(frozen=True)
class Kind:
    """A kind of data: the compartments it needs and strings that only it would put in a body."""

    name: str
    compartments: frozenset[str]
    markers: tuple[str, ...]
    derived: bool = False  # needs all its compartments (rule 3), not any


CUSTOMS_RECORD = Kind("customs record", frozenset({"customs"}), (CUSTOMS, "declaration:GB:D1:1"))
FIU_RECORD = Kind("fiu record", frozenset({"fiu"}), (FIU, REPORT, TXN, ACCOUNT, *FIU_SECRETS))
TAX_RECORD = Kind("tax record", frozenset({"tax"}), (TAX, "taxreturn:T1"))
REGISTRY_RECORD = Kind("registry record", frozenset({"registry"}), (REGISTRY,))
CUSTOMS_ONLY_ALERT = Kind(
    "customs alert",
    frozenset({"customs"}),
    (CUSTOMS_ALERT, "cash_smuggling over customs records"),
    derived=True,
)
CUSTOMS_FIU_ALERT = Kind(
    "customs+fiu alert",
    frozenset({"customs", "fiu"}),
    (JOINT_ALERT, "structuring over customs and fiu records"),
    derived=True,
)


def scope_of(user: str) -> set[str]:
    agency, _, clearances = USERS[user]
    return {agency.value, *(c.value for c in clearances)} | OPEN


def reads(user: str, kind: Kind) -> bool:
    scope = scope_of(user)
    return kind.compartments <= scope if kind.derived else bool(kind.compartments & scope)


def data_outcome(user: str, kind: Kind) -> Outcome:
    return Outcome.ALLOWED if reads(user, kind) else Outcome.HIT_ONLY


def role_outcome(user: str, *roles: Role) -> Outcome:
    return Outcome.ALLOWED if set(USERS[user][1]) & set(roles) else Outcome.DENIED


# --- the cells -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Read:
    """A GET whose answer depends on the compartments of one data kind."""

    endpoint: str
    path: str
    params: tuple[tuple[str, str], ...]
    kind: Kind


ENTITY_READS = [
    Read(name, path, params, kind)
    for name, path, params in (
        ("profile", f"/api/v1/entities/{ENTITY}", ()),
        ("timeline", f"/api/v1/entities/{ENTITY}/timeline", ()),
        ("neighbourhood", f"/api/v1/entities/{ENTITY}/neighbourhood", (("hops", "2"),)),
        ("search", "/api/v1/search", (("q", "GB1"), ("mode", "identifier"))),
    )
    for kind in (CUSTOMS_RECORD, FIU_RECORD, TAX_RECORD, REGISTRY_RECORD)
    # In the scenario the registry record has no dated event of its own and no tax id to be
    # found by, so it has no timeline or search cell.
    if not (name in ("timeline", "search") and kind is REGISTRY_RECORD)
]
ALERT_READS = [
    Read("alerts list", "/api/v1/alerts", (), kind)
    for kind in (CUSTOMS_ONLY_ALERT, CUSTOMS_FIU_ALERT)
] + [
    Read("alert detail", f"/api/v1/alerts/{kind.markers[0]}", (), kind)
    for kind in (CUSTOMS_ONLY_ALERT, CUSTOMS_FIU_ALERT)
]


def _assert_cell(resp: httpx.Response, expected: Outcome, kind: Kind, cell: str) -> None:
    body = resp.text
    # An answer may repeat what the caller asked for (an alert id in the path, echoed as the
    # problem's "instance"); everything else of the data kind is content.
    asked = str(resp.request.url)
    leaked = [m for m in kind.markers if m in body and m not in asked]
    if expected is Outcome.ALLOWED:
        assert resp.status_code == 200, (cell, resp.status_code, body[:300])
        assert leaked, (cell, "the data kind is missing from an allowed answer", body[:400])
        return
    assert not leaked, (cell, "LEAK", leaked)
    if expected is Outcome.DENIED:
        assert resp.status_code == 403, (cell, resp.status_code)
        return
    # hit-only: the answer names who holds the hidden part, never what it is
    assert resp.status_code in (200, 403), (cell, resp.status_code)
    hidden = sorted(kind.compartments - {"registry", "external"})
    if resp.status_code == 200:
        held = {w["compartment"] for w in resp.json().get("withheld", [])}
        assert held & set(hidden), (cell, "no withheld marker for", hidden, held)
    else:
        assert "held by" in resp.json()["detail"], (cell, body)


@pytest.mark.parametrize("user", sorted(USERS))
def test_reads_of_each_data_kind(api: TestClient, auth: Auth, user: str) -> None:
    for read in ENTITY_READS + ALERT_READS:
        resp = api.get(read.path, params={**dict(read.params), **PURPOSE}, headers=auth(user))
        cell = f"{user} / {read.endpoint} / {read.kind.name}"
        _assert_cell(resp, data_outcome(user, read.kind), read.kind, cell)


# Actions gated by role (the data they touch is checked in the reads above).
ROLE_GATED: list[tuple[str, str, str, dict[str, object] | None, tuple[Role, ...]]] = [
    ("audit log", "GET", "/api/v1/audit", None, (Role.SUPERVISOR, Role.ADMIN)),
    ("audit verify", "GET", "/api/v1/audit/verify", None, (Role.SUPERVISOR, Role.ADMIN)),
    ("user admin", "GET", "/api/v1/users", None, (Role.ADMIN,)),
    (
        "detection run",
        "POST",
        "/api/v1/jobs/detection",
        {"typologies": ["cash_smuggling"]},
        (Role.SUPERVISOR, Role.ADMIN),
    ),
]
AUDIT = Kind("audit", frozenset(), ("prev_hash",))


@pytest.mark.parametrize("user", sorted(USERS))
def test_role_gated_actions(api: TestClient, auth: Auth, user: str) -> None:
    for name, method, path, body, roles in ROLE_GATED:
        resp = api.request(method, path, json=body, headers=auth(user))
        expected = role_outcome(user, *roles)
        cell = f"{user} / {name}"
        if expected is Outcome.ALLOWED:
            assert resp.status_code in (200, 202), (cell, resp.status_code, resp.text[:300])
        else:
            assert resp.status_code == 403, (cell, resp.status_code)
            assert "prev_hash" not in resp.text, cell
            assert "password" not in resp.text, cell


EXPORTERS = (Role.ANALYST, Role.LIAISON, Role.SUPERVISOR)


@pytest.mark.parametrize("user", sorted(USERS))
def test_exports_by_role_and_data_kind(api: TestClient, auth: Auth, user: str) -> None:
    """An export is a read of everything in it: each file of the bundle follows the matrix."""
    body = {"keys": [ENTITY], "hops": 2, "formats": ["csv", "ftm"], "purpose": "matrix export"}
    resp = api.post("/api/v1/exports", json=body, headers=auth(user))
    if role_outcome(user, *EXPORTERS) is Outcome.DENIED:
        assert resp.status_code == 403, (user, resp.status_code)
        return
    assert resp.status_code == 201, (user, resp.text[:300])
    bundle = api.get(f"/api/v1/exports/{resp.json()['id']}/bundle", headers=auth(user))
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as zipped:
        text = "\n".join(zipped.read(n).decode("utf-8") for n in zipped.namelist())
    for kind in (CUSTOMS_RECORD, FIU_RECORD, TAX_RECORD, REGISTRY_RECORD):
        shown = [m for m in kind.markers if m in text]
        if reads(user, kind):
            assert shown, (user, "export", kind.name, "missing")
        else:
            assert not shown, (user, "export", kind.name, "LEAK", shown)
    # goAML is the FIU liaison's product.
    goaml = api.post("/api/v1/exports", json={**body, "formats": ["goaml"]}, headers=auth(user))
    expected = role_outcome(user, Role.LIAISON)
    assert goaml.status_code == (201 if expected is Outcome.ALLOWED else 403), user


def test_every_user_is_in_the_matrix() -> None:
    # The matrix covers each agency and each role at least once.
    assert {a for a, _, _ in USERS.values()} == {"customs", "fiu", "tax"}
    assert {r for _, roles, _ in USERS.values() for r in roles} == set(Role)
