"""Case exports: members only; the case's legal basis and notes travel with it; FIU material
reaches a customs member's files only once disseminated, and then exactly that node."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.app.test_cases import CASES, LEGAL, open_case
from tests.app.test_exports import EXPORTS, bundle, export, texts
from tests.queries.test_profile import ENTITY, FIU, FIU_SECRETS

Auth = Callable[[str], dict[str, str]]
RELEASE = "AML Act s.36: disclosure to customs for the joint operation"


def _case(api: TestClient, auth: Auth) -> str:
    """A customs-led case holding Acme and the FIU's record of it, and a customs note."""
    case_id = open_case(api, auth, "customs-analyst", "fiu-analyst")
    url = f"{CASES}/{case_id}"
    for key in (FIU, ENTITY):
        added = api.post(f"{url}/entities", json={"key": key}, headers=auth("fiu-analyst"))
        assert added.status_code == 201, added.text
    note = {"text": "Check the 2024 imports"}
    assert api.post(f"{url}/notes", json=note, headers=auth("customs-analyst")).status_code == 201
    return case_id


def test_a_customs_members_case_export_holds_only_markers_of_the_fiu_record(
    api: TestClient, auth: Auth
) -> None:
    case_id = _case(api, auth)
    customs = auth("customs-analyst")
    receipt = export(api, customs, case_id=case_id)
    manifest = receipt["manifest"]
    assert (manifest["case_id"], manifest["legal_basis"]) == (case_id, LEGAL)
    assert manifest["title"] == "Operation Lantern"
    assert manifest["subjects"] == [ENTITY]
    assert manifest["disseminated"] == []
    markers = {(w["compartment"], w["kind"]) for w in manifest["withheld"]}
    assert ("fiu", "case entities") in markers
    files = texts(bundle(api, customs, receipt["id"]))
    for name, text in files.items():
        assert [s for s in FIU_SECRETS if s in text] == [], name
    assert "Check the 2024 imports" in files["brief.html"]
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(username="customs-analyst")
    (created,) = [r for r in records if r.action == "export" and r.endpoint.startswith("POST")]
    assert created.case_id == case_id


def test_a_disseminated_node_is_exported_with_its_legal_basis_and_nothing_around_it(
    api: TestClient, auth: Auth
) -> None:
    case_id = _case(api, auth)
    released = api.post(
        f"{CASES}/{case_id}/disseminations",
        json={"key": FIU, "legal_basis": RELEASE},
        headers=auth("fiu-analyst"),
    )
    assert released.status_code == 201, released.text
    customs = auth("customs-analyst")
    receipt = export(api, customs, case_id=case_id, hops=2)
    manifest = receipt["manifest"]
    assert [(d["key"], d["compartments"], d["legal_basis"]) for d in manifest["disseminated"]] == [
        (FIU, ["fiu"], RELEASE)
    ]
    assert manifest["subjects"] == [ENTITY, FIU]
    files = texts(bundle(api, customs, receipt["id"]))
    # The record itself (its name, its key, the file it came from) and nothing else of the FIU:
    # not its account, transaction or report, reached through relationships never released.
    allowed = (FIU, "Shadow Holdings", "str.xml")
    for name, text in files.items():
        assert [s for s in FIU_SECRETS if s not in allowed and s in text] == [], name
    assert FIU in files["nodes.csv"]
    assert "Shadow Holdings" in files["brief.html"]
    assert RELEASE in files["brief.html"]
    assert json.loads(files["manifest.json"])["disseminated"][0]["by"] == "fiu-analyst"


def test_only_members_export_a_case(api: TestClient, auth: Auth) -> None:
    case_id = _case(api, auth)
    body = {"case_id": case_id, "purpose": "not my case at all"}
    for outsider in ("tax-analyst", "customs-supervisor"):
        assert api.post(EXPORTS, json=body, headers=auth(outsider)).status_code == 404
    missing = {"case_id": "case-1999-000001", "purpose": "no such case"}
    assert api.post(EXPORTS, json=missing, headers=auth("customs-analyst")).status_code == 404
