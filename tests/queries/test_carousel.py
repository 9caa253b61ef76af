from __future__ import annotations

from typing import Any

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Typology
from queries.carousel import detect_vat_carousels
from tests.queries.test_misinvoicing import TradeGraph

CONDUIT = "company:customs:name:NL:conduit bv"
MISSING = "company:customs:tax:GB900"
MISSING_TAX = "company:tax:tax:GB900"
BUFFER = "company:registry:reg:GB:901"
BROKER = "company:customs:tax:GB902"
BROKER_TAX = "company:tax:tax:GB902"


def _account(g: TradeGraph, holder: str, iban: str) -> str:
    key = g.add(f"account:{iban}", "fiu", account_number=iban[-8:], iban=iban, country="GB")
    g.link(RelType.HOLDS, holder, key, "fiu", role="holder")
    return key


def _chain(
    g: TradeGraph,
    *,
    missing_return: dict[str, Any] | None,
    broker_reclaims: bool = True,
    broker_exports: bool = True,
) -> None:
    """NL conduit -> missing trader (GB) -> buffer -> broker, paid along the chain."""
    g.company(CONDUIT, "Conduit BV", "NL")
    g.company(MISSING, "Missing Ltd", "GB", tax_id="GB900")
    g.company(
        "company:registry:reg:GB:900", "Missing Ltd", "GB", "registry", tax_id="GB900",
        incorporation_date="2022-12-01", dissolution_date="2023-06-30",
    )  # fmt: skip
    g.company(MISSING_TAX, "Missing Ltd", "GB", "tax", tax_id="GB900")
    g.company(
        BUFFER, "Buffer Ltd", "GB", "registry", tax_id="GB901", incorporation_date="2019-01-01"
    )
    g.company(BROKER, "Broker plc", "GB", tax_id="GB902")
    g.company(BROKER_TAX, "Broker plc", "GB", "tax", tax_id="GB902")
    g.declaration(
        "A1", flow="import", country="GB", date="2023-02-01", sender=CONDUIT, receiver=MISSING,
        value=480_000.0, customs_value=500_000.0, dispatch="NL",
    )  # fmt: skip
    accounts = {
        party: _account(g, party, iban)
        for party, iban in (
            ("company:registry:reg:GB:900", "GB00MISS00000000000900"),
            (BUFFER, "GB00BUFF00000000000901"),
            (BROKER, "GB00BROK00000000000902"),
        )
    }
    # Payments for domestic supplies: the buyer pays the seller.
    g.link(
        RelType.PAID, accounts[BUFFER], accounts["company:registry:reg:GB:900"], "fiu",
        key="T1", date="2023-02-04", amount=600_000.0,
    )  # fmt: skip
    g.link(
        RelType.PAID, accounts[BROKER], accounts[BUFFER], "fiu", key="T2", date="2023-02-06",
        amount=610_000.0,
    )  # fmt: skip
    if broker_exports:
        g.declaration(
            "E1", flow="export", country="GB", date="2023-02-10", sender=BROKER,
            receiver=CONDUIT, value=500_000.0, customs_value=500_000.0, destination="NL",
        )  # fmt: skip
    if missing_return is not None:
        g.tax_return(MISSING_TAX, "M-Q1", "2023-Q1", **missing_return)
    g.tax_return(
        BROKER_TAX, "B-Q1", "2023-Q1", turnover=510_000.0, vat_charged=0.0,
        vat_reclaimed=120_000.0 if broker_reclaims else 0.0,
    )  # fmt: skip


def test_a_missing_trader_chain_flags(store: GraphStore) -> None:
    g = TradeGraph()
    _chain(g, missing_return={"turnover": 0.0, "vat_charged": 0.0})
    g.write(store)

    (alert,) = detect_vat_carousels(store)

    assert alert.typology is Typology.VAT_CAROUSEL
    fired = {i.name for i in alert.indicators}
    assert {"vat_free_acquisitions", "nil_vat_returns", "onward_supplies"} <= fired
    assert {"short_life", "broker_vat_reclaimed", "broker_exports", "closed_loop"} <= fired
    entities = set(alert.entities)
    assert {CONDUIT, MISSING, MISSING_TAX, BUFFER, BROKER, BROKER_TAX} <= entities
    details = alert.details
    assert details["suppliers"] == [CONDUIT]
    (broker,) = details["brokers"]
    assert broker["vat_reclaimed"] == pytest.approx(120_000.0)
    assert len(broker["path"]) == 2  # through the buffer
    assert len(details["buffers"]) == 1
    keys = {r.key for r in alert.records}
    assert "declaration:GB:A1:1" in keys
    assert "taxreturn:M-Q1" in keys
    assert any(k.startswith("PAID:") for k in keys)


def test_a_compliant_chain_does_not_flag(store: GraphStore) -> None:
    g = TradeGraph()
    _chain(
        g, missing_return={"turnover": 600_000.0, "vat_charged": 120_000.0, "vat_paid": 118_000.0}
    )
    g.write(store)
    assert detect_vat_carousels(store) == []


def test_unpaid_vat_is_the_vat_at_stake(store: GraphStore) -> None:
    g = TradeGraph()
    _chain(g, missing_return={"turnover": 600_000.0, "vat_charged": 120_000.0, "vat_paid": 0.0})
    g.write(store)
    (alert,) = detect_vat_carousels(store)
    unpaid = next(i for i in alert.indicators if i.name == "vat_unpaid")
    assert unpaid.value == 0.0
    assert alert.details["vat_unpaid"] == pytest.approx(120_000.0)


def test_no_vat_return_at_all_while_trading_is_a_default(store: GraphStore) -> None:
    g = TradeGraph()
    _chain(g, missing_return=None)
    g.write(store)
    (alert,) = detect_vat_carousels(store)
    assert any(i.name == "missing_vat_returns" for i in alert.indicators)


def test_without_a_broker_downstream_there_is_no_carousel(store: GraphStore) -> None:
    g = TradeGraph()
    _chain(g, missing_return={"turnover": 0.0}, broker_reclaims=False, broker_exports=False)
    g.write(store)
    assert detect_vat_carousels(store) == []


def test_a_namesakes_name_only_holder_record_does_not_make_the_account_joint(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    _chain(g, missing_return={"turnover": 0.0, "vat_charged": 0.0})
    # An established namesake of the buffer; the bank clerk wrote the buffer's account holder
    # by name only, a record both share, and resolution gave it to the namesake.
    namesake = g.company("company:tax:tax:GB777", "Buffer Ltd", "GB", "tax", tax_id="GB777")
    by_name = g.company("company:fiu:name:-:buffer ltd", "Buffer Ltd", "", "fiu")
    g.add("entity:namesake", "tax", name="Buffer Ltd", kind="company")
    for record in (namesake, by_name):
        g.link(RelType.SAME_AS, record, "entity:namesake", score=0.9, method="model")
    g.link(RelType.HOLDS, by_name, "account:GB00BUFF00000000000901", "fiu", role="holder")
    g.write(store)

    (alert,) = detect_vat_carousels(store)
    assert BUFFER in alert.entities
    assert namesake not in alert.entities
