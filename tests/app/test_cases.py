"""Cases over HTTP: lifecycle with who and when, membership as the gate, read-only when
closed, attachments, snapshots that keep what the team saw, and audit records with the case.

The compartments inside a case are tested in ``test_cases_compartments.py``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from graph_models.schema import RelType
from queries.alerts import Typology, alert_id
from tests.app.conftest import PURPOSE
from tests.factories import node, prov, rel
from tests.queries.test_profile import ADDRESS, CUSTOMS

Auth = Callable[[str], dict[str, str]]
CASES = "/api/v1/cases"
CUSTOMS_ALERT = alert_id(Typology.CASH_SMUGGLING, [CUSTOMS])  # rests on customs records only
LEGAL = "Customs Act s.12; MoU customs-FIU 2024"


def open_case(api: TestClient, auth: Auth, creator: str, *members: str) -> str:
    resp = api.post(
        CASES, json={"title": "Operation Lantern", "legal_basis": LEGAL}, headers=auth(creator)
    )
    assert resp.status_code == 201, resp.text
    case_id: str = resp.json()["id"]
    for member in members:
        added = api.post(
            f"{CASES}/{case_id}/members", json={"username": member}, headers=auth(creator)
        )
        assert added.status_code == 201, added.text
    return case_id


def recent(stamp: str) -> bool:
    """An ISO timestamp of the last minute (who-and-when is recorded at the time of the act)."""
    return datetime.now(UTC) - datetime.fromisoformat(stamp) < timedelta(minutes=1)


def test_a_case_records_who_added_what_and_when(api: TestClient, auth: Auth) -> None:
    customs, fiu = auth("customs-analyst"), auth("fiu-analyst")
    body = {"title": "Operation Lantern", "legal_basis": LEGAL}
    created = api.post(CASES, json=body, headers=customs)
    assert created.status_code == 201
    case = created.json()
    assert re.fullmatch(rf"case-{datetime.now(UTC).year}-\d{{6}}", case["id"])
    assert (case["status"], case["created_by"], case["legal_basis"]) == (
        "open",
        "customs-analyst",
        LEGAL,
    )
    assert [m["username"] for m in case["members"]] == ["customs-analyst"]
    url = f"{CASES}/{case['id']}"

    member = api.post(f"{url}/members", json={"username": "fiu-analyst"}, headers=customs)
    assert (member.status_code, member.json()["agency"]) == (201, "fiu")
    steps = [
        (customs, "entities", {"key": CUSTOMS, "note": "importer"}),
        (customs, "alerts", {"alert_id": CUSTOMS_ALERT}),
        (fiu, "notes", {"text": "visit planned"}),
    ]
    for headers, what, item in steps:
        assert api.post(f"{url}/{what}", json=item, headers=headers).status_code == 201
    change = {"status": "active", "title": "Lantern II"}
    assert api.patch(url, json=change, headers=customs).status_code == 200

    full = api.get(url, headers=customs).json()
    assert full["agencies"] == ["customs", "fiu"]  # the member users' agencies
    assert (full["title"], full["status"]) == ("Lantern II", "active")
    assert [(m["username"], m["added_by"]) for m in full["members"]] == [
        ("customs-analyst", "customs-analyst"),
        ("fiu-analyst", "customs-analyst"),
    ]
    assert [(e["key"], e["note"], e["added_by"]) for e in full["entities"]] == [
        (CUSTOMS, "importer", "customs-analyst")
    ]
    assert [(a["alert_id"], a["added_by"]) for a in full["alerts"]] == [
        (CUSTOMS_ALERT, "customs-analyst")
    ]
    assert [(n["text"], n["by"]) for n in full["notes"]] == [("visit planned", "fiu-analyst")]
    assert {(h["field"], h["old"], h["new"], h["by"]) for h in full["history"]} == {
        ("title", "Operation Lantern", "Lantern II", "customs-analyst"),
        ("status", "open", "active", "customs-analyst"),
    }
    stamps = [
        full["created_at"],
        *(m["added_at"] for m in full["members"]),
        *(e["added_at"] for e in full["entities"]),
        *(a["added_at"] for a in full["alerts"]),
        *(n["at"] for n in full["notes"]),
        *(h["at"] for h in full["history"]),
    ]
    assert len(stamps) == 8
    assert all(recent(s) for s in stamps)


def test_the_list_holds_the_callers_cases_only_a_page_at_a_time(
    api: TestClient, auth: Auth
) -> None:
    mine = [open_case(api, auth, "tax-analyst") for _ in range(3)]
    open_case(api, auth, "customs-analyst")
    first = api.get(CASES, params={"limit": 2}, headers=auth("tax-analyst")).json()
    assert (first["total"], first["next_offset"]) == (3, 2)
    rest = api.get(CASES, params={"offset": 2, "limit": 2}, headers=auth("tax-analyst")).json()
    assert rest["next_offset"] is None
    assert sorted(c["id"] for c in first["items"] + rest["items"]) == sorted(mine)
    assert api.get(CASES, headers=auth("fiu-analyst")).json()["total"] == 0


def test_only_case_workers_open_cases_and_a_title_and_legal_basis_are_required(
    api: TestClient, auth: Auth
) -> None:
    body = {"title": "Operation Lantern", "legal_basis": LEGAL}
    assert api.post(CASES, json=body, headers=auth("admin")).status_code == 403
    assert api.post(CASES, json=body, headers=auth("fiu-liaison")).status_code == 201
    assert api.post(CASES, json=body, headers=auth("customs-supervisor")).status_code == 201
    for missing in ("title", "legal_basis"):
        partial = {k: v for k, v in body.items() if k != missing}
        assert api.post(CASES, json=partial, headers=auth("tax-analyst")).status_code == 422
    extra = {**body, "status": "closed"}
    assert api.post(CASES, json=extra, headers=auth("tax-analyst")).status_code == 422


def test_members_are_added_by_the_creator_or_a_supervisor(api: TestClient, auth: Auth) -> None:
    case_id = open_case(api, auth, "customs-analyst", "fiu-analyst", "customs-supervisor")
    url = f"{CASES}/{case_id}/members"
    refused = api.post(url, json={"username": "tax-analyst"}, headers=auth("fiu-analyst"))
    assert refused.status_code == 403
    ok = api.post(url, json={"username": "tax-analyst"}, headers=auth("customs-supervisor"))
    assert ok.status_code == 201
    again = api.post(url, json={"username": "tax-analyst"}, headers=auth("customs-analyst"))
    assert again.status_code == 409
    ghost = api.post(url, json={"username": "nobody-here"}, headers=auth("customs-analyst"))
    assert ghost.status_code == 404
    got = api.get(f"{CASES}/{case_id}", headers=auth("tax-analyst")).json()
    assert got["agencies"] == ["customs", "fiu", "tax"]


def _every_route(case_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    url = f"{CASES}/{case_id}"
    return [
        ("GET", url, {}),
        ("PATCH", url, {"json": {"status": "closed"}}),
        ("POST", f"{url}/members", {"json": {"username": "tax-analyst"}}),
        ("POST", f"{url}/entities", {"json": {"key": CUSTOMS}}),
        ("POST", f"{url}/alerts", {"json": {"alert_id": CUSTOMS_ALERT}}),
        ("POST", f"{url}/notes", {"json": {"text": "hello"}}),
        ("POST", f"{url}/attachments", {"files": {"file": ("a.txt", b"abc", "text/plain")}}),
        ("GET", f"{url}/attachments/1", {}),
        ("POST", f"{url}/snapshots", {"json": {"title": "now", "centres": [CUSTOMS]}}),
        ("GET", f"{url}/snapshots/1", {}),
        ("POST", f"{url}/disseminations", {"json": {"key": CUSTOMS, "legal_basis": LEGAL}}),
        ("GET", f"{url}/disseminated", {}),
    ]


def test_non_members_and_admins_get_404_on_every_route_as_for_no_case(
    api: TestClient, auth: Auth
) -> None:
    case_id = open_case(api, auth, "customs-analyst")
    url = f"{CASES}/{case_id}"
    customs = auth("customs-analyst")
    assert api.post(f"{url}/notes", json={"text": "first"}, headers=customs).status_code == 201
    assert (
        api.post(
            f"{url}/snapshots", json={"title": "now", "centres": [CUSTOMS]}, headers=customs
        ).status_code
        == 201
    )
    files = {"file": ("a.txt", b"abc", "text/plain")}
    assert api.post(f"{url}/attachments", files=files, headers=customs).status_code == 201
    absent = "case-2000-999999"
    for outsider in ("customs-supervisor", "tax-analyst", "admin"):
        for (method, path, kwargs), (_, missing, _) in zip(
            _every_route(case_id), _every_route(absent), strict=True
        ):
            resp = api.request(method, path, headers=auth(outsider), **kwargs)
            nothing = api.request(method, missing, headers=auth(outsider), **kwargs)
            assert (resp.status_code, nothing.status_code) == (404, 404), (outsider, method, path)
            assert resp.json()["detail"].replace(case_id, absent) == nothing.json()["detail"]
        assert api.get(CASES, headers=auth(outsider)).json()["total"] == 0
    # Nothing the outsiders tried changed the case.
    case = api.get(url, headers=customs).json()
    assert (case["status"], len(case["members"]), len(case["notes"])) == ("open", 1, 1)
    assert (case["entities"], case["alerts"], case["disseminations"]) == ([], [], [])


def test_a_closed_case_is_read_only(api: TestClient, auth: Auth) -> None:
    case_id = open_case(api, auth, "customs-analyst")
    url = f"{CASES}/{case_id}"
    customs = auth("customs-analyst")
    assert api.post(f"{url}/notes", json={"text": "before"}, headers=customs).status_code == 201
    closed = api.patch(url, json={"status": "closed"}, headers=customs)
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    for method, path, kwargs in _every_route(case_id):
        resp = api.request(method, path, headers=customs, **kwargs)
        if method == "GET":
            assert resp.status_code != 409
        else:
            assert resp.status_code == 409, (method, path, resp.text)
    reopen = api.patch(url, json={"status": "open"}, headers=customs)
    assert reopen.status_code == 409
    case = api.get(url, headers=customs).json()
    assert (case["status"], [n["text"] for n in case["notes"]]) == ("closed", ["before"])
    assert (case["entities"], case["snapshots"], case["attachments"]) == ([], [], [])


def test_an_attachment_round_trips_with_its_sha256(
    api: TestClient, auth: Auth, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = open_case(api, auth, "customs-analyst", "tax-analyst")
    url = f"{CASES}/{case_id}/attachments"
    content = b"invoice 4711\x00\xff binary tail"
    files = {"file": ("..\\..\\evil/../passwd;<x>.pdf", content, "application/pdf")}
    up = api.post(url, files=files, headers=auth("customs-analyst"))
    assert up.status_code == 201, up.text
    meta = up.json()
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    assert (meta["size"], meta["media_type"], meta["by"]) == (
        len(content),
        "application/pdf",
        "customs-analyst",
    )
    assert meta["filename"] == "passwd_x_.pdf"  # no directory, control or markup characters
    assert (settings.attachments_dir / case_id / meta["sha256"]).read_bytes() == content
    # Attachments are the members' shared material: another agency's member downloads it.
    down = api.get(f"{url}/{meta['id']}", headers=auth("tax-analyst"))
    assert down.status_code == 200
    assert hashlib.sha256(down.content).hexdigest() == meta["sha256"]
    assert down.headers["content-disposition"].startswith("attachment")
    assert down.headers["x-content-type-options"] == "nosniff"
    assert api.get(f"{url}/{meta['id'] + 1}", headers=auth("tax-analyst")).status_code == 404
    listed = api.get(f"{CASES}/{case_id}", headers=auth("tax-analyst")).json()["attachments"]
    assert [a["sha256"] for a in listed] == [meta["sha256"]]

    monkeypatch.setattr("app.routers.cases.MAX_ATTACHMENT_BYTES", len(content) - 1)
    big = api.post(url, files={"file": ("b.bin", content)}, headers=auth("customs-analyst"))
    assert big.status_code == 413
    assert (
        api.post(url, files={"file": ("e.bin", b"")}, headers=auth("customs-analyst")).status_code
        == 422
    )
    leftovers = [p.name for p in (settings.attachments_dir / case_id).iterdir()]
    assert leftovers == [meta["sha256"]]  # refused uploads leave nothing behind


def test_a_snapshot_keeps_what_the_team_saw_after_the_graph_changes(
    api: TestClient, auth: Auth
) -> None:
    case_id = open_case(api, auth, "customs-analyst")
    url = f"{CASES}/{case_id}/snapshots"
    customs = auth("customs-analyst")
    saved = api.post(
        url, json={"title": "Acme today", "centres": [CUSTOMS], "hops": 1}, headers=customs
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["compartments"] == ["customs", "external", "registry"]
    before = api.get(f"{url}/{saved.json()['id']}", headers=customs).json()
    assert before["neighbourhoods"][0]["center"] == CUSTOMS
    seen = {n["key"] for n in before["neighbourhoods"][0]["nodes"]}
    assert ADDRESS in seen

    store = api.app.state.store  # type: ignore[attr-defined]
    later = prov("customs", "declarations.csv", "row 99", seen="2025-01-01")
    store.write_nodes(
        [
            node(CUSTOMS, later, name="ACME RENAMED LTD"),
            node("address:gb:2 low road leeds", later, full="2 Low Road, Leeds"),
        ]
    )
    store.write_relationships(
        [rel(RelType.REGISTERED_AT, CUSTOMS, "address:gb:2 low road leeds", provenance=later)]
    )
    live = api.get(
        f"/api/v1/entities/{CUSTOMS}/neighbourhood", params={**PURPOSE, "hops": 1}, headers=customs
    )
    assert "address:gb:2 low road leeds" in {n["key"] for n in live.json()["nodes"]}

    after = api.get(f"{url}/{saved.json()['id']}", headers=customs).json()
    assert after == before
    assert "ACME RENAMED LTD" not in str(after)
    assert "ACME RENAMED LTD" in live.text  # while the live graph did change


def test_every_case_read_and_change_is_audited_with_the_case_id(
    api: TestClient, auth: Auth
) -> None:
    case_id = open_case(api, auth, "customs-analyst")
    url = f"{CASES}/{case_id}"
    customs = auth("customs-analyst")
    assert api.post(f"{url}/entities", json={"key": CUSTOMS}, headers=customs).status_code == 201
    assert api.get(url, headers=customs).status_code == 200
    assert api.get(url, headers=auth("tax-analyst")).status_code == 404
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(limit=1000)
    mine = [r for r in records if r.case_id == case_id]
    assert all(r.endpoint.split()[1].startswith("/api/v1/cases") for r in mine)
    kinds = [(r.username, r.action, r.outcome) for r in mine]
    assert ("customs-analyst", "change", "ok") in kinds  # create
    assert ("tax-analyst", "denied", "not_found") in kinds
    added = [r for r in mine if r.endpoint.endswith("/entities")]
    assert [(r.action, r.entities) for r in added] == [("change", [CUSTOMS])]
    read = [r for r in mine if r.action == "read" and r.username == "customs-analyst"]
    assert [r.entities for r in read] == [[CUSTOMS]]
    # Each case request left exactly one record (create, add member x0, add entity, read, denied).
    assert len(mine) == 4


def test_an_oversized_upload_is_refused_while_it_arrives(api: TestClient, auth: Auth) -> None:
    case = api.post(
        "/api/v1/cases",
        json={"title": "Big files", "legal_basis": "Art. 7 MoU"},
        headers=auth("customs-analyst"),
    ).json()["id"]
    huge = b"x" * (21 * 1024 * 1024)
    resp = api.post(
        f"/api/v1/cases/{case}/attachments",
        files={"file": ("huge.bin", huge, "application/octet-stream")},
        headers=auth("customs-analyst"),
    )
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/problem+json"
    assert "accepts at most" in resp.json()["detail"]  # refused on arrival, by its length
    # A JSON body has a small limit of its own; a chunked one is counted as it arrives.
    note = api.post(
        f"/api/v1/cases/{case}/notes",
        content=iter([b'{"text": "', b"y" * (2 * 1024 * 1024), b'"}']),
        headers={**auth("customs-analyst"), "content-type": "application/json"},
    )
    assert note.status_code == 413
