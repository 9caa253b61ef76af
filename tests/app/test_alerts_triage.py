"""Alert triage: the workflow, reasons, assignees, notes, history, audit, and survival of a
detection re-run. The customs-only cash alert of the seeded store is the one worked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from app.users import UserAgency
from graph_models.store.base import GraphStore
from queries.alerts import load_alerts, save_alerts
from tests.app.conftest import PURPOSE
from tests.app.test_alerts import ALERTS, CASH, FIU_ALERT, listing, user

Auth = Callable[[str], dict[str, str]]
URL = f"{ALERTS}/{CASH}"


def patch(api: TestClient, headers: dict[str, str], **body: Any) -> tuple[int, dict[str, Any]]:
    resp = api.patch(URL, json=body, headers=headers)
    got: dict[str, Any] = resp.json()
    return resp.status_code, got


def triage(api: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    resp = api.get(URL, params=PURPOSE, headers=headers)
    assert resp.status_code == 200, resp.text
    state: dict[str, Any] = resp.json()["triage"]
    return state


def test_the_workflow_moves_only_along_allowed_transitions(api: TestClient, auth: Auth) -> None:
    analyst, supervisor = auth("customs-analyst"), auth("customs-supervisor")
    status, problem = patch(api, analyst, status="escalated")
    assert status == 409
    assert "new" in problem["detail"]
    assert problem["title"] == "Conflict"
    status, state = patch(api, analyst, status="in_review")
    assert (status, state["status"]) == (200, "in_review")
    assert patch(api, analyst, status="new")[0] == 409
    # The same status again is no change, and writes no history.
    assert patch(api, analyst, status="in_review")[1]["history"] == state["history"]
    status, state = patch(api, analyst, status="escalated")
    assert (status, state["status"]) == (200, "escalated")
    assert patch(api, analyst, status="in_review")[0] == 409  # no de-escalation
    status, state = patch(api, analyst, status="confirmed", note="matches seizure 17")
    assert (status, state["status"]) == (200, "confirmed")
    # Only a supervisor reopens, and says why.
    assert patch(api, analyst, status="in_review", note="look again")[0] == 403
    assert patch(api, supervisor, status="in_review")[0] == 422
    assert patch(api, supervisor, status="dismissed", note="x")[0] == 409
    status, state = patch(api, supervisor, status="in_review", note="new evidence from tax")
    assert (status, state["status"]) == (200, "in_review")
    history = [(e["kind"], e["by"], e["from_value"], e["to_value"]) for e in state["history"]]
    assert history == [
        ("status", "customs-analyst", "new", "in_review"),
        ("status", "customs-analyst", "in_review", "escalated"),
        ("status", "customs-analyst", "escalated", "confirmed"),
        ("status", "customs-supervisor", "confirmed", "in_review"),
    ]
    assert state["history"][2]["note"] == "matches seizure 17"
    times = [datetime.fromisoformat(e["at"]) for e in state["history"]]
    assert times == sorted(times)
    assert all(t.utcoffset() is not None for t in times)
    assert (state["updated_by"], state["updated_at"]) == (
        "customs-supervisor",
        times[-1].isoformat(),
    )
    assert triage(api, analyst) == state


def test_dismissal_and_confirmation_need_a_reason(api: TestClient, auth: Auth) -> None:
    analyst = auth("customs-analyst")
    for bad in ({}, {"note": "   "}):
        status, problem = patch(api, analyst, status="dismissed", **bad)
        assert status == 422
        assert "reason" in problem["detail"]
    assert triage(api, analyst)["history"] == []  # refusals change nothing
    patch(api, analyst, status="in_review")
    assert patch(api, analyst, status="confirmed")[0] == 422
    status, state = patch(api, analyst, status="dismissed", note="known courier, declared")
    assert (status, state["status"]) == (200, "dismissed")
    assert state["history"][-1]["note"] == "known courier, declared"


def test_a_stale_change_is_refused(api: TestClient, auth: Auth) -> None:
    analyst = auth("customs-analyst")
    patch(api, analyst, status="in_review", expected_status="new")
    status, problem = patch(api, analyst, status="escalated", expected_status="new")
    assert status == 409
    assert "someone changed it" in problem["detail"]
    assert triage(api, analyst)["status"] == "in_review"


def test_the_assignee_must_exist_triage_and_see_the_alert(api: TestClient, auth: Auth) -> None:
    analyst = auth("customs-analyst")
    user(api, "customs-gone", UserAgency.CUSTOMS)
    api.post("/api/v1/users/customs-gone/disable", headers=auth("admin"))
    # Unknown, disabled, without a triage role (admin), without the alert's compartment.
    for name in ("ghost-user", "customs-gone", "admin", "fiu-analyst"):
        status, problem = patch(api, analyst, assignee=name)
        assert status == 422, name
        assert name in problem["detail"]
    assert triage(api, analyst)["assignee"] is None
    status, state = patch(api, analyst, status="in_review", assignee="customs-supervisor")
    assert (status, state["assignee"]) == (200, "customs-supervisor")
    assert [(e["kind"], e["from_value"], e["to_value"]) for e in state["history"]] == [
        ("status", "new", "in_review"),
        ("assignee", None, "customs-supervisor"),
    ]
    mine = listing(api, analyst, assignee="customs-supervisor")
    assert [a["id"] for a in mine["items"]] == [CASH]
    assert [a["id"] for a in listing(api, analyst, status="in_review")["items"]] == [CASH]
    assert CASH not in [a["id"] for a in listing(api, analyst, status="new")["items"]]
    status, state = patch(api, analyst, assignee=None)
    assert (status, state["assignee"]) == (200, None)
    assert state["history"][-1]["from_value"] == "customs-supervisor"
    assert listing(api, analyst, assignee="customs-supervisor")["items"] == []
    # The FIU-bearing alert goes only to someone cleared for customs and FIU alike.
    cleared = user(api, "fiu-cleared", UserAgency.FIU, [UserAgency.CUSTOMS])
    fiu = f"{ALERTS}/{FIU_ALERT}"
    assert api.patch(fiu, json={"assignee": "fiu-analyst"}, headers=cleared).status_code == 422
    ok = api.patch(fiu, json={"assignee": "fiu-cleared"}, headers=cleared)
    assert (ok.status_code, ok.json()["assignee"]) == (200, "fiu-cleared")


def test_notes_add_to_history_and_only_triagers_write(api: TestClient, auth: Auth) -> None:
    analyst = auth("customs-analyst")
    resp = api.post(f"{URL}/notes", json={"text": " called the bank "}, headers=analyst)
    assert resp.status_code == 201
    state = resp.json()
    assert state["status"] == "new"
    [event] = state["history"]
    assert (event["kind"], event["by"], event["note"]) == (
        "note",
        "customs-analyst",
        "called the bank",
    )
    status, state = patch(api, analyst, note="second thought")
    assert (status, state["status"], state["history"][-1]["kind"]) == (200, "new", "note")
    for bad in ({"text": "  "}, {"text": "x", "colour": "red"}):
        assert api.post(f"{URL}/notes", json=bad, headers=analyst).status_code == 422
    assert patch(api, analyst)[0] == 422  # nothing to change
    assert patch(api, analyst, status="in_review", priority="high")[0] == 422
    admin = auth("admin")
    assert api.post(f"{URL}/notes", json={"text": "hello"}, headers=admin).status_code == 403
    assert patch(api, admin, status="in_review")[0] == 403
    assert len(triage(api, analyst)["history"]) == 2


def test_triage_survives_a_detection_rerun(api: TestClient, auth: Auth, seeded: GraphStore) -> None:
    analyst = auth("customs-analyst")
    patch(api, analyst, status="in_review", assignee="customs-analyst", note="mine")
    before = triage(api, analyst)
    # Detection runs again and finds the same alerts, one with a new score.
    again = [
        a.model_copy(update={"score": 9.5}) if a.id == CASH else a for a in load_alerts(seeded)
    ]
    save_alerts(seeded, again)
    got = api.get(URL, params=PURPOSE, headers=analyst).json()
    assert got["score"] == 9.5
    assert got["triage"] == before
    assert listing(api, analyst, status="in_review")["items"][0]["id"] == CASH


def test_changes_are_audited_refusals_too(api: TestClient, auth: Auth) -> None:
    analyst = auth("customs-analyst")
    patch(api, analyst, status="in_review", assignee="customs-analyst")
    patch(api, analyst, status="new")
    api.post(f"{URL}/notes", json={"text": "noted"}, headers=analyst)
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records = [r for r in audit.query(entity=CASH)[0] if r.action == "change"]
    assert [(r.endpoint, r.outcome) for r in records] == [
        ("PATCH /api/v1/alerts/{alert_id}", "ok"),
        ("PATCH /api/v1/alerts/{alert_id}", "refused"),
        ("POST /api/v1/alerts/{alert_id}/notes", "ok"),
    ]
    assert records[0].detail == {
        "status_from": "new",
        "status_to": "in_review",
        "assignee_to": "customs-analyst",
    }
    assert all(r.username == "customs-analyst" for r in records)
    assert all("company:customs:tax:GB1" in r.entities for r in records)
