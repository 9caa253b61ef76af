"""The flow projection: goods and money as one time-stamped multigraph, lifted and cited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from graph_models.records import NodeWrite, RelWrite
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.projection import (
    ECB_UNITS_PER_EUR,
    FlowKind,
    FxTable,
    ProjectionConfig,
    project_flows,
)
from tests.factories import node, prov, rel

START = date(2023, 1, 2)


# --- helpers shared by the flow detector tests (imported by test_cycles, test_funnel, ...) ---
def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


def company(key: str, country: str | None = None, **props: object) -> NodeWrite:
    agency = key.split(":")[1] if key.count(":") >= 2 else "customs"
    name = props.pop("name", key.rsplit(":", 1)[-1].title())
    return node(
        key,
        prov(agency if agency in ("customs", "fiu", "tax", "registry") else "customs"),
        name=name,
        jurisdiction=country,
        **props,
    )


def person(key: str, **props: object) -> NodeWrite:
    name = props.pop("name", key.rsplit(":", 1)[-1].title())
    return node(key, prov("fiu"), name=name, **props)


def account(key: str, **props: object) -> NodeWrite:
    return node(key, prov("fiu"), account_number=key.split(":", 1)[1], **props)


def ship(
    sender: str,
    receiver: str,
    offset: int,
    value: float,
    currency: str = "EUR",
    n: int = 1,
    hs_code: str = "851712",
) -> RelWrite:
    """A goods flow: a SHIPPED_TO keyed by its declaration, as loaders/customs.py writes it."""
    decl = f"declaration:GB:{sender.rsplit(':', 1)[-1]}-{receiver.rsplit(':', 1)[-1]}:{n}"
    return rel(
        RelType.SHIPPED_TO,
        sender,
        receiver,
        key=decl,
        provenance=prov("customs", "declarations.csv", f"row {n}", seen=day(offset)),
        date=day(offset),
        value=value,
        currency=currency,
        hs_code=hs_code,
        declaration=decl,
    )


def pay(
    payer: str, payee: str, offset: int, amount: float, currency: str = "EUR", n: int = 1
) -> RelWrite:
    """A money flow: a PAID keyed by its transaction, as loaders/goaml.py writes it."""
    txn = f"transaction:bank:r{n}:{payer.rsplit(':', 1)[-1]}-{payee.rsplit(':', 1)[-1]}"
    return rel(
        RelType.PAID,
        payer,
        payee,
        key=txn,
        provenance=prov("fiu", "str.xml", f"/reports/report[{n}]/transaction[1]", seen=day(offset)),
        date=day(offset),
        amount=amount,
        currency=currency,
        transaction=txn,
    )


def holds(holder: str, acct: str, role: str = "holder") -> RelWrite:
    return rel(RelType.HOLDS, holder, acct, key=role, provenance=prov("fiu"), role=role)


def same_as(party: str, entity: str) -> RelWrite:
    return rel(RelType.SAME_AS, party, entity, key="fp", provenance=prov("external"), score=0.99)


def entity(key: str, name: str = "Entity") -> NodeWrite:
    return node(key, prov("external"), name=name, kind="company")


def write(store: GraphStore, nodes: list[NodeWrite], rels: list[RelWrite]) -> None:
    store.write_nodes(nodes)
    store.write_relationships(rels)


A, B, C = "company:customs:tax:A", "company:customs:tax:B", "company:customs:tax:C"
A_FIU = "company:fiu:tax:A"
ACC_A, ACC_B, ACC_J = "account:GB00A", "account:NL00B", "account:JOINT"


# --- the projection --------------------------------------------------------------------------
def test_goods_and_money_flows_in_day_order_with_their_records(store: GraphStore) -> None:
    write(
        store,
        [company(A, "GB"), company(B, "NL"), account(ACC_A), account(ACC_B)],
        [ship(A, B, 5, 1000.0), pay(ACC_B, ACC_A, 2, 1000.0), ship(B, A, 9, 900.0, n=2)],
    )
    flows = project_flows(store, config=ProjectionConfig(lift_accounts=False))
    assert [f.kind for f in flows.flows] == [FlowKind.MONEY, FlowKind.GOODS, FlowKind.GOODS]
    assert [f.day for f in flows.flows] == sorted(f.day for f in flows.flows)
    money, out, back = flows.flows
    assert (money.source, money.target) == (ACC_B, ACC_A)
    assert money.record.startswith("transaction:")
    assert (out.source, out.target, out.record) == (A, B, "declaration:GB:A-B:1")
    assert back.date == day(9)
    assert back.amount == 900.0


def test_only_the_kinds_asked_for(store: GraphStore) -> None:
    write(
        store,
        [company(A), company(B), account(ACC_A), account(ACC_B)],
        [ship(A, B, 1, 10.0), pay(ACC_A, ACC_B, 2, 10.0)],
    )
    goods = project_flows(store, kinds=[FlowKind.GOODS])
    assert [f.kind for f in goods.flows] == [FlowKind.GOODS]


def test_values_are_compared_in_euro_or_within_their_own_currency(store: GraphStore) -> None:
    write(
        store,
        [company(A), company(B)],
        [
            ship(A, B, 1, 1105.0, "USD", n=1),
            ship(A, B, 2, 500.0, "EUR", n=2),
            ship(A, B, 3, 700.0, "RUB", n=3),  # no ECB reference rate since March 2022
        ],
    )
    usd, eur, rub = project_flows(store).flows
    assert usd.group == eur.group == "EUR"
    assert usd.value == pytest.approx(1000.0)  # 1 EUR = 1.105 USD on 29 December 2023
    assert eur.value == 500.0
    assert (rub.group, rub.value) == ("RUB", 700.0)


def test_fx_table_converts_through_the_reference_and_refuses_unknowns() -> None:
    fx = FxTable()
    assert fx.convert(869.05, "GBP", "EUR") == pytest.approx(1000.0)
    assert fx.convert(1000.0, "EUR", "GBP") == pytest.approx(869.05)
    assert fx.convert(1105.0, "USD", "GBP") == pytest.approx(869.05)
    assert fx.convert(10.0, "XXX", "EUR") is None
    assert fx.convert(10.0, "XXX", "XXX") == 10.0
    # The dirham follows the dollar through its peg.
    assert fx.convert(3672.5, "AED", "USD") == pytest.approx(1000.0)
    assert fx.normalise(None, "USD") == ("EUR", None)
    assert fx.normalise(5.0, None) == ("", 5.0)
    assert set(ECB_UNITS_PER_EUR) >= {"USD", "GBP", "CHF", "CNY", "TRY"}


def test_parties_meet_at_their_resolved_entity(store: GraphStore) -> None:
    ent = "entity:company:1"
    write(
        store,
        [company(A), company(A_FIU), company(B), entity(ent)],
        [ship(A, B, 1, 10.0), ship(B, A_FIU, 2, 10.0, n=2), same_as(A, ent), same_as(A_FIU, ent)],
    )
    resolved = project_flows(store)
    assert [(f.source, f.target) for f in resolved.flows] == [(ent, B), (B, ent)]
    assert set(resolved.members(ent)) == {ent, A, A_FIU}
    unresolved = project_flows(store, config=ProjectionConfig(resolve_entities=False))
    assert [(f.source, f.target) for f in unresolved.flows] == [(A, B), (B, A_FIU)]


def test_accounts_lift_to_a_unique_holder_and_stay_accounts_otherwise(store: GraphStore) -> None:
    p1, p2 = "person:fiu:id:P1", "person:fiu:id:P2"
    write(
        store,
        [company(A_FIU), person(p1), person(p2), account(ACC_A), account(ACC_B), account(ACC_J)],
        [
            holds(A_FIU, ACC_A),
            holds(p1, ACC_B, "signatory"),  # goAML records a personal account by signatory
            holds(p1, ACC_J),
            holds(p2, ACC_J),
            pay(ACC_A, ACC_B, 1, 50.0),
            pay(ACC_B, ACC_J, 2, 50.0, n=2),
        ],
    )
    flows = project_flows(store)
    first, second = flows.flows
    assert (first.source, first.target) == (A_FIU, p1)
    assert (first.sender, first.receiver) == (ACC_A, ACC_B)  # as recorded
    assert (second.source, second.target) == (p1, ACC_J)  # a joint account stays an account
    assert set(flows.members(ACC_J)) == {ACC_J, p1, p2}
    kept = project_flows(store, config=ProjectionConfig(lift_accounts=False))
    assert (kept.flows[0].source, kept.flows[0].target) == (ACC_A, ACC_B)


def test_a_flow_between_two_accounts_of_one_holder_loops_on_the_holder(
    store: GraphStore,
) -> None:
    ent = "entity:company:1"
    write(
        store,
        [company(A_FIU), company(A), entity(ent), account(ACC_A), account(ACC_B)],
        [
            holds(A_FIU, ACC_A),
            holds(A_FIU, ACC_B),
            pay(ACC_A, ACC_B, 1, 10.0),
            ship(A, A_FIU, 2, 10.0),  # two records of one company: nothing moved
            same_as(A, ent),
            same_as(A_FIU, ent),
        ],
    )
    (flow,) = project_flows(store).flows
    assert (flow.source, flow.target) == (ent, ent)
    assert (flow.sender, flow.receiver) == (ACC_A, ACC_B)


def test_evidence_cites_the_record_with_the_relationships_provenance(store: GraphStore) -> None:
    mapped = rel(
        RelType.PAID,
        ACC_B,
        ACC_A,
        key="transfer:T9",
        provenance=prov("fiu", "transfers.csv", "row 3", seen=day(2)),
        date=day(2),
        amount=5.0,
        transaction="T9",  # a mapped transfer id, not a Transaction node key
    )
    write(
        store,
        [company(A), company(B), account(ACC_A), account(ACC_B)],
        [ship(A, B, 1, 10.0), mapped],
    )
    flows = project_flows(store)
    goods, money = flows.flows
    ev_goods, ev_money = flows.evidence([goods, money])
    assert (ev_goods.key, ev_goods.label) == (goods.record, "Declaration")
    assert ev_goods.provenance.record_ids == ["declarations.csv|row 1"]
    assert ev_goods.provenance.agencies == ["customs"]
    assert (ev_goods.date, ev_goods.amount) == (day(1), 10.0)
    assert ev_money.label == "PAID"
    assert ev_money.key == f"PAID:{ACC_B}>{ACC_A}#transfer:T9"
    assert ev_money.provenance.record_ids == ["transfers.csv|row 3"]


def test_names_and_countries_for_summaries(store: GraphStore) -> None:
    write(
        store,
        [company(A_FIU, "GB", name="Acme Ltd"), account(ACC_A, iban="NL91ABNA0417164300")],
        [holds(A_FIU, ACC_A)],
    )
    flows = project_flows(store)
    assert flows.name(ACC_A) == "Acme Ltd (account GB00A)"
    assert flows.country(A_FIU) == "GB"
    assert flows.country(ACC_A) == "NL"  # from the IBAN
    assert flows.name("company:fiu:tax:UNKNOWN") == "company:fiu:tax:UNKNOWN"
