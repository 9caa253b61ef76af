"""Resolution review over HTTP, on a store of its own: Northwind Shipping as customs and the FIU
record it under one VAT number (so they resolve together, with the registry's record), and
two misspelt records, one per agency, that resolution leaves for review.

Pending pairs: customs misspelling with the registry record (a customs caller reads both), and
the FIU misspelling with each of the others (a customs caller reads one side only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.users import UserAgency
from graph_models.store.base import GraphStore
from queries.access import HOLDERS
from resolution import commands
from tests.app.conftest import PURPOSE
from tests.app.test_alerts import user
from tests.factories import node, prov

VAT = "GB200000026"  # a valid check digit
REGISTRY = "company:registry:reg:GB:555"
CUSTOMS = f"company:customs:tax:{VAT}"
FIU = f"company:fiu:tax:{VAT}"
CUSTOMS_TYPO = "company:customs:name:-:nortwind shipping"
FIU_TYPO = "company:fiu:name:GB:nortwind shiping"
PERSON = "person:registry:name:ann lee:1970-01-01"
# What only the FIU holds: no customs caller may read any of it.
SECRETS = (FIU, FIU_TYPO, "Northwind Maritime Holdings", "Nortwind Shiping", "str.xml")

Auth = Callable[[str], dict[str, str]]
R = "/api/v1/resolution"


def build(store: GraphStore) -> None:
    store.write_nodes(
        [
            node(
                REGISTRY,
                prov("registry", "companies.csv", "row 2"),
                name="Northwind Shipping Limited",
                registration_number="555",
                tax_id=VAT,
                jurisdiction="GB",
            ),
            node(
                CUSTOMS,
                prov("customs", "declarations.csv", "row 2"),
                name="NORTHWIND SHIPPING",
                tax_id=VAT,
            ),
            node(
                FIU, prov("fiu", "str.xml", "/r[1]"), name="Northwind Maritime Holdings", tax_id=VAT
            ),
            node(
                CUSTOMS_TYPO,
                prov("customs", "cash.csv", "row 3"),
                name="Nortwind Shipping",
                jurisdiction="GB",
            ),
            node(
                FIU_TYPO,
                prov("fiu", "str.xml", "/r[2]"),
                name="Nortwind Shiping",
                jurisdiction="GB",
            ),
            node(PERSON, prov("registry", "people.csv", "row 4"), name="Ann Lee"),
        ]
    )
    commands.resolve(store)


@pytest.fixture
def seeded(store: GraphStore) -> GraphStore:
    """This module's scenario in place of the shared one (conftest's ``api`` builds on it)."""
    build(store)
    return store


def get(api: TestClient, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    resp = api.get(f"{R}{path}", params={**PURPOSE, **params}, headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def pairs(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i["left"], i["right"]) for i in body["items"]]


def markers(body: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(w["compartment"], w["kind"]): w["count"] for w in body["withheld"]}


def entity_of(store: GraphStore, key: str) -> str:
    return commands.explain(store, key, REGISTRY).left_entity or ""


def test_the_review_queue_shows_only_pairs_both_of_whose_records_the_caller_reads(
    api: TestClient, auth: Auth
) -> None:
    customs = get(api, "/review", auth("customs-analyst"))
    assert pairs(customs) == [(CUSTOMS_TYPO, REGISTRY)]
    assert customs["total"] == 1
    assert markers(customs) == {("fiu", "review pairs"): 2}
    assert customs["withheld"][0]["note"] == HOLDERS["fiu"]
    fiu = get(api, "/review", auth("fiu-analyst"))
    assert pairs(fiu) == [(FIU_TYPO, REGISTRY)]
    assert markers(fiu) == {("customs", "review pairs"): 2}
    cleared = user(api, "fiu-cleared", UserAgency.FIU, [UserAgency.CUSTOMS])
    whole = get(api, "/review", cleared)
    assert set(pairs(whole)) == {
        (CUSTOMS_TYPO, FIU_TYPO),
        (CUSTOMS_TYPO, REGISTRY),
        (FIU_TYPO, REGISTRY),
    }
    scores = [i["score"] for i in whole["items"]]
    assert scores == sorted(scores, reverse=True)
    first = get(api, "/review", cleared, limit=2)
    rest = get(api, "/review", cleared, limit=2, offset=2)
    assert (first["total"], first["next_offset"], rest["next_offset"]) == (3, 2, None)
    assert pairs(first) + pairs(rest) == pairs(whole)
    for secret in SECRETS:
        assert secret not in str(customs)
    assert any(secret in str(whole) for secret in SECRETS)
    assert api.get(f"{R}/review", headers=auth("customs-analyst")).status_code == 428


def test_a_judgement_records_the_caller_and_re_resolves(
    api: TestClient, auth: Auth, store: GraphStore
) -> None:
    analyst = auth("customs-analyst")
    assert entity_of(store, CUSTOMS_TYPO) != entity_of(store, REGISTRY)
    body = {"left": REGISTRY, "right": CUSTOMS_TYPO, "judgement": "positive", "note": "same VAT"}
    resp = api.post(f"{R}/judgements", json=body, headers=analyst)
    assert resp.status_code == 201, resp.text
    got = resp.json()
    # Stored with the smaller key first, whichever order it was given in.
    assert (got["left"], got["right"]) == (CUSTOMS_TYPO, REGISTRY)
    assert (got["verdict"], got["user"], got["note"]) == ("positive", "customs-analyst", "same VAT")
    assert got["decided_at"]
    assert got["left_entity"] == got["right_entity"] == entity_of(store, REGISTRY)
    assert entity_of(store, CUSTOMS_TYPO) == entity_of(store, REGISTRY)
    assert get(api, "/review", analyst)["items"] == []
    explained = get(api, "/explain", analyst, left=CUSTOMS_TYPO, right=REGISTRY)
    assert explained["judgement"].startswith("positive by customs-analyst")
    assert explained["decision"].startswith("link")


def test_only_the_judge_or_a_supervisor_takes_a_verdict_back(
    api: TestClient, auth: Auth, store: GraphStore
) -> None:
    body = {"left": CUSTOMS_TYPO, "right": REGISTRY, "judgement": "negative"}
    assert (
        api.post(f"{R}/judgements", json=body, headers=auth("customs-analyst")).status_code == 201
    )
    pair = {"left": CUSTOMS_TYPO, "right": REGISTRY}
    other = user(api, "customs-other", UserAgency.CUSTOMS)
    refused = api.delete(f"{R}/judgements", params=pair, headers=other)
    assert refused.status_code == 403
    assert "customs-analyst" in refused.json()["detail"]
    undone = api.delete(f"{R}/judgements", params=pair, headers=auth("customs-supervisor"))
    assert undone.status_code == 204
    assert commands.explain(store, CUSTOMS_TYPO, REGISTRY).judgement is None
    again = api.delete(f"{R}/judgements", params=pair, headers=auth("customs-supervisor"))
    assert again.status_code == 404


def test_judging_needs_both_records_a_judge_role_and_a_valid_pair(
    api: TestClient, auth: Auth, store: GraphStore
) -> None:
    analyst = auth("customs-analyst")

    def judge(headers: dict[str, str], **body: Any) -> tuple[int, str]:
        payload = {"left": CUSTOMS_TYPO, "right": REGISTRY, "judgement": "negative", **body}
        resp = api.post(f"{R}/judgements", json=payload, headers=headers)
        return resp.status_code, resp.text

    status, text = judge(analyst, right=FIU_TYPO)
    assert status == 403
    assert HOLDERS["fiu"] in text
    assert commands.explain(store, CUSTOMS_TYPO, FIU_TYPO).judgement is None
    assert judge(auth("fiu-liaison"))[0] == 403
    assert judge(auth("admin"))[0] == 403
    assert judge(analyst, judgement="pending")[0] == 422
    assert judge(analyst, reviewer="me")[0] == 422
    assert judge(analyst, right=CUSTOMS_TYPO)[0] == 422
    assert judge(analyst, right=PERSON)[0] == 422  # a company is never a person
    assert judge(analyst, right="company:customs:tax:GB0")[0] == 404
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    refusals = [r for r in audit.query(entity=FIU_TYPO)[0] if r.outcome == "refused"]
    assert [(r.username, r.action) for r in refusals] == [("customs-analyst", "change")]


def test_members_are_filtered_to_the_scope(api: TestClient, auth: Auth, store: GraphStore) -> None:
    entity = entity_of(store, REGISTRY)
    customs = get(api, f"/entities/{entity}/members", auth("customs-analyst"))
    assert [(m["agency"], m["key"]) for m in customs["items"]] == [
        ("customs", CUSTOMS),
        ("registry", REGISTRY),
    ]
    assert markers(customs) == {("fiu", "source records"): 1}
    assert customs["name"] in ("NORTHWIND SHIPPING", "Northwind Shipping Limited")
    cleared = user(api, "fiu-cleared", UserAgency.FIU, [UserAgency.CUSTOMS])
    whole = get(api, f"/entities/{entity}/members", cleared)
    assert [m["key"] for m in whole["items"]] == [CUSTOMS, FIU, REGISTRY]
    assert whole["withheld"] == []
    page = get(api, f"/entities/{entity}/members", cleared, limit=1, offset=1)
    assert ([m["key"] for m in page["items"]], page["total"]) == ([FIU], 3)
    # An entity whose every record is the FIU's: nothing but the marker.
    hidden = get(api, f"/entities/{entity_of(store, FIU_TYPO)}/members", auth("customs-analyst"))
    assert (hidden["items"], hidden["name"], markers(hidden)) == (
        [],
        None,
        {("fiu", "source records"): 1},
    )
    for body in (customs, hidden):
        for secret in SECRETS:
            assert secret not in str(body)
    missing = api.get(f"{R}/entities/entity:nope/members", params=PURPOSE, headers=cleared)
    assert missing.status_code == 404


def test_explain_needs_both_records_and_is_audited(
    api: TestClient, auth: Auth, store: GraphStore
) -> None:
    analyst = auth("customs-analyst")
    got = get(api, "/explain", analyst, left=CUSTOMS_TYPO, right=REGISTRY)
    assert (got["left"], got["right"]) == (CUSTOMS_TYPO, REGISTRY)
    assert got["rows"]
    assert got["model_decision"] == "review"
    refused = api.get(
        f"{R}/explain", params={**PURPOSE, "left": CUSTOMS, "right": FIU}, headers=analyst
    )
    assert (refused.status_code, refused.json()["detail"]) == (403, HOLDERS["fiu"])
    assert "Northwind Maritime" not in refused.text
    missing = api.get(
        f"{R}/explain", params={**PURPOSE, "left": CUSTOMS, "right": "company:x:y"}, headers=analyst
    )
    assert missing.status_code == 404
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    reads = audit.query(entity=CUSTOMS_TYPO)[0]
    assert [(r.action, r.endpoint, r.purpose) for r in reads] == [
        ("read", "GET /api/v1/resolution/explain", "test investigation")
    ]
