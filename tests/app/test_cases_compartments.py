"""Compartments inside a case: a member from another agency learns nothing of FIU material
through the case until the FIU disseminates it, and then exactly what was disseminated.

Every response a customs member receives is checked against ``FIU_SECRETS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.users import Role, UserAgency, UserCreate
from queries.alerts import Typology, alert_id
from tests.app.conftest import PURPOSE, login, password
from tests.app.test_cases import CASES, LEGAL, open_case
from tests.queries.test_profile import (
    ACCOUNT,
    ENTITY,
    FIU,
    FIU_SECRETS,
    REPORT,
    TXN,
)

Auth = Callable[[str], dict[str, str]]
# Rests on customs and FIU records: rule 3 opens it only to a scope covering both.
JOINT_ALERT = alert_id(Typology.STRUCTURING, [ENTITY])
RELEASE = "AML Act s.36: disclosure to customs for the joint operation"


@pytest.fixture
def cleared(api: TestClient) -> dict[str, str]:
    """An FIU analyst also cleared for customs: the one user who sees the joint alert."""
    api.app.state.services.users.add(  # type: ignore[attr-defined]
        UserCreate(
            username="fiu-cleared",
            password=password("fiu-cleared"),
            agency=UserAgency.FIU,
            roles=[Role.ANALYST],
            clearances=[UserAgency.CUSTOMS],
        )
    )
    return login(api, "fiu-cleared")


class Watched:
    """A customs member's client: every body it receives is checked for FIU strings (but for
    those in ``allowed``, and the values the caller sent itself, which an error may echo)."""

    def __init__(
        self, api: TestClient, headers: dict[str, str], allowed: tuple[str, ...] = ()
    ) -> None:
        self.api, self.headers, self.allowed = api, headers, allowed

    def __call__(
        self,
        method: str,
        url: str,
        json: dict[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Response:
        resp: Response = self.api.request(
            method, url, headers=self.headers, json=json, params=params
        )
        text = resp.text
        for sent in (json or {}).values():
            text = text.replace(sent, "")
        leaked = [s for s in FIU_SECRETS if s not in self.allowed and s in text]
        assert leaked == [], (method, url, leaked)
        return resp


def _fiu_case(api: TestClient, auth: Auth, cleared: dict[str, str]) -> str:
    """A customs-led case the FIU has filled with FIU material, nothing disseminated yet."""
    case_id = open_case(api, auth, "customs-analyst", "fiu-analyst", "fiu-cleared")
    url = f"{CASES}/{case_id}"
    fiu = auth("fiu-analyst")
    for key in (FIU, REPORT, ENTITY):
        note = "Shadow Holdings filed STR r1 via GB00SHADOW0001" if key == FIU else None
        added = api.post(f"{url}/entities", json={"key": key, "note": note}, headers=fiu)
        assert added.status_code == 201, added.text
    assert (
        api.post(f"{url}/alerts", json={"alert_id": JOINT_ALERT}, headers=cleared).status_code
        == 201
    )
    snap = {"title": "Shadow Holdings money trail", "centres": [FIU], "hops": 2}
    assert api.post(f"{url}/snapshots", json=snap, headers=fiu).status_code == 201
    return case_id


def test_customs_member_sees_only_markers_for_fiu_material(
    api: TestClient, auth: Auth, cleared: dict[str, str]
) -> None:
    case_id = _fiu_case(api, auth, cleared)
    url = f"{CASES}/{case_id}"
    customs = Watched(api, auth("customs-analyst"))
    case = customs("GET", url).json()
    # The resolved entity has a customs member, so customs may read it; the rest is withheld.
    assert [e["key"] for e in case["entities"]] == [ENTITY]
    assert (case["alerts"], case["snapshots"], case["disseminations"]) == ([], [], [])
    markers = {(w["compartment"], w["kind"]): w["count"] for w in case["withheld"]}
    assert markers == {
        ("fiu", "case entities"): 2,
        ("fiu", "case alerts"): 1,
        ("fiu", "snapshots"): 1,
    }
    assert all("FIU" in w["note"] for w in case["withheld"])
    assert customs("GET", f"{url}/disseminated").json()["items"] == []
    # The snapshot shows what an FIU scope saw: it is no more readable by id than absent.
    snap_id = api.get(url, headers=auth("fiu-analyst")).json()["snapshots"][0]["id"]
    hidden, absent = (
        customs("GET", f"{url}/snapshots/{snap_id}"),
        customs("GET", f"{url}/snapshots/999"),
    )
    assert (hidden.status_code, absent.status_code) == (404, 404)
    # The FIU member sees everything it added (the joint alert needs customs too: withheld).
    fiu_view = api.get(url, headers=auth("fiu-analyst")).json()
    assert [e["key"] for e in fiu_view["entities"]] == [FIU, REPORT, ENTITY]
    assert [(w["compartment"], w["kind"]) for w in fiu_view["withheld"]] == [
        ("customs", "case alerts")
    ]
    full = api.get(url, headers=cleared).json()
    assert ([a["alert_id"] for a in full["alerts"]], full["withheld"]) == ([JOINT_ALERT], [])


def test_adding_what_you_cannot_read_is_answered_as_missing(
    api: TestClient, auth: Auth, cleared: dict[str, str]
) -> None:
    case_id = _fiu_case(api, auth, cleared)
    url = f"{CASES}/{case_id}"
    customs = Watched(api, auth("customs-analyst"))
    for what, field, hidden, missing in (
        ("entities", "key", FIU, "company:fiu:tax:NOPE"),
        ("entities", "key", REPORT, "report:bank9:r9"),  # already in the case, still 404
        ("alerts", "alert_id", JOINT_ALERT, alert_id(Typology.STRUCTURING, ["x"])),
        ("disseminations", "key", FIU, "company:fiu:tax:NOPE"),
    ):
        extra = {"legal_basis": LEGAL} if what == "disseminations" else {}
        got = customs("POST", f"{url}/{what}", json={field: hidden, **extra})
        none = customs("POST", f"{url}/{what}", json={field: missing, **extra})
        assert (got.status_code, none.status_code) == (404, 404), what
        # The same answer, word for word, once the key itself is taken out (the caller sent it).
        assert got.json()["detail"].replace(hidden, "?") == none.json()["detail"].replace(
            missing, "?"
        )


def test_dissemination_opens_exactly_the_disseminated_node_with_its_legal_basis(
    api: TestClient, auth: Auth, cleared: dict[str, str]
) -> None:
    case_id = _fiu_case(api, auth, cleared)
    url = f"{CASES}/{case_id}"
    fiu = auth("fiu-analyst")
    released = api.post(
        f"{url}/disseminations", json={"key": REPORT, "legal_basis": RELEASE}, headers=fiu
    )
    assert released.status_code == 201, released.text
    assert (released.json()["compartments"], released.json()["by"]) == (["fiu"], "fiu-analyst")

    # The report may now be named (and its file is in its provenance); nothing else of the FIU.
    customs = Watched(api, auth("customs-analyst"), allowed=(REPORT, "str.xml"))
    case = customs("GET", url).json()
    assert [e["key"] for e in case["entities"]] == [REPORT, ENTITY]
    assert [(d["key"], d["legal_basis"], d["by"]) for d in case["disseminations"]] == [
        (REPORT, RELEASE, "fiu-analyst")
    ]
    markers = {(w["compartment"], w["kind"]): w["count"] for w in case["withheld"]}
    assert markers[("fiu", "case entities")] == 1
    got = customs("GET", f"{url}/disseminated").json()
    assert [i["node"]["key"] for i in got["items"]] == [REPORT]
    item = got["items"][0]
    assert (item["legal_basis"], item["by"], item["compartments"]) == (
        RELEASE,
        "fiu-analyst",
        ["fiu"],
    )
    assert item["node"]["properties"]["report_code"] == "STR"
    assert item["node"]["provenance"]["compartments"] == ["fiu"]
    assert item["node"]["partial"] is False
    assert got["relationships"] == []  # the report's subject was not released
    # Dissemination widens nothing outside the case: the report stays hidden in a profile.
    outside = customs("GET", f"/api/v1/entities/{REPORT}", params=PURPOSE)
    assert (outside.status_code, outside.json()["records_by_agency"]) == (200, {})
    # A member of a third agency reads the disseminated report too.
    tax = api.get(f"{url}/disseminated", headers=auth("tax-analyst"))
    assert tax.status_code == 404  # not a member yet
    assert (
        api.post(
            f"{url}/members", json={"username": "tax-analyst"}, headers=auth("customs-analyst")
        ).status_code
        == 201
    )
    tax = api.get(f"{url}/disseminated", headers=auth("tax-analyst"))
    assert [i["node"]["key"] for i in tax.json()["items"]] == [REPORT]


def test_relationships_are_released_only_between_nodes_released_in_the_same_compartment(
    api: TestClient, auth: Auth, cleared: dict[str, str]
) -> None:
    case_id = _fiu_case(api, auth, cleared)
    url = f"{CASES}/{case_id}"
    fiu = auth("fiu-analyst")
    for key in (ACCOUNT, TXN):
        resp = api.post(
            f"{url}/disseminations", json={"key": key, "legal_basis": RELEASE}, headers=fiu
        )
        assert resp.status_code == 201
    customs = Watched(
        api, auth("customs-analyst"), allowed=(ACCOUNT, TXN, "9876.5", "SHADOW", "str.xml")
    )
    got = customs("GET", f"{url}/disseminated").json()
    assert sorted(i["node"]["key"] for i in got["items"]) == sorted([ACCOUNT, TXN])
    # The payment between them is released; the FIU record holding the account is not.
    assert [(r["type"], r["start"], r["end"]) for r in got["relationships"]] == [
        ("SENT", ACCOUNT, TXN)
    ]
    page = customs("GET", f"{url}/disseminated", params={"limit": 1}).json()
    assert (page["total"], page["next_offset"], len(page["items"])) == (2, 1, 1)


def test_only_the_owner_of_every_compartment_may_disseminate(
    api: TestClient, auth: Auth, cleared: dict[str, str]
) -> None:
    case_id = _fiu_case(api, auth, cleared)
    url = f"{CASES}/{case_id}/disseminations"
    body = {"key": ENTITY, "legal_basis": RELEASE}
    # The FIU reads the resolved entity, but customs records are part of it.
    refused = api.post(url, json=body, headers=auth("fiu-analyst"))
    assert refused.status_code == 403
    assert api.post(url, json=body, headers=auth("customs-analyst")).status_code == 403
    assert api.post(url, json=body, headers=cleared).status_code == 201
    joint = {"key": JOINT_ALERT, "legal_basis": RELEASE}
    assert api.post(url, json=joint, headers=auth("fiu-analyst")).status_code == 404  # rule 3
    seen = api.get(f"{CASES}/{case_id}", headers=auth("customs-analyst")).json()
    assert [(d["key"], d["compartments"], d["by"]) for d in seen["disseminations"]] == [
        (ENTITY, ["customs", "fiu"], "fiu-cleared")
    ]
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(entity=ENTITY, limit=100)
    denied = [r for r in records if r.action == "denied"]
    assert [(r.username, r.case_id) for r in denied] == [
        ("fiu-analyst", case_id),
        ("customs-analyst", case_id),
    ]
