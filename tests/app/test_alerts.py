"""The alert list and detail: filters, paging, compartments (hit / no-hit), purpose, audit.

The seeded store holds a customs-only alert on Acme's customs record and an alert resting on
customs *and* FIU records on the Acme entity; :func:`more` adds three alerts with dates, one of
them resting on tax records too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.users import Role, UserAgency, UserCreate
from graph_models.records import StoredProvenance
from graph_models.store.base import GraphStore
from queries.access import HOLDERS
from queries.alerts import Alert, EvidenceRecord, Indicator, Typology, alert_id, save_alerts
from tests.app.conftest import PURPOSE, login, password
from tests.queries.test_profile import CUSTOMS, ENTITY, FIU_SECRETS, TAX

Auth = Callable[[str], dict[str, str]]
ALERTS = "/api/v1/alerts"
CASH = alert_id(Typology.CASH_SMUGGLING, [CUSTOMS])  # customs records only
FIU_ALERT = alert_id(Typology.STRUCTURING, [ENTITY])  # customs and FIU records
FIU_SUMMARY = "structuring over customs and fiu records"
DECLARATION = "declaration:GB:D2:1"


def evidence(*agencies: str, **prov: Any) -> list[EvidenceRecord]:
    return [
        EvidenceRecord(
            key=f"{a}-record",
            label="Transaction",
            provenance=StoredProvenance(agencies=[a], **prov),
        )
        for a in agencies
    ]


def alert(
    typology: Typology,
    entities: list[str],
    score: float,
    day: str | None,
    records: list[EvidenceRecord],
) -> Alert:
    return Alert(
        id=alert_id(typology, entities),
        typology=typology,
        detector="test",
        score=score,
        summary=f"{typology.value} on {', '.join(entities)}",
        entities=entities,
        indicators=[Indicator(name="ratio", value=score, threshold=1.0, explanation="above")],
        records=records,
        detected_on=day,
    )


UNDER = alert(
    Typology.UNDER_INVOICING,
    [CUSTOMS],
    3.0,
    "2024-02-01",
    # A record customs and tax both hold: a customs caller must not learn of the tax source.
    evidence(
        "customs",
        compartments=["customs", "tax"],
        sources=["customs|declarations.csv|l1", "tax|vat-returns.csv|l2"],
        record_ids=["declarations.csv|row 2", "vat-returns.csv|row 9"],
    ),
)
MIRROR = alert(Typology.MIRROR_DISCREPANCY, [DECLARATION], 3.0, "2024-03-01", evidence("customs"))
GAP = alert(
    Typology.CUSTOMS_TAX_DISCREPANCY, [CUSTOMS, TAX], 1.0, "2023-07-15", evidence("customs", "tax")
)


@pytest.fixture
def more(seeded: GraphStore) -> GraphStore:
    save_alerts(seeded, [UNDER, MIRROR, GAP])
    return seeded


def user(
    api: TestClient,
    name: str,
    agency: UserAgency,
    clearances: Iterable[UserAgency] = (),
    roles: Iterable[Role] = (Role.ANALYST,),
) -> dict[str, str]:
    """Another user (the shared fixture has none cleared beyond their agency); their header."""
    api.app.state.services.users.add(  # type: ignore[attr-defined]
        UserCreate(
            username=name,
            password=password(name),
            agency=agency,
            roles=list(roles),
            clearances=list(clearances),
        )
    )
    return login(api, name)


def listing(api: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    resp = api.get(ALERTS, params={**PURPOSE, **params}, headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [a["id"] for a in body["items"]]


def markers(body: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(w["compartment"], w["kind"]): w["count"] for w in body["withheld"]}


def test_list_is_ordered_by_score_then_id_and_pages(
    api: TestClient, auth: Auth, more: GraphStore
) -> None:
    analyst = auth("customs-analyst")
    body = listing(api, analyst)
    assert set(ids(body)) == {UNDER.id, MIRROR.id, CASH}
    keys = [(-a["score"], a["id"]) for a in body["items"]]
    assert keys == sorted(keys)
    assert body["items"][0]["score"] == body["items"][1]["score"] == 3.0  # a tie, broken by id
    assert {a["status"] for a in body["items"]} == {"new"}
    assert all(a["assignee"] is None for a in body["items"])
    first = listing(api, analyst, limit=2)
    assert (first["total"], first["next_offset"]) == (3, 2)
    rest = listing(api, analyst, limit=2, offset=2)
    assert (rest["total"], rest["next_offset"]) == (3, None)
    assert ids(first) + ids(rest) == ids(body)


def test_list_filters(api: TestClient, auth: Auth, more: GraphStore) -> None:
    analyst = auth("customs-analyst")
    assert ids(listing(api, analyst, typology="under_invoicing")) == [UNDER.id]
    both = listing(api, analyst, typology=["under_invoicing", "cash_smuggling"])
    assert set(ids(both)) == {UNDER.id, CASH}
    assert set(ids(listing(api, analyst, min_score=2.5))) == {UNDER.id, MIRROR.id}
    # The customs-only cash alert has no date: a period filter leaves it out.
    assert ids(listing(api, analyst, detected_from="2024-02-15")) == [MIRROR.id]
    assert ids(listing(api, analyst, detected_to="2024-02-15")) == [UNDER.id]
    window = listing(api, analyst, detected_from="2024-01-01", detected_to="2024-12-31")
    assert set(ids(window)) == {UNDER.id, MIRROR.id}
    assert ids(listing(api, analyst, entity=DECLARATION)) == [MIRROR.id]
    # A record is lifted to its entity: the alerts on any record of Acme.
    on_acme = listing(api, analyst, entity=CUSTOMS)
    assert set(ids(on_acme)) == {UNDER.id, CASH}
    assert markers(on_acme) == {("fiu", "alerts"): 1, ("tax", "alerts"): 1}
    assert markers(listing(api, analyst, entity=DECLARATION)) == {}
    for bad in ({"typology": "nonsense"}, {"detected_from": "2024-13-45"}, {"min_score": -1}):
        resp = api.get(ALERTS, params={**PURPOSE, **bad}, headers=analyst)
        assert resp.status_code == 422
        assert resp.headers["content-type"] == "application/problem+json"


def test_a_customs_analyst_gets_markers_never_the_fiu_alert(
    api: TestClient, auth: Auth, more: GraphStore
) -> None:
    analyst = auth("customs-analyst")
    bodies = [
        listing(api, analyst),
        listing(api, analyst, entity=ENTITY),
        listing(api, analyst, typology="structuring"),
    ]
    for body in bodies:
        assert markers(body) == {("fiu", "alerts"): 1, ("tax", "alerts"): 1}
        assert (
            next(w["note"] for w in body["withheld"] if w["compartment"] == "fiu")
            == (HOLDERS["fiu"])
        )
    # Markers ignore the content filters: a score filter would otherwise measure hidden alerts.
    assert markers(listing(api, analyst, min_score=100)) == markers(bodies[0])
    url = f"{ALERTS}/{FIU_ALERT}"
    detail = api.get(url, params=PURPOSE, headers=analyst)
    assert detail.status_code == 403
    assert detail.headers["content-type"] == "application/problem+json"
    assert detail.json()["detail"] == HOLDERS["fiu"]
    change = api.patch(url, json={"status": "in_review"}, headers=analyst)
    note = api.post(f"{url}/notes", json={"text": "anything"}, headers=analyst)
    assert (change.status_code, note.status_code) == (403, 403)
    # A problem's ``instance`` is the path the caller asked for, echoed back: not a leak.
    problems = [
        {k: v for k, v in r.json().items() if k != "instance"} for r in (detail, change, note)
    ]
    texts = [str(b) for b in (*bodies, *problems)]
    for text in texts:
        for secret in (*FIU_SECRETS, FIU_ALERT, FIU_SUMMARY):
            assert secret not in text
    # The FIU's own analyst lacks customs: the alert rests on customs records as well.
    plain_fiu = api.get(url, params=PURPOSE, headers=auth("fiu-analyst"))
    assert (plain_fiu.status_code, plain_fiu.json()["detail"]) == (403, HOLDERS["customs"])


def test_an_fiu_analyst_cleared_for_customs_sees_the_fiu_alert(
    api: TestClient, more: GraphStore
) -> None:
    cleared = user(api, "fiu-cleared", UserAgency.FIU, [UserAgency.CUSTOMS])
    body = listing(api, cleared)
    assert FIU_ALERT in ids(body)
    assert markers(body) == {("tax", "alerts"): 1}
    detail = api.get(f"{ALERTS}/{FIU_ALERT}", params=PURPOSE, headers=cleared)
    assert detail.status_code == 200
    got = detail.json()
    assert (got["summary"], got["entities"], got["agencies"]) == (
        FIU_SUMMARY,
        [ENTITY],
        ["customs", "fiu"],
    )


def test_detail_has_indicators_redacted_evidence_and_triage(
    api: TestClient, auth: Auth, more: GraphStore
) -> None:
    url = f"{ALERTS}/{UNDER.id}"
    got = api.get(url, params=PURPOSE, headers=auth("customs-analyst")).json()
    assert got["indicators"] == [i.model_dump() for i in UNDER.indicators]
    assert got["triage"] == {
        "alert_id": UNDER.id,
        "status": "new",
        "assignee": None,
        "updated_at": None,
        "updated_by": None,
        "history": [],
    }
    [record] = got["records"]
    assert record["provenance"]["sources"] == ["customs|declarations.csv|l1"]
    assert record["provenance"]["record_ids"] == ["declarations.csv|row 2"]
    assert "vat-returns.csv" not in str(got)
    # A caller cleared for tax as well reads the whole provenance (so the check can fail).
    both = user(api, "customs-tax", UserAgency.CUSTOMS, [UserAgency.TAX])
    full = api.get(url, params=PURPOSE, headers=both).json()
    assert "tax|vat-returns.csv|l2" in full["records"][0]["provenance"]["sources"]


def test_unknown_alerts_are_404_and_reads_need_a_purpose(
    api: TestClient, auth: Auth, more: GraphStore
) -> None:
    analyst = auth("customs-analyst")
    for key in ("alert:cash_smuggling:0000", CUSTOMS):
        resp = api.get(f"{ALERTS}/{key}", params=PURPOSE, headers=analyst)
        assert resp.status_code == 404
        assert resp.headers["content-type"] == "application/problem+json"
    assert api.get(ALERTS, headers=analyst).status_code == 428
    assert api.get(f"{ALERTS}/{CASH}", headers=analyst).status_code == 428
    assert api.get(ALERTS, params=PURPOSE).status_code == 401


def test_reads_are_audited_with_purpose_and_entities(
    api: TestClient, auth: Auth, more: GraphStore
) -> None:
    analyst = auth("customs-analyst")
    listing(api, analyst, typology="cash_smuggling")
    api.get(f"{ALERTS}/{CASH}", params=PURPOSE, headers=analyst)
    api.get(f"{ALERTS}/{FIU_ALERT}", params=PURPOSE, headers=analyst)
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(entity=CASH)
    assert [(r.action, r.endpoint, r.username, r.purpose) for r in records] == [
        ("read", "GET /api/v1/alerts", "customs-analyst", "test investigation"),
        ("read", "GET /api/v1/alerts/{alert_id}", "customs-analyst", "test investigation"),
    ]
    assert all(CUSTOMS in r.entities for r in records)  # the alert's entities too
    [withheld] = audit.query(entity=FIU_ALERT)[0]
    assert (withheld.username, withheld.outcome) == ("customs-analyst", "withheld")
    assert audit.verify().ok
