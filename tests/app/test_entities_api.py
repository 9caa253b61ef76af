"""The investigator queries over HTTP: purpose, compartments, problem details."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import PURPOSE
from tests.queries.test_profile import CUSTOMS, ENTITY, FIU, FIU_SECRETS, REGISTRY

Auth = Callable[[str], dict[str, str]]

READS = [
    ("/api/v1/search", {"q": "acme trading"}),
    (f"/api/v1/entities/{CUSTOMS}", {}),
    (f"/api/v1/entities/{CUSTOMS}/neighbourhood", {"hops": 2}),
    (f"/api/v1/entities/{CUSTOMS}/timeline", {}),
    (f"/api/v1/entities/{CUSTOMS}/shared", {}),
    ("/api/v1/paths", {"source": CUSTOMS, "target": REGISTRY}),
]


@pytest.mark.parametrize(("path", "params"), READS)
def test_reads_need_a_purpose(
    api: TestClient, auth: Auth, path: str, params: dict[str, object]
) -> None:
    resp = api.get(path, params=params, headers=auth("customs-analyst"))
    assert resp.status_code == 428
    assert resp.headers["content-type"] == "application/problem+json"
    assert "purpose" in resp.json()["detail"]


@pytest.mark.parametrize(("path", "params"), READS)
def test_a_customs_analyst_gets_no_fiu_content_only_hit_markers(
    api: TestClient, auth: Auth, path: str, params: dict[str, object]
) -> None:
    resp = api.get(path, params={**params, **PURPOSE}, headers=auth("customs-analyst"))
    assert resp.status_code == 200, resp.text
    for secret in FIU_SECRETS:
        assert secret not in resp.text, (path, secret)


def test_the_profile_says_the_fiu_holds_something_without_saying_what(
    api: TestClient, auth: Auth
) -> None:
    customs = api.get(
        f"/api/v1/entities/{CUSTOMS}", params=PURPOSE, headers=auth("customs-analyst")
    ).json()
    held = {w["compartment"]: w for w in customs["withheld"]}
    assert "fiu" in held
    assert "ask the FIU liaison officer" in held["fiu"]["note"]
    assert "fiu" not in customs["records_by_agency"]
    # The FIU analyst reaches the same company through its resolved entity, and lacks the
    # customs compartment in turn.
    fiu = api.get(f"/api/v1/entities/{ENTITY}", params=PURPOSE, headers=auth("fiu-analyst"))
    assert [n["key"] for n in fiu.json()["records_by_agency"]["fiu"]] == [FIU]
    assert "customs" not in fiu.json()["records_by_agency"]
    assert "customs" in {w["compartment"] for w in fiu.json()["withheld"]}


def test_a_missing_entity_is_a_404_problem(api: TestClient, auth: Auth) -> None:
    resp = api.get(
        "/api/v1/entities/company:customs:nope", params=PURPOSE, headers=auth("fiu-analyst")
    )
    assert resp.status_code == 404
    body = resp.json()
    assert body["status"] == 404
    assert body["instance"] == "/api/v1/entities/company:customs:nope"


def test_a_case_purpose_needs_membership(api: TestClient, auth: Auth) -> None:
    resp = api.get(
        f"/api/v1/entities/{CUSTOMS}",
        params={"case_id": "case-does-not-exist"},
        headers=auth("customs-analyst"),
    )
    assert resp.status_code == 403


def test_metrics_count_requests_by_route(api: TestClient, auth: Auth) -> None:
    api.get(f"/api/v1/entities/{CUSTOMS}", params=PURPOSE, headers=auth("customs-analyst"))
    text = api.get("/metrics").text
    assert 'route="/api/v1/entities/{key:path}"' in text
    assert "iffgraph_http_request_duration_seconds_bucket" in text
