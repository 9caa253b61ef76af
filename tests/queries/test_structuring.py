"""Structuring of cash deposits, and cash smuggling across the border."""

from __future__ import annotations

import pytest

from graph_models.records import NodeWrite, RelWrite
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Typology
from queries.structuring import (
    CashConfig,
    StructuringConfig,
    detect_cash_smuggling,
    detect_structuring,
)
from tests.factories import node, prov, rel
from tests.queries.test_projection import account, company, day, holds, person, same_as, write

ACC = "account:GB00SAVINGS"
OWNER = "person:fiu:id:OWNER"
SMURF_1, SMURF_2 = "person:fiu:id:SMURF1", "person:fiu:id:SMURF2"


# --- structuring -----------------------------------------------------------------------------
def cash(
    conductor: str,
    acct: str,
    offset: int,
    amount: float,
    n: int,
    *,
    direction: str | None = "in",
    transmode: str | None = None,
    currency: str = "GBP",
) -> tuple[NodeWrite, RelWrite]:
    """A cash transaction as the CTR loader (cash_direction) or goAML (transmode) writes it:
    the Transaction node and the conductor's PAID into the account."""
    txn = f"transaction:r{n}:cash"
    props = {"cash_direction": direction} if direction else {"transmode": transmode}
    source, target = (conductor, acct) if direction != "out" else (acct, conductor)
    return (
        node(
            txn,
            prov("fiu", "ctr.csv", f"row {n}", seen=day(offset)),
            transaction_number=f"r{n}",
            date=day(offset),
            amount=amount,
            currency=currency,
            **props,
        ),
        rel(
            RelType.PAID,
            source,
            target,
            key=txn,
            provenance=prov("fiu", "ctr.csv", f"row {n}", seen=day(offset)),
            date=day(offset),
            amount=amount,
            currency=currency,
            transaction=txn,
        ),
    )


def _deposits(store: GraphStore, rows: list[tuple[NodeWrite, RelWrite]]) -> None:
    parties = [person(OWNER), person(SMURF_1), person(SMURF_2), account(ACC)]
    write(
        store,
        [*parties, *(t for t, _ in rows)],
        [holds(OWNER, ACC, "signatory"), *(p for _, p in rows)],
    )


def test_deposits_just_under_the_threshold_by_a_group_are_structuring(store: GraphStore) -> None:
    _deposits(
        store,
        [
            cash(OWNER, ACC, 0, 9_500.0, 1),
            cash(SMURF_1, ACC, 3, 9_800.0, 2),
            cash(SMURF_2, ACC, 6, 9_200.0, 3),
            cash(OWNER, ACC, 7, 12_000.0, 5),  # a reported deposit: not "just under"
            cash(OWNER, ACC, 12, 9_900.0, 4),
        ],
    )
    (alert,) = detect_structuring(store)
    assert alert.typology is Typology.STRUCTURING
    assert alert.details["subject"] == ACC
    indicators = {i.name: i for i in alert.indicators}
    assert indicators["deposits_just_under"].value == 4
    assert indicators["deposits_just_under"].threshold == 3
    assert indicators["total"].value == 38_400.0
    assert indicators["conductors"].value == 3  # a coordinated group
    assert indicators["share_just_under"].value == pytest.approx(4 / 5)
    assert indicators["window_days"].value == 12
    assert {ACC, OWNER, SMURF_1, SMURF_2} <= set(alert.entities)
    assert sorted(r.key for r in alert.records) == [f"transaction:r{n}:cash" for n in (1, 2, 3, 4)]
    assert {r.provenance.record_ids[0] for r in alert.records} == {
        f"ctr.csv|row {n}" for n in (1, 2, 3, 4)
    }
    assert "just under the 10,000 threshold" in alert.summary
    assert "by 3 conductors" in alert.summary


def test_ordinary_deposits_are_not_structuring(store: GraphStore) -> None:
    _deposits(
        store,
        [
            cash(OWNER, ACC, 0, 2_400.0, 1),
            cash(OWNER, ACC, 4, 9_700.0, 2),
            cash(OWNER, ACC, 9, 15_000.0, 3),
            cash(OWNER, ACC, 15, 8_800.0, 4),  # more than 10 % below
            cash(OWNER, ACC, 20, 9_600.0, 5),
            cash(OWNER, ACC, 60, 9_500.0, 6),  # outside the 30-day window of the others
        ],
    )
    assert detect_structuring(store) == []


def test_withdrawals_and_transfers_are_not_cash_deposits(store: GraphStore) -> None:
    _deposits(
        store,
        [
            cash(OWNER, ACC, 0, 9_500.0, 1, direction="out"),
            cash(OWNER, ACC, 2, 9_500.0, 2, direction="out"),
            cash(SMURF_1, ACC, 4, 9_500.0, 3, direction=None, transmode="EFT"),
            cash(SMURF_1, ACC, 6, 9_500.0, 4, direction=None, transmode="EFT"),
        ],
    )
    assert detect_structuring(store) == []
    # Counting every incoming transfer instead: only two come in (the withdrawals move the
    # owner's own money out of the owner's own account).
    assert detect_structuring(store, config=StructuringConfig(deposits="any")) == []


def test_goaml_cash_transmode_deposits_count(store: GraphStore) -> None:
    _deposits(
        store,
        [
            cash(SMURF_1, ACC, d, 9_400.0 + d, n, direction=None, transmode="cash")
            for n, d in enumerate((0, 5, 10), start=1)
        ],
    )
    (alert,) = detect_structuring(store)
    assert {i.name: i.value for i in alert.indicators}["conductors"] == 1
    # The goAML transmode code list is each FIU's own: configurable, compared case-blind.
    other_codes = StructuringConfig(cash_transmodes=frozenset({"K"}))
    assert detect_structuring(store, config=other_codes) == []
    lower = StructuringConfig(cash_transmodes=frozenset({"k", "cash"}))
    assert len(detect_structuring(store, config=lower)) == 1


def test_one_conductor_spreading_deposits_over_accounts(store: GraphStore) -> None:
    accounts = [f"account:GB00ACC{i}" for i in range(3)]
    rows = [cash(SMURF_1, a, 2 * i, 9_300.0, i) for i, a in enumerate(accounts)]
    write(
        store,
        [person(SMURF_1), *(account(a) for a in accounts), *(t for t, _ in rows)],
        [p for _, p in rows],
    )
    (alert,) = detect_structuring(store)
    assert alert.details["subject"] == SMURF_1
    assert alert.details["subject_kind"] == "conductor"
    assert {i.name: i.value for i in alert.indicators}["accounts"] == 3
    assert set(accounts) <= set(alert.entities)


def test_a_threshold_in_another_currency_converts_the_deposits(store: GraphStore) -> None:
    # GBP 8,300 is about EUR 9,551: just under EUR 10,000, far below GBP 10,000.
    _deposits(store, [cash(OWNER, ACC, d, 8_300.0, n) for n, d in enumerate((0, 3, 6), start=1)])
    assert detect_structuring(store) == []
    eur = StructuringConfig(threshold_currency="EUR")
    (alert,) = detect_structuring(store, config=eur)
    assert {i.name: i.value for i in alert.indicators}["total"] == pytest.approx(
        3 * 8_300 / 0.86905, rel=1e-4
    )


# --- cash smuggling --------------------------------------------------------------------------
TRAVELLER = "person:customs:id:P123"
STR_REPORT = "report:bank:STR-1"


def declaration(
    n: int,
    offset: int,
    amount: float,
    *,
    currency: str = "EUR",
    undeclared: bool = False,
    traveller: str = TRAVELLER,
    owner: str | None = None,
) -> tuple[list[NodeWrite], list[RelWrite]]:
    key = f"cashdecl:D{n}"
    p = prov("customs", "cash_declarations.csv", f"row {n}", seen=day(offset))
    nodes = [
        node(
            key,
            p,
            declaration_id=f"D{n}",
            date=day(offset),
            direction="outbound",
            port="LHR",
            amount=amount,
            currency=currency,
            instrument="cash",
            undeclared=undeclared,
        ),
    ]
    rels = [rel(RelType.CARRIED, traveller, key, provenance=p)]
    if owner:
        rels.append(rel(RelType.OWNS_FUNDS, owner, key, provenance=p))
    return nodes, rels


def _travel(
    store: GraphStore,
    *rows: tuple[list[NodeWrite], list[RelWrite]],
    extra: list[NodeWrite] | None = None,
) -> None:
    nodes = [node(TRAVELLER, prov("customs"), name="Ivan Petrov", id_number="P123")]
    write(
        store,
        [*nodes, *(extra or []), *(n for ns, _ in rows for n in ns)],
        [r for _, rs in rows for r in rs],
    )


def _str_naming(store: GraphStore, party: NodeWrite, role: str = "to", code: str = "STR") -> None:
    report = node(
        STR_REPORT,
        prov("fiu", "str.xml", "/reports/report[1]"),
        report_id="STR-1",
        report_code=code,
        submission_date=day(1),
    )
    mention = rel(
        RelType.REPORTED_IN, party.key, STR_REPORT, key=role, provenance=prov("fiu"), role=role
    )
    write(store, [party, report], [mention])


def test_repeated_declarations_just_under_the_threshold(store: GraphStore) -> None:
    _travel(
        store,
        declaration(1, 0, 9_500.0),
        declaration(2, 40, 9_800.0),
        declaration(3, 95, 9_050.0),
        declaration(4, 300, 9_900.0),  # outside the 180-day window of the others
    )
    (alert,) = detect_cash_smuggling(store)
    assert alert.typology is Typology.CASH_SMUGGLING
    indicators = {i.name: i for i in alert.indicators}
    assert indicators["declarations_just_under"].value == 3
    assert indicators["declarations_just_under"].threshold == 3
    assert sorted(r.key for r in alert.records) == ["cashdecl:D1", "cashdecl:D2", "cashdecl:D3"]
    assert all(r.provenance.agencies == ["customs"] for r in alert.records)
    assert TRAVELLER in alert.entities
    assert "Ivan Petrov" in alert.summary
    assert "3 declarations just under 10,000 EUR within 95 days" in alert.summary


def test_two_declarations_or_amounts_above_the_threshold_are_not_smuggling(
    store: GraphStore,
) -> None:
    _travel(
        store,
        declaration(1, 0, 9_500.0),
        declaration(2, 40, 9_800.0),
        declaration(3, 50, 25_000.0),
        declaration(4, 60, 10_000.0),
        declaration(5, 70, 7_000.0, currency="GBP"),  # about EUR 8,055: not just under
    )
    assert detect_cash_smuggling(store) == []


def test_the_threshold_currency_is_configurable(store: GraphStore) -> None:
    # GBP 9,500 is about EUR 10,931: above the EU threshold, just under the UK's GBP 10,000.
    _travel(store, *(declaration(n, 20 * n, 9_500.0, currency="GBP") for n in range(1, 4)))
    assert detect_cash_smuggling(store) == []
    (alert,) = detect_cash_smuggling(store, config=CashConfig(declaration_currency="GBP"))
    assert {i.name: i.value for i in alert.indicators}["declarations_just_under"] == 3


def test_an_undeclared_detection_alone_is_not_an_alert_but_a_repeat_is(store: GraphStore) -> None:
    _travel(store, declaration(1, 0, 45_000.0, undeclared=True))
    assert detect_cash_smuggling(store) == []
    write(store, *declaration(2, 90, 30_000.0, undeclared=True))
    (alert,) = detect_cash_smuggling(store)
    assert {i.name: i.value for i in alert.indicators}["undeclared_detections"] == 2


def test_a_traveller_named_in_an_str_by_passport_number(store: GraphStore) -> None:
    _travel(store, declaration(1, 10, 20_000.0))
    fiu_person = node("person:fiu:id:P123", prov("fiu"), name="PETROV Ivan", id_number="P 123")
    _str_naming(store, fiu_person)
    (alert,) = detect_cash_smuggling(store)
    (link,) = alert.details["links"]
    assert link["kind"] == "str_party"
    assert link["linked"] == "person:fiu:id:P123"
    assert link["report"] == STR_REPORT
    assert link["via"] == "id:P123"
    assert {r.key for r in alert.records} == {"cashdecl:D1", STR_REPORT}
    assert "named in a suspicion report" in alert.summary
    assert sorted(alert.agencies) == ["customs", "fiu"]


def test_a_traveller_linked_through_entity_resolution(store: GraphStore) -> None:
    traveller_b = "person:customs:name:ivan petrov:-"
    fiu_person = node("person:fiu:name:i petrov:-", prov("fiu"), name="I Petrov")
    ent = "entity:person:1"
    _str_naming(store, fiu_person)
    write(
        store,
        [
            node(traveller_b, prov("customs"), name="Ivan Petrov"),
            node(ent, prov("external"), name="Ivan Petrov", kind="person"),
        ],
        [same_as(traveller_b, ent), same_as(fiu_person.key, ent)],
    )
    write(store, *declaration(1, 10, 20_000.0, traveller=traveller_b))
    (alert,) = detect_cash_smuggling(store)
    assert alert.details["traveller"] == ent
    assert alert.details["links"][0]["via"] == f"entity:{ent}"
    # The entity alone links them: no identifier is needed.
    assert detect_cash_smuggling(store, config=CashConfig(link_identifiers=False)) != []


def test_a_currency_report_is_not_a_suspicion_report(store: GraphStore) -> None:
    _travel(store, declaration(1, 10, 20_000.0))
    _str_naming(store, node("person:fiu:id:P123", prov("fiu"), name="Ivan Petrov"), code="CTR")
    assert detect_cash_smuggling(store) == []


def test_an_owner_in_an_str_corroborates_an_undeclared_detection(store: GraphStore) -> None:
    owner = company("company:customs:tax:GB777", "GB", name="Cash & Carry Ltd")
    fiu_owner = company("company:fiu:tax:GB777", "GB", name="CASH AND CARRY LIMITED")
    _str_naming(store, fiu_owner, role="subject")
    # Declared takings of a company named in an STR: context, not an alert.
    _travel(store, declaration(1, 10, 20_000.0, owner=owner.key), extra=[owner])
    assert detect_cash_smuggling(store) == []
    write(store, *declaration(2, 30, 40_000.0, undeclared=True))
    (alert,) = detect_cash_smuggling(store)
    kinds = {link["kind"] for link in alert.details["links"]}
    assert kinds == {"str_owner"}
    assert "undeclared detection" in alert.summary


def test_a_trader_link_is_context_an_officer_link_to_an_str_corroborates(
    store: GraphStore,
) -> None:
    trader = company("company:customs:tax:GB555", "GB", name="Import Export Ltd")
    buyer = company("company:customs:tax:FR1", "FR", name="Acheteur SARL")
    decl = "declaration:GB:1:1"
    shipment = rel(
        RelType.SHIPPED_TO, trader.key, buyer.key, key=decl, date=day(0), declaration=decl
    )
    write(store, [trader, buyer], [shipment])
    # Undeclared cash owned by a trading company: trade explains cash as often as not.
    _travel(store, declaration(1, 10, 40_000.0, undeclared=True, owner=trader.key))
    assert detect_cash_smuggling(store) == []
    # The traveller directs a company (by the register) that a bank reported.
    officer = node("person:registry:id:P123", prov("registry"), name="Ivan Petrov")
    firm = company("company:registry:reg:GB:555", "GB", name="Petrov Holdings Ltd")
    directs = rel(RelType.DIRECTOR_OF, officer.key, firm.key, provenance=prov("registry"))
    write(store, [officer, firm], [directs])
    _str_naming(store, company("company:fiu:reg:GB:555", "GB", name="PETROV HOLDINGS"), "subject")
    (alert,) = detect_cash_smuggling(store)
    kinds = {link["kind"] for link in alert.details["links"]}
    assert kinds == {"str_officer", "trader_owner"}
    assert "officer of a party named in a suspicion report" in alert.summary
    assert "carries funds of a customs trader" in alert.summary


def _report_transaction(store: GraphStore, n: int, transmode: str) -> None:
    """A transaction of the STR of ``_str_naming``, paid with ``transmode``."""
    txn = node(
        f"transaction:str:{n}", prov("fiu"), date=day(1), amount=20_000.0, transmode=transmode
    )
    write(store, [txn], [rel(RelType.PART_OF, txn.key, STR_REPORT, provenance=prov("fiu"))])


def test_a_report_of_wires_on_the_owner_does_not_corroborate_undeclared_cash(
    store: GraphStore,
) -> None:
    owner = company("company:customs:tax:GB777", "GB", name="Cash & Carry Ltd")
    _str_naming(store, company("company:fiu:tax:GB777", "GB", name="CASH CARRY"), "holder")
    _report_transaction(store, 1, "SWIFT")
    _travel(store, declaration(1, 10, 40_000.0, undeclared=True, owner=owner.key), extra=[owner])
    # The bank reported the owner's wire transfers: nothing about the cash its staff carry.
    assert detect_cash_smuggling(store) == []
    # The same report listing a cash withdrawal too does corroborate it.
    _report_transaction(store, 2, "CASH")
    (alert,) = detect_cash_smuggling(store)
    assert {link["kind"] for link in alert.details["links"]} == {"str_owner"}
    # The code list is the FIU's own (compared upper-cased): under another code neither
    # transaction is cash; under the wire's code the report is a cash report.
    assert detect_cash_smuggling(store, config=CashConfig(cash_transmodes=frozenset({"K"}))) == []
    only_swift = CashConfig(cash_transmodes=frozenset({" swift "}))
    assert len(detect_cash_smuggling(store, config=only_swift)) == 1
