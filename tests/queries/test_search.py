"""Search by name (fuzzy, accent- and legal-form-insensitive) and by identifier."""

from __future__ import annotations

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.access import Scope
from queries.models import SearchMode
from queries.search import core_name, invalidate_name_index, name_index, search
from tests.factories import node, prov, rel

AKME = "company:registry:reg:GB:555"
ACME = "company:customs:tax:GB123456789"
MULLER = "company:registry:reg:DE:HRB12345"
ZENITH = "company:customs:tax:GB777"
PASSPORT = "person:fiu:id:X1234567"
HOLDER = "company:fiu:tax:DE999"
ACCOUNT = "account:GB29NWBK60161331926819"
PHONE = "phone:+442079460958"
EMAIL = "email:info@acme.example"
ENTITY = "entity:acme"
EVERYTHING = Scope.everything()

REG = prov("registry", "companies.csv", "row 2")
FIU = prov("fiu", "str.xml", "/reports/report[1]")


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    store.write_nodes(
        [
            node(AKME, REG, name="Akme Trading", registration_number="555"),
            node(ACME, name="ACME TRADING LIMITED", tax_id="GB 123 456 789"),
            node(MULLER, REG, name="Müller AG", registration_number="HRB 12345"),
            node(ZENITH, name="Zenith Logistics"),
            node(PASSPORT, FIU, name="Ivan Petrov", id_number="X 123 4567"),
            node(HOLDER, FIU, name="Petrov Holdings"),
            node(ACCOUNT, FIU, account_number="GB29NWBK60161331926819"),
            node(PHONE, REG, number="+44 20 7946 0958"),
            node(EMAIL, REG, address="info@acme.example"),
        ]
    )
    store.write_relationships(
        [
            rel(RelType.HOLDS, HOLDER, ACCOUNT, "holder", FIU, role="holder"),
            rel(RelType.HAS_PHONE, AKME, PHONE, provenance=REG),
            rel(RelType.HAS_EMAIL, AKME, EMAIL, provenance=REG),
        ]
    )
    # The Neo4j store object outlives one test (its data is cleared): drop its cached index.
    invalidate_name_index(store)
    return store


def test_core_name_strips_accents_case_punctuation_and_legal_form() -> None:
    assert core_name("ACME TRADING LTD.") == "acme trading"
    assert core_name("Acme Trading Limited") == "acme trading"
    assert core_name("Müller GmbH & Co. KG") == "muller"
    assert core_name("OOO Romashka") == "romashka"
    assert core_name("Limited") == "limited"  # nothing but a legal form keeps it


def test_fuzzy_name_finds_a_misspelling_and_ranks_the_exact_match_first(graph: GraphStore) -> None:
    got = search(graph, "ACME TRADING LTD", scope=EVERYTHING)
    assert [h.key for h in got.hits] == [ACME, AKME]
    exact, fuzzy = got.hits
    assert exact.score == 100.0
    assert 85 <= fuzzy.score < 100  # one letter apart: "akme" / "acme"
    assert fuzzy.name == "Akme Trading"
    assert fuzzy.agencies == ["registry"]
    assert fuzzy.records[0].matched_on == "name"


def test_accent_and_legal_form_do_not_matter(graph: GraphStore) -> None:
    got = search(graph, "MULLER GMBH", scope=EVERYTHING)
    assert [(h.key, h.name, h.score) for h in got.hits] == [(MULLER, "Müller AG", 100.0)]


def test_different_names_do_not_match(graph: GraphStore) -> None:
    # Two letters apart in a twelve-letter core is below the default 85.
    assert search(graph, "APEX TRADING", scope=EVERYTHING).hits == []
    assert search(graph, "Zenith Logistic", scope=EVERYTHING).hits[0].key == ZENITH
    assert search(graph, "Nothing Alike", scope=EVERYTHING).hits == []


@pytest.mark.parametrize(
    ("query", "key", "matched_on"),
    [
        ("gb29-nwbk-6016-1331-9268-19", ACCOUNT, "iban"),
        ("GB29 NWBK 6016 1331 9268 19", ACCOUNT, "iban"),
        ("0044 (0)20 7946 0958", PHONE, "phone"),
        ("+44 20 7946 0958", PHONE, "phone"),
        ("  INFO@Acme.Example ", EMAIL, "email"),
        ("x1234567", PASSPORT, "id_number"),
        ("X-123-4567", PASSPORT, "id_number"),
        ("GB123456789", ACME, "tax_id"),
        ("hrb-12345", MULLER, "registration_number"),  # stored "HRB 12345", no key to guess
    ],
)
def test_identifier_search_ignores_formatting(
    graph: GraphStore, query: str, key: str, matched_on: str
) -> None:
    got = search(graph, query, scope=EVERYTHING)
    top = got.hits[0]
    assert (top.key, top.score) == (key, 100.0)
    assert top.records[0].matched_on == matched_on


def test_a_shared_value_brings_the_parties_linked_to_it(graph: GraphStore) -> None:
    got = search(graph, "GB29NWBK60161331926819", scope=EVERYTHING)
    assert [(h.key, h.score) for h in got.hits] == [(ACCOUNT, 100.0), (HOLDER, 90.0)]
    assert got.hits[1].records[0].matched_on == f"linked to {ACCOUNT}"
    phone = search(graph, "+44 20 7946 0958", scope=EVERYTHING, mode=SearchMode.IDENTIFIER)
    assert [h.key for h in phone.hits] == [PHONE, AKME]


def test_fiu_hits_are_markers_for_a_customs_caller(graph: GraphStore) -> None:
    customs = Scope.of("customs", "registry")
    got = search(graph, "X1234567", scope=customs)
    assert got.hits == []
    assert [(w.compartment, w.kind, w.count) for w in got.withheld] == [("fiu", "search hits", 1)]
    account = search(graph, "GB29NWBK60161331926819", scope=customs)
    assert account.hits == []
    # The account and its holder, both FIU records: two hits withheld, none shown.
    assert [(w.compartment, w.count) for w in account.withheld] == [("fiu", 2)]
    assert search(graph, "X1234567", scope=Scope.of("fiu")).hits[0].key == PASSPORT


def test_hits_are_grouped_to_their_resolved_entity(graph: GraphStore) -> None:
    graph.write_nodes([node(ENTITY, REG, name="Acme Trading", kind="company")])
    graph.write_relationships(
        [
            rel(RelType.SAME_AS, AKME, ENTITY, provenance=REG),
            rel(RelType.SAME_AS, ACME, ENTITY),
        ]
    )
    invalidate_name_index(graph)
    got = search(graph, "acme trading", scope=EVERYTHING)
    assert len(got.hits) == 1
    (hit,) = got.hits
    assert (hit.key, hit.resolved, hit.score) == (ENTITY, True, 100.0)
    assert hit.agencies == ["customs", "registry"]
    assert {r.key for r in hit.records} == {ACME, AKME, ENTITY}


def test_limit_keeps_the_best_and_total_counts_all(graph: GraphStore) -> None:
    got = search(graph, "acme trading", scope=EVERYTHING, limit=1)
    assert [h.key for h in got.hits] == [ACME]
    assert got.total == 2


def test_index_is_rebuilt_when_parties_are_added(graph: GraphStore) -> None:
    first = name_index(graph)
    assert name_index(graph) is first  # cached
    graph.write_nodes([node("company:customs:tax:NEW", name="Brand New Trading")])
    # Within max_age the cache is trusted; with max_age 0 the changed count is noticed.
    assert search(graph, "brand new trading", scope=EVERYTHING).hits == []
    got = search(graph, "brand new trading", scope=EVERYTHING, max_age_s=0)
    assert [h.key for h in got.hits] == ["company:customs:tax:NEW"]
