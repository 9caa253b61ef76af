"""Profiles on a hand-built entity seen by customs, the FIU, the register and tax."""

from __future__ import annotations

import pytest

from graph_models.errors import NotFoundError
from graph_models.records import NodeWrite
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.access import Scope
from queries.alerts import Alert, EvidenceRecord, Indicator, Typology, alert_id, save_alerts
from queries.models import FlowFigure
from queries.neighbourhood import neighbourhood
from queries.paths import paths
from queries.profile import profile
from queries.search import invalidate_name_index, search
from queries.shared import shared_attributes
from queries.timeline import timeline
from tests.factories import node, prov, rel

CUSTOMS = "company:customs:tax:GB1"
REGISTRY = "company:registry:reg:GB:1"
TAX = "company:tax:tax:GB1"
FIU = "company:fiu:tax:GB1"
ENTITY = "entity:acme"
DIRECTOR = "person:registry:name:jane smith:-"
ACCOUNT = "account:GB00SHADOW0001"
ADDRESS = "address:gb:1 high street london"
TXN = "transaction:bank1:r1:t1"
REPORT = "report:bank1:r1"
# Distinctive FIU-only facts: none of them may reach a caller without the FIU compartment.
FIU_SECRETS = ("Shadow Holdings", FIU, ACCOUNT, TXN, REPORT, "9876.5", "str.xml", "SHADOW")

C = prov("customs", "declarations.csv", "row 2", seen="2023-05-01")
R = prov("registry", "companies.csv", "row 7", seen="2015-01-10")
T = prov("tax", "returns.csv", "row 3", seen="2023-07-15")
F = prov("fiu", "str.xml", "/reports/report[1]/transaction[1]", seen="2024-01-05")


def _decl(key: str, day: str, flow: str, value: float, record: str) -> NodeWrite:
    return node(
        key,
        prov("customs", "declarations.csv", record, seen=day),
        number=key.rsplit(":", 2)[1],
        date=day,
        flow=flow,
        hs_code="850440",
        invoice_value=value,
        currency="EUR",
    )


def build(store: GraphStore) -> None:
    """One company, Acme, as four agencies record it, resolved to one entity."""
    store.write_nodes(
        [
            node(CUSTOMS, C, name="ACME TRADING LTD", tax_id="GB1"),
            node(REGISTRY, R, name="Acme Trading Limited", incorporation_date="2015-01-10"),
            node(TAX, T, name="ACME TRADING", tax_id="GB1"),
            node(FIU, F, name="Shadow Holdings", tax_id="GB1"),
            node(DIRECTOR, R, name="Jane Smith"),
            node(ADDRESS, C, full="1 High Street, London"),
            # The entity's own name came from the FIU record: a customs caller may not see it.
            node(ENTITY, F, name="Shadow Holdings", kind="company"),
            node(ENTITY, C, name="Shadow Holdings", kind="company"),
            _decl("declaration:GB:D1:1", "2023-05-01", "export", 1000.0, "row 2"),
            _decl("declaration:GB:D2:1", "2024-02-01", "import", 500.0, "row 3"),
            _decl("declaration:GB:D3:1", "2024-03-01", "import", 700.0, "row 4"),
            node("taxreturn:T1", T, return_id="T1", tax_type="vat", period="2023-Q2", turnover=5e3),
            node(ACCOUNT, F, account_number="GB00SHADOW0001", iban="GB00SHADOW0001"),
            node(TXN, F, transaction_number="t1", date="2024-01-05", amount=9876.5, currency="EUR"),
            node(REPORT, F, report_id="r1", report_code="STR", submission_date="2024-01-10"),
            node(
                "cashdecl:C1",
                prov("customs", "cash.csv", "row 2", seen="2024-04-01"),
                declaration_id="C1",
                date="2024-04-01",
                direction="outbound",
                amount=15000.0,
                currency="EUR",
                undeclared=True,
            ),
        ]
    )
    store.write_relationships(
        [
            *(rel(RelType.SAME_AS, k, ENTITY, provenance=p) for k, p in _MEMBERS),
            rel(RelType.DECLARED, CUSTOMS, "declaration:GB:D1:1", "exporter", C, role="exporter"),
            rel(
                RelType.CONSIGNED_TO, CUSTOMS, "declaration:GB:D2:1", "importer", C, role="importer"
            ),
            # Declarant only: lodging a declaration moves no goods of one's own.
            rel(RelType.DECLARED, CUSTOMS, "declaration:GB:D3:1", "declarant", C, role="declarant"),
            rel(RelType.REGISTERED_AT, CUSTOMS, ADDRESS, provenance=C),
            rel(RelType.DIRECTOR_OF, DIRECTOR, REGISTRY, "director", R, appointed="2015-01-10"),
            rel(RelType.FILED, TAX, "taxreturn:T1", provenance=T),
            rel(RelType.HOLDS, FIU, ACCOUNT, "holder", F, role="holder"),
            rel(RelType.SENT, ACCOUNT, TXN, provenance=F),
            rel(RelType.REPORTED_IN, FIU, REPORT, "subject", F, role="subject"),
            rel(RelType.OWNS_FUNDS, CUSTOMS, "cashdecl:C1", provenance=C),
        ]
    )
    save_alerts(
        store, [_alert(["customs"], 2.0, [CUSTOMS]), _alert(["customs", "fiu"], 5.0, [ENTITY])]
    )
    invalidate_name_index(store)


_QUERY = {"query": True}
_MEMBERS = ((CUSTOMS, C), (REGISTRY, R), (TAX, T), (FIU, F))


def _alert(agencies: list[str], score: float, entities: list[str]) -> Alert:
    typology = Typology.CASH_SMUGGLING if len(agencies) == 1 else Typology.STRUCTURING
    return Alert(
        id=alert_id(typology, entities),
        typology=typology,
        detector="test",
        score=score,
        summary=f"{typology.value} over {' and '.join(agencies)} records",
        entities=entities,
        indicators=[Indicator(name="amount", value=score, threshold=1.0)],
        records=[
            EvidenceRecord(key=f"{a}-record", label="Transaction", provenance={"agencies": [a]})
            for a in agencies
        ],
    )


def test_profile_groups_records_by_agency_and_sums_key_figures(store: GraphStore) -> None:
    build(store)
    got = profile(store, ENTITY, scope=Scope.everything())
    assert (got.key, got.resolved) == (ENTITY, True)
    assert got.name == "Shadow Holdings"  # the full scope may read the entity's own name
    assert {a: [n.key for n in ns] for a, ns in got.records_by_agency.items()} == {
        "customs": [CUSTOMS],
        "fiu": [FIU],
        "registry": [REGISTRY],
        "tax": [TAX],
    }
    assert [a.key for a in got.accounts] == [ACCOUNT]
    # Exporter of D1 (out, 2023), importer of D2 (in, 2024); D3 only lodged: not trade.
    assert got.figures.trade == [
        FlowFigure(year="2023", direction="out", currency="EUR", total=1000.0, count=1),
        FlowFigure(year="2024", direction="in", currency="EUR", total=500.0, count=1),
    ]
    # The transaction left an account the FIU record holds.
    assert got.figures.payments == [
        FlowFigure(year="2024", direction="out", currency="EUR", total=9876.5, count=1)
    ]
    assert got.figures.cash == [
        FlowFigure(year="2024", direction="outbound", currency="EUR", total=15000.0, count=1)
    ]
    assert got.figures.undeclared_cash == 1
    assert [(t.period, t.turnover) for t in got.figures.tax] == [("2023-Q2", 5000.0)]
    assert got.figures.reports == {"STR": 1}
    assert [a.score for a in got.alerts] == [5.0, 2.0]
    assert got.withheld == []


def test_record_is_lifted_to_its_entity_unless_asked_not_to(store: GraphStore) -> None:
    build(store)
    lifted = profile(store, CUSTOMS, scope=Scope.everything())
    assert (lifted.key, lifted.requested) == (ENTITY, CUSTOMS)
    assert set(lifted.records_by_agency) == {"customs", "fiu", "registry", "tax"}
    alone = profile(store, CUSTOMS, scope=Scope.everything(), resolve=False)
    assert (alone.key, alone.resolved) == (CUSTOMS, False)
    assert list(alone.records_by_agency) == ["customs"]
    assert alone.figures.payments == []  # the FIU's account belongs to another record
    assert [a.score for a in alone.alerts] == [2.0]  # only the alert flagging this record


def test_customs_caller_gets_hit_no_hit_markers_instead_of_fiu_facts(store: GraphStore) -> None:
    build(store)
    got = profile(store, ENTITY, scope=Scope.of("customs", "registry"))
    assert set(got.records_by_agency) == {"customs", "registry"}
    assert got.name == "ACME TRADING LTD"  # a visible member's name, not the entity's own
    assert got.accounts == []
    assert got.figures.payments == []
    assert got.figures.reports == {}
    assert [a.score for a in got.alerts] == [2.0]
    markers = {(w.compartment, w.kind): w.count for w in got.withheld}
    # The FIU record and the alert resting on FIU evidence; the tax record likewise.
    assert markers == {
        ("fiu", "source records"): 1,
        ("fiu", "alerts"): 1,
        ("tax", "source records"): 1,
    }
    assert all("ask" in w.note for w in got.withheld)


def test_a_record_the_scope_cannot_see_gives_only_a_marker(store: GraphStore) -> None:
    build(store)
    got = profile(store, FIU, scope=Scope.of("customs"), resolve=False)
    assert got.records_by_agency == {}
    assert got.name is None
    assert [(w.compartment, w.count) for w in got.withheld] == [("fiu", 1)]
    # An entity none of whose records the scope may read does not exist for the caller.
    hidden = profile(store, ENTITY, scope=Scope.of("external"))
    assert (hidden.name, hidden.records_by_agency, hidden.alerts) == (None, {}, [])
    assert {(w.compartment, w.count) for w in hidden.withheld} == {
        ("customs", 1),
        ("fiu", 1),
        ("registry", 1),
        ("tax", 1),
    }
    with pytest.raises(NotFoundError):
        profile(store, "company:customs:tax:NOPE", scope=Scope.everything())


def test_no_query_leaks_fiu_facts_to_a_customs_caller(store: GraphStore) -> None:
    """Every investigator query, asked about Acme by customs, answers without any FIU-only
    fact; the same queries with the FIU compartment do show them (so the check can fail)."""
    build(store)

    def answers(scope: Scope) -> list[str]:
        return [
            profile(store, ENTITY, scope=scope).model_dump_json(),
            timeline(store, ENTITY, scope=scope).model_dump_json(),
            neighbourhood(store, ENTITY, scope=scope, hops=3).model_dump_json(),
            paths(store, CUSTOMS, REGISTRY, scope=scope).model_dump_json(),
            shared_attributes(store, ENTITY, scope=scope).model_dump_json(),
            # The query itself is the caller's own words, echoed back: not a leak.
            search(store, "Shadow Holdings", scope=scope).model_dump_json(exclude=_QUERY),
            search(store, "GB00 SHADOW 0001", scope=scope).model_dump_json(exclude=_QUERY),
            search(store, "ACME TRADING", scope=scope).model_dump_json(exclude=_QUERY),
        ]

    customs = answers(Scope.of("customs", "registry", "tax"))
    for answer in customs:
        for secret in FIU_SECRETS:
            assert secret not in answer
    assert any('"compartment":"fiu"' in answer for answer in customs)
    everything = "".join(answers(Scope.everything()))
    for secret in FIU_SECRETS:
        assert secret in everything
