"""Background jobs: uploads loaded with their report and quarantine, detection and resolution
runs, who may submit and read them, what survives a restart, and the audit trail."""

from __future__ import annotations

import csv
import hashlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

import app.jobs
import app.routers.jobs as jobs_router
from app.api import create_app
from app.jobs import INTERRUPTED, NOT_STARTED, JobStatus
from app.services import Services
from app.settings import Settings
from app.users import Role, UserAgency, UserCreate
from graph_models.schema import Label
from graph_models.store.base import GraphStore
from queries.alerts import Typology
from queries.detection import DetectionRun, run_detectors
from tests.app.conftest import PURPOSE, login, password
from tests.queries.test_profile import FIU_SECRETS

Auth = Callable[[str], dict[str, str]]
FIXTURES = Path(__file__).parent.parent / "fixtures"
DECLARATIONS = FIXTURES / "customs" / "declarations.csv"
BAD_VALUES = FIXTURES / "customs" / "bad_values.csv"
STR_INVALID = FIXTURES / "goaml" / "str_invalid_transactions.xml"
JOBS = "/api/v1/jobs"
WAIT_S = 120.0


def services(api: TestClient) -> Services:
    found: Services = api.app.state.services  # type: ignore[attr-defined]
    return found


def graph(api: TestClient) -> GraphStore:
    found: GraphStore = api.app.state.store  # type: ignore[attr-defined]
    return found


def upload(
    api: TestClient,
    headers: dict[str, str],
    path: Path,
    *,
    name: str | None = None,
    kind: str | None = None,
) -> Response:
    with path.open("rb") as fh:
        resp: Response = api.post(
            f"{JOBS}/loads",
            files={"file": (name or path.name, fh, "application/octet-stream")},
            data={"kind": kind} if kind else {},
            headers=headers,
        )
    return resp


def finished(api: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """The job once it has run (waiting is not a check: the status is asserted after)."""
    services(api).jobs.wait(job_id, timeout=WAIT_S)
    resp = api.get(f"{JOBS}/{job_id}", headers=headers)
    assert resp.status_code == 200, resp.text
    job: dict[str, Any] = resp.json()
    return job


def accepted(resp: Response) -> str:
    assert resp.status_code == 202, resp.text
    job_id: str = resp.json()["id"]
    assert resp.headers["location"] == f"{JOBS}/{job_id}"
    return job_id


def fiu_supervisor(api: TestClient) -> dict[str, str]:
    services(api).users.add(
        UserCreate(
            username="fiu-supervisor",
            password=password("fiu-supervisor"),
            agency=UserAgency.FIU,
            roles=[Role.SUPERVISOR],
        )
    )
    return login(api, "fiu-supervisor")


def data_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        return len(list(csv.DictReader(fh)))


def test_an_uploaded_customs_file_is_loaded_and_searchable(api: TestClient, auth: Auth) -> None:
    before = api.get(
        "/api/v1/search", params={**PURPOSE, "q": "Nordhandel"}, headers=auth("customs-analyst")
    )
    assert before.json()["hits"] == []
    job_id = accepted(
        upload(api, auth("customs-supervisor"), DECLARATIONS, name="../../x/decl 1.csv")
    )
    job = finished(api, auth("customs-supervisor"), job_id)
    assert job["status"] == JobStatus.SUCCEEDED
    assert job["kind"] == "load"
    assert job["params"]["format"] == "customs"
    assert job["params"]["file"] == "decl_1.csv"  # no directory from the client
    report = job["result"]["report"]
    rows = data_rows(DECLARATIONS)
    assert (report["read"], report["loaded"], report["quarantined"]) == (rows, rows, 0)
    assert job["result"]["quarantine"] == []
    decl = graph(api).require_node("declaration:GB:24GB000101:1")
    assert decl.provenance.record_ids == ["decl_1.csv|row 2"]
    assert "customs" in decl.provenance.compartments
    # The name index was rebuilt: the new company is found at once.
    after = api.get(
        "/api/v1/search", params={**PURPOSE, "q": "Nordhandel"}, headers=auth("customs-analyst")
    )
    assert any(h["name"] == "Nordhandel GmbH" for h in after.json()["hits"])
    # The upload itself is not kept once the graph holds its records.
    assert not (services(api).jobs.root / "uploads" / job_id).exists()


def test_bad_rows_come_back_as_quarantine_entries(api: TestClient, auth: Auth) -> None:
    job_id = accepted(upload(api, auth("customs-supervisor"), BAD_VALUES))
    job = finished(api, auth("customs-analyst"), job_id)
    assert job["status"] == JobStatus.SUCCEEDED
    report = job["result"]["report"]
    entries = {e["record"]: e for e in job["result"]["quarantine"]}
    assert report["read"] == data_rows(BAD_VALUES)
    assert report["read"] == report["loaded"] + report["quarantined"]
    assert len(entries) == report["quarantined"] > 0
    assert entries["row 3"]["field"] == "quantity"
    assert "negative" in entries["row 3"]["reason"]
    assert entries["row 3"]["value"] == "-10"
    assert entries["row 6"]["field"] == "invoice_currency"
    assert {e["file"] for e in entries.values()} == {"bad_values.csv"}
    # Lists stay light: the entries are read from the job itself.
    listed = api.get(JOBS, headers=auth("customs-analyst")).json()["items"]
    assert [j["result"]["quarantine"] for j in listed if j["id"] == job_id] == [[]]


@pytest.mark.parametrize(
    ("fixture", "kind", "words"),
    [
        ("missing_columns.csv", "customs", "required columns missing: declaration_date"),
        ("latin1.csv", "customs", "not valid utf-8: byte 0xfc at line 2"),
        ("missing_columns.csv", None, "cannot tell what kind of file this is"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_failed_job_saying_where(
    api: TestClient, auth: Auth, fixture: str, kind: str | None, words: str
) -> None:
    nodes = graph(api).counts().total_nodes
    job_id = accepted(
        upload(api, auth("customs-supervisor"), FIXTURES / "customs" / fixture, kind=kind)
    )
    job = finished(api, auth("customs-supervisor"), job_id)
    assert job["status"] == JobStatus.FAILED
    assert job["result"] is None
    assert words in job["error"]
    assert job["error"].startswith(fixture)  # named as uploaded, not by a server path
    assert graph(api).counts().total_nodes == nodes


def test_only_supervisors_load_and_only_their_own_agency_data(api: TestClient, auth: Auth) -> None:
    nodes = graph(api).counts().total_nodes
    assert upload(api, auth("customs-analyst"), DECLARATIONS).status_code == 403
    for kind in (None, "goaml"):  # told from content, or claimed
        refused = upload(api, auth("customs-supervisor"), STR_INVALID, kind=kind)
        assert refused.status_code == 403
        assert "fiu data" in refused.json()["detail"]
    # Registry extracts belong to no user agency: admins load them, supervisors do not.
    registry = FIXTURES / "registry" / "companies.csv"
    assert upload(api, auth("customs-supervisor"), registry).status_code == 403
    assert graph(api).counts().total_nodes == nodes
    assert api.get(JOBS, headers=auth("admin")).json()["total"] == 0
    assert not any((services(api).jobs.root / "uploads").glob("*/*"))
    logged, _ = services(api).audit.query(username="customs-supervisor")
    denied = [r for r in logged if r.action != "login"]
    assert [r.action for r in denied] == ["denied"] * 3
    assert {r.detail["file"] for r in denied} == {STR_INVALID.name, registry.name}


def test_a_load_is_seen_by_its_agency_and_its_quarantine_only_inside_the_compartment(
    api: TestClient, auth: Auth
) -> None:
    fiu = fiu_supervisor(api)
    job_id = accepted(upload(api, fiu, STR_INVALID, name="str_shadow_acme.xml"))
    job = finished(api, auth("fiu-analyst"), job_id)
    assert job["status"] == JobStatus.SUCCEEDED
    values = {e["value"] for e in job["result"]["quarantine"]}
    assert values == {"-50.00", "XYZ", "2999-01-01T00:00:00"}
    # Another agency's users: no such job.
    assert api.get(f"{JOBS}/{job_id}", headers=auth("customs-supervisor")).status_code == 404
    assert api.get(JOBS, headers=auth("customs-analyst")).json()["items"] == []
    # An admin without FIU clearance sees that it ran and how much, never what.
    seen = api.get(f"{JOBS}/{job_id}", headers=auth("admin"))
    assert seen.status_code == 200
    body = seen.json()
    assert body["status"] == JobStatus.SUCCEEDED
    assert body["result"]["report"]["quarantined"] == len(values)
    assert body["result"]["quarantine"] == []
    assert body["result"]["withheld"]["count"] == len(values)
    assert body["result"]["withheld"]["compartment"] == "fiu"
    listed = api.get(JOBS, headers=auth("admin")).text
    for text in (seen.text, listed):
        for secret in (*values, "shadow_acme", "Nordmann", "Bank Alpha"):
            assert secret not in text


def test_detection_runs_in_the_background_and_reports_counts_only(
    api: TestClient, auth: Auth
) -> None:
    wanted = [Typology.STRUCTURING, Typology.SHELL_NETWORK]
    resp = api.post(
        f"{JOBS}/detection", json={"typologies": wanted}, headers=auth("customs-supervisor")
    )
    job = finished(api, auth("customs-analyst"), accepted(resp))
    assert job["status"] == JobStatus.SUCCEEDED
    expected = run_detectors(graph(api), typologies=wanted, save=False).by_typology()
    assert job["result"]["alerts"] == {t.value: len(expected.get(t, [])) for t in wanted}
    assert {t["detector"] for t in job["result"]["timings"]}
    text = api.get(f"{JOBS}/{job['id']}", headers=auth("customs-supervisor")).text
    for secret in FIU_SECRETS:
        assert secret not in text
    assert api.post(f"{JOBS}/detection", headers=auth("customs-analyst")).status_code == 403
    bad = api.post(f"{JOBS}/detection", json={"typologies": ["x"]}, headers=auth("admin"))
    assert bad.status_code == 422


def test_resolution_runs_in_the_background(api: TestClient, auth: Auth) -> None:
    resp = api.post(f"{JOBS}/resolution", json={"full": True}, headers=auth("admin"))
    job = finished(api, auth("admin"), accepted(resp))
    assert job["status"] == JobStatus.SUCCEEDED
    summary = job["result"]["summary"]
    resolved = sum(1 for _ in graph(api).iter_nodes([Label.RESOLVED_ENTITY]))
    assert sum(summary["entities"].values()) == resolved > 0
    for secret in FIU_SECRETS:
        assert secret not in str(job)
    assert api.post(f"{JOBS}/resolution", headers=auth("fiu-analyst")).status_code == 403


def test_a_restart_fails_the_jobs_it_interrupted(
    api: TestClient, auth: Auth, settings: Settings
) -> None:
    first = accepted(api.post(f"{JOBS}/detection", headers=auth("customs-supervisor")))
    second = accepted(api.post(f"{JOBS}/resolution", headers=auth("customs-supervisor")))
    services(api).jobs.wait(first, WAIT_S)
    services(api).jobs.wait(second, WAIT_S)
    # A process that dies leaves its rows as they were: one running, one still queued.
    with services(api).db.write() as conn:
        conn.execute("UPDATE jobs SET status = 'running' WHERE id = ?", (first,))
        conn.execute("UPDATE jobs SET status = 'queued' WHERE id = ?", (second,))
    with TestClient(create_app(settings, store=graph(api))) as restarted:
        headers = login(restarted, "customs-supervisor")
        for job_id in (first, second):
            job = restarted.get(f"{JOBS}/{job_id}", headers=headers).json()
            assert (job["status"], job["error"]) == (JobStatus.FAILED, INTERRUPTED)


def test_closing_waits_for_the_running_job_and_fails_the_queued(
    seeded: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, gate = threading.Event(), threading.Event()

    def held(store: GraphStore, **options: Any) -> DetectionRun:
        started.set()
        gate.wait(WAIT_S)
        return run_detectors(store, **options)

    monkeypatch.setattr(app.jobs, "run_detectors", held)
    with TestClient(create_app(settings, store=seeded)) as client:
        services(client).users.add(
            UserCreate(
                username="tax-sup",
                password=password("tax-sup"),
                agency=UserAgency.TAX,
                roles=[Role.SUPERVISOR],
            )
        )
        headers = login(client, "tax-sup")
        ids = [accepted(client.post(f"{JOBS}/detection", headers=headers)) for _ in range(3)]
        jobs = services(client).jobs
        assert started.wait(WAIT_S)
        closer = threading.Thread(target=jobs.close)
        closer.start()
        # Wait (not a check) until close() has dropped the queued jobs, then let the first end.
        deadline = time.monotonic() + WAIT_S
        while jobs.get(ids[-1]).status is JobStatus.QUEUED and time.monotonic() < deadline:
            time.sleep(0.02)
        gate.set()
        closer.join(WAIT_S)
        assert not closer.is_alive()
        # close() returned only once the running job had finished.
        assert jobs.get(ids[0]).status is JobStatus.SUCCEEDED
    for job_id in ids[1:]:
        assert (jobs.get(job_id).status, jobs.get(job_id).error) == (JobStatus.FAILED, NOT_STARTED)


def test_an_upload_over_the_cap_is_refused(
    api: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_router, "MAX_UPLOAD_BYTES", DECLARATIONS.stat().st_size - 1)
    resp = upload(api, auth("customs-supervisor"), DECLARATIONS)
    assert resp.status_code == 413
    assert not any((services(api).jobs.root / "uploads").glob("*/*"))
    assert api.get(JOBS, headers=auth("customs-supervisor")).json()["total"] == 0


def test_submissions_are_audited_as_changes(api: TestClient, auth: Auth) -> None:
    job_id = accepted(upload(api, auth("customs-supervisor"), DECLARATIONS))
    wanted = [Typology.CASH_SMUGGLING.value]
    detection = accepted(
        api.post(f"{JOBS}/detection", json={"typologies": wanted}, headers=auth("admin"))
    )
    records, _ = services(api).audit.query()
    changes = {r.detail["job_id"]: r for r in records if r.action == "change"}
    load = changes[job_id]
    assert load.username == "customs-supervisor"
    assert load.detail["file"] == DECLARATIONS.name
    assert load.detail["sha256"] == hashlib.sha256(DECLARATIONS.read_bytes()).hexdigest()
    assert changes[detection].detail["typologies"] == wanted
    assert changes[detection].username == "admin"
    # Reading quarantined values back is a read of record content, and audited.
    finished(
        api,
        auth("customs-supervisor"),
        accepted(upload(api, auth("customs-supervisor"), BAD_VALUES)),
    )
    reads, _ = services(api).audit.query(username="customs-supervisor")
    assert any(r.action == "read" and r.endpoint == "GET /api/v1/jobs/{job_id}" for r in reads)
    assert services(api).audit.verify().ok


def test_a_starting_worker_leaves_a_live_siblings_jobs_alone(
    api: TestClient, auth: Auth, settings: Settings
) -> None:
    first = accepted(api.post(f"{JOBS}/detection", headers=auth("customs-supervisor")))
    services(api).jobs.wait(first, WAIT_S)
    sibling = subprocess.Popen(["sleep", "60"])  # another live worker process on this host
    try:
        with services(api).db.write() as conn:
            conn.execute(
                "UPDATE jobs SET status = 'running', owner = ? WHERE id = ?",
                (f"{socket.gethostname()}:{sibling.pid}", first),
            )
        with TestClient(create_app(settings, store=graph(api))) as restarted:
            job = restarted.get(f"{JOBS}/{first}", headers=login(restarted, "customs-supervisor"))
            assert job.json()["status"] == JobStatus.RUNNING
    finally:
        sibling.kill()
        sibling.wait()
    # Once that process is gone, the next start fails its job.
    with TestClient(create_app(settings, store=graph(api))) as restarted:
        job = restarted.get(f"{JOBS}/{first}", headers=login(restarted, "customs-supervisor"))
        assert (job.json()["status"], job.json()["error"]) == (JobStatus.FAILED, INTERRUPTED)
