from __future__ import annotations

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Typology
from queries.discrepancy import CustomsTaxConfig, detect_customs_tax_discrepancies
from tests.queries.test_misinvoicing import TradeGraph


def _imports(g: TradeGraph, importer: str, values: list[float], month: str = "2023-02") -> None:
    seller = g.company("company:customs:name:CN:maker", "Maker", "CN")
    for i, value in enumerate(values):
        g.declaration(
            f"{importer[-4:]}-{month}-{i}", flow="import", country="GB", date=f"{month}-1{i}",
            sender=seller, receiver=importer, value=value / 1.2, customs_value=value,
        )  # fmt: skip


def test_customs_imports_ten_times_the_tax_figure_flag(store: GraphStore) -> None:
    g = TradeGraph()
    importer = g.company("company:customs:tax:GB100", "Big Importer", "GB", tax_id="GB100")
    taxpayer = g.company("company:tax:tax:GB100", "BIG IMPORTER LTD", "GB", "tax", tax_id="GB100")
    _imports(g, importer, [100_000.0, 100_000.0, 100_000.0])
    # Outside the quarter: not counted against the Q1 return.
    _imports(g, importer, [900_000.0], month="2023-05")
    tax_return = g.tax_return(taxpayer, "R1", "2023-Q1", imports_declared=30_000.0, purchases=1e6)
    g.write(store)

    (alert,) = detect_customs_tax_discrepancies(store)

    assert alert.typology is Typology.CUSTOMS_TAX_DISCREPANCY
    assert alert.details["period"] == "2023-Q1"
    assert alert.details["customs_imports"] == pytest.approx(300_000.0)
    assert alert.details["tax_field"] == "imports_declared"  # preferred over purchases
    ratio = next(i for i in alert.indicators if i.name == "customs_to_tax_ratio")
    assert ratio.value == pytest.approx(10.0)
    assert sorted(alert.entities) == sorted([importer, taxpayer])
    assert alert.records[0].key == tax_return
    assert alert.records[0].provenance.agencies == ["tax"]
    assert {r.key for r in alert.records[1:]} == {
        f"declaration:GB:B100-2023-02-{i}:1" for i in range(3)
    }


def test_a_return_close_to_customs_does_not_flag(store: GraphStore) -> None:
    g = TradeGraph()
    importer = g.company("company:customs:tax:GB200", "Honest", "GB", tax_id="GB200")
    taxpayer = g.company("company:tax:tax:GB200", "Honest Ltd", "GB", "tax", tax_id="GB200")
    _imports(g, importer, [100_000.0, 100_000.0, 100_000.0])
    g.tax_return(taxpayer, "R2", "2023-Q1", imports_declared=290_000.0)
    g.write(store)
    assert detect_customs_tax_discrepancies(store) == []


def test_purchases_stand_in_and_small_gaps_are_ignored(store: GraphStore) -> None:
    g = TradeGraph()
    importer = g.company("company:customs:tax:GB300", "Small", "GB", tax_id="GB300")
    taxpayer = g.company("company:tax:tax:GB300", "Small Ltd", "GB", "tax", tax_id="GB300")
    _imports(g, importer, [9_000.0])
    g.tax_return(taxpayer, "R3", "2023-Q1", purchases=900.0)  # 10x, but a 8,100 gap
    g.write(store)
    assert detect_customs_tax_discrepancies(store) == []
    (alert,) = detect_customs_tax_discrepancies(store, config=CustomsTaxConfig(min_gap=1_000))
    assert alert.details["tax_field"] == "purchases"


def test_records_meet_through_resolution_when_tax_ids_do_not(store: GraphStore) -> None:
    g = TradeGraph()
    # Customs recorded the importer by name only: no tax id to join on.
    importer = g.company("company:customs:name:GB:big importer", "Big Importer", "GB")
    taxpayer = g.company("company:tax:tax:GB400", "Big Importer Ltd", "GB", "tax", tax_id="GB400")
    _imports(g, importer, [100_000.0, 100_000.0])
    g.tax_return(taxpayer, "R4", "2023-Q1", imports_declared=10_000.0)
    g.write(store)
    assert detect_customs_tax_discrepancies(store) == []  # two parties as far as we know

    g2 = TradeGraph()
    g2.add("entity:big", "tax", name="Big Importer", kind="company")
    g2.link(RelType.SAME_AS, importer, "entity:big", score=0.95, method="model")
    g2.link(RelType.SAME_AS, taxpayer, "entity:big", "tax", score=0.95, method="model")
    g2.write(store)
    (alert,) = detect_customs_tax_discrepancies(store)
    assert alert.details["party"] == "entity:big"


def test_vat_returns_are_preferred_over_income_returns(store: GraphStore) -> None:
    g = TradeGraph()
    importer = g.company("company:customs:tax:GB500", "Both", "GB", tax_id="GB500")
    taxpayer = g.company("company:tax:tax:GB500", "Both Ltd", "GB", "tax", tax_id="GB500")
    _imports(g, importer, [100_000.0, 100_000.0])
    g.tax_return(taxpayer, "V1", "2023-Q1", imports_declared=200_000.0)
    g.tax_return(taxpayer, "I1", "2023", tax_type="income", purchases=1_000.0)
    g.write(store)
    # The annual income return would show a gap; the VAT return for the quarter does not.
    assert detect_customs_tax_discrepancies(store) == []


def test_nil_returns_are_left_to_the_missing_trader_and_shell_detectors(store: GraphStore) -> None:
    g = TradeGraph()
    importer = g.company("company:customs:tax:GB600", "Front", "GB", tax_id="GB600")
    taxpayer = g.company("company:tax:tax:GB600", "Front Ltd", "GB", "tax", tax_id="GB600")
    _imports(g, importer, [100_000.0, 100_000.0])
    g.tax_return(taxpayer, "N1", "2023-Q1", turnover=0.0, imports_declared=0.0, vat_paid=0.0)
    g.write(store)
    assert detect_customs_tax_discrepancies(store) == []
    keep = CustomsTaxConfig(skip_nil_returns=False)
    (alert,) = detect_customs_tax_discrepancies(store, config=keep)
    assert alert.indicators[0].value == "inf"


def test_only_imports_into_the_tax_country_count(store: GraphStore) -> None:
    g = TradeGraph()
    importer = g.company("company:customs:tax:GB700", "Twofold", "GB", tax_id="GB700")
    taxpayer = g.company("company:tax:tax:GB700", "Twofold Ltd", "GB", "tax", tax_id="GB700")
    _imports(g, importer, [20_000.0])
    # The same party importing into France, as French customs declared it.
    seller = g.company("company:customs:name:CN:maker", "Maker", "CN")
    for i in range(3):
        g.declaration(
            f"FR{i}", flow="import", country="FR", date="2023-02-20", sender=seller,
            receiver=importer, customs_value=100_000.0,
        )  # fmt: skip
    g.tax_return(taxpayer, "T7", "2023-Q1", imports_declared=20_000.0)
    g.write(store)
    # The returns are GB's (their filer's country), so French imports are not compared.
    assert detect_customs_tax_discrepancies(store) == []
    (alert,) = detect_customs_tax_discrepancies(store, config=CustomsTaxConfig(tax_country="FR"))
    assert alert.details["customs_imports"] == pytest.approx(300_000.0)


def test_a_name_two_identified_companies_share_attributes_no_declaration(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    # Two different companies of one name; customs recorded an importer by name only, and
    # resolution joined that record to the first of them.
    named = g.company("company:customs:name:GB:twin trading", "Twin Trading Limited", "GB")
    first = g.company("company:tax:tax:GB810", "TWIN TRADING LTD", "GB", "tax", tax_id="GB810")
    g.company("company:tax:tax:GB820", "Twin Trading Ltd", "GB", "tax", tax_id="GB820")
    g.add("entity:twin", "tax", name="Twin Trading", kind="company")
    g.link(RelType.SAME_AS, named, "entity:twin", score=0.9, method="model")
    g.link(RelType.SAME_AS, first, "entity:twin", "tax", score=0.9, method="model")
    _imports(g, named, [100_000.0, 100_000.0])
    g.tax_return(first, "W1", "2023-Q1", imports_declared=10_000.0)
    g.write(store)

    # Which twin imported cannot be told from the declaration.
    assert detect_customs_tax_discrepancies(store) == []
    trusting = CustomsTaxConfig(attribute_ambiguous_names=True)
    (alert,) = detect_customs_tax_discrepancies(store, config=trusting)
    assert alert.details["party"] == "entity:twin"
