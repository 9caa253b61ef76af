"""Mis-invoicing: the shared trade records and party index, unit-value outliers, mirror gaps.

``TradeGraph`` (here, imported by the other trade-detector tests) builds small graphs shaped
like the loaders write them: customs declarations with DECLARED / CONSIGNED_TO / SHIPPED_TO,
tax returns FILED by a tax record, register companies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from graph_models.records import NodeWrite, RelWrite
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Typology
from queries.mirror import (
    MirrorConfig,
    detect_mirror_discrepancies,
    detect_statistics_discrepancies,
    match_pairs,
    one_sided_statistics,
)
from queries.misinvoicing import PartyIndex, read_shipments
from queries.projection import FxTable
from queries.robust import BandMethod
from queries.unit_values import UnitValueConfig, detect_unit_value_outliers
from tests.factories import node, prov, rel

_FILES = {"customs": "declarations.csv", "tax": "returns.csv", "fiu": "report.xml"}


@dataclass
class TradeGraph:
    """Collects node and relationship writes, then writes them in one go."""

    nodes: dict[str, NodeWrite] = field(default_factory=dict)
    rels: list[RelWrite] = field(default_factory=list)

    def write(self, store: GraphStore) -> None:
        store.write_nodes(list(self.nodes.values()))
        store.write_relationships(self.rels)

    def add(self, key: str, agency: str = "customs", **props: Any) -> str:
        seen = props.get("date") or props.get("incorporation_date")
        record = f"row {len(self.nodes) + 2}"
        provenance = prov(agency, _FILES.get(agency, "companies.csv"), record, seen=seen)
        self.nodes[key] = node(key, provenance, **props)
        return key

    def link(
        self,
        rel_type: RelType,
        start: str,
        end: str,
        agency: str = "customs",
        *,
        key: str = "",
        seen: str | None = None,
        **props: Any,
    ) -> None:
        seen = seen or props.get("date")
        provenance = prov(agency, _FILES.get(agency, "companies.csv"), seen=seen)
        self.rels.append(rel(rel_type, start, end, key, provenance, **props))

    def company(
        self, key: str, name: str, country: str, agency: str = "customs", **props: Any
    ) -> str:
        return self.add(
            key, agency, name=name, name_norm=name.lower(), jurisdiction=country, **props
        )

    def declaration(
        self,
        number: str,
        *,
        flow: str,
        country: str,
        date: str,
        sender: str,
        receiver: str,
        hs: str = "85171300",
        quantity: float | None = 100.0,
        unit: str | None = "NAR",
        net_mass: float | None = None,
        value: float | None = 10_000.0,
        currency: str = "USD",
        customs_value: float | None = None,
        dispatch: str | None = None,
        destination: str | None = None,
    ) -> str:
        key = self.add(
            f"declaration:{country}:{number}:1",
            number=number,
            item=1,
            date=date,
            flow=flow,
            reporting_country=country,
            hs_code=hs,
            quantity=quantity,
            unit=unit,
            net_mass=net_mass,
            invoice_value=value,
            currency=currency,
            customs_value=customs_value,
            dispatch_country=dispatch,
            destination_country=destination,
        )
        self.link(RelType.DECLARED, sender, key, key="exporter", role="exporter", seen=date)
        self.link(RelType.CONSIGNED_TO, receiver, key, key="importer", role="importer", seen=date)
        self.link(
            RelType.SHIPPED_TO,
            sender,
            receiver,
            key=key,
            date=date,
            value=value if value is not None else customs_value,
            hs_code=hs,
            declaration=key,
        )
        return key

    def tax_return(self, company: str, return_id: str, period: str, **figures: Any) -> str:
        tax_type = figures.pop("tax_type", "vat")
        key = self.add(
            f"taxreturn:{return_id}",
            "tax",
            return_id=return_id,
            tax_type=tax_type,
            period=period,
            **figures,
        )
        self.link(RelType.FILED, company, key, "tax")
        return key


# --- the party index -------------------------------------------------------------------------


def test_records_of_one_company_meet_by_tax_id_or_resolution(store: GraphStore) -> None:
    g = TradeGraph()
    customs = g.company("company:customs:tax:GB100", "Acme", "GB", tax_id="GB 100-200")
    tax = g.company("company:tax:tax:GB100200", "ACME LTD", "GB", "tax", tax_id="GB100200")
    register = g.company(
        "company:registry:reg:GB:555", "Acme Ltd", "GB", "registry", tax_id="gb100200"
    )
    lonely = g.company("company:customs:name:GB:other co", "Other Co", "GB")
    junk_a = g.company("company:customs:name:GB:a", "A", "GB", tax_id="0")
    junk_b = g.company("company:customs:name:GB:b", "B", "GB", tax_id="0")
    fiu = g.company("company:fiu:name:GB:acme trading", "Acme Trading", "GB", "fiu")
    g.add("entity:e1", "fiu", name="Acme", kind="company")
    g.link(RelType.SAME_AS, fiu, "entity:e1", "fiu", score=0.9, method="model")
    g.link(RelType.SAME_AS, register, "entity:e1", "registry", score=0.9, method="model")
    g.write(store)

    index = PartyIndex.build(store)

    # The register record is resolved, and tax id joins customs and tax to it.
    assert index.identity(customs) == index.identity(tax) == index.identity(fiu) == "entity:e1"
    assert index.records("entity:e1") == sorted([customs, tax, register, fiu])
    assert index.name("entity:e1") == "Acme Ltd"  # the register's spelling
    # No identifier, no resolution, no namesake: a party of its own.
    assert index.identity(lonely) == lonely
    # A placeholder id joins nothing.
    assert index.identity(junk_a) != index.identity(junk_b)


def test_resolution_keeps_apart_what_it_resolved_apart(store: GraphStore) -> None:
    g = TradeGraph()
    first = g.company("company:customs:tax:GB300", "First", "GB", tax_id="GB300")
    second = g.company("company:tax:tax:GB300", "Second", "GB", "tax", tax_id="GB300")
    for record, entity in ((first, "entity:one"), (second, "entity:two")):
        g.add(entity, "customs", name=entity, kind="company")
        g.link(RelType.SAME_AS, record, entity, score=0.9, method="judgement")
    g.write(store)
    index = PartyIndex.build(store)
    assert (index.identity(first), index.identity(second)) == ("entity:one", "entity:two")


def test_records_without_identifiers_attach_to_the_single_namesake(store: GraphStore) -> None:
    g = TradeGraph()
    known = g.company(
        "company:registry:reg:GB:1234567", "Zeta Ltd", "GB", "registry", tax_id="GB77",
        registration_number="1234567",
    )  # fmt: skip
    by_name = g.company("company:fiu:name:GB:zeta ltd", "Zeta Ltd", "GB", "fiu")
    by_reg = g.add(
        "company:fiu:reg:-:1234567", "fiu", name="Z. Limited", registration_number="12-345-67"
    )  # no country, but the registration number is unique
    abroad = g.company("company:customs:name:FR:zeta ltd", "Zeta Ltd", "FR")
    # Two identified companies called "Twin": a record naming one of them cannot say which.
    g.company("company:customs:tax:GB81", "Twin", "GB", tax_id="GB81")
    g.company("company:customs:tax:GB82", "Twin", "GB", tax_id="GB82")
    twin = g.company("company:fiu:name:GB:twin", "Twin", "GB", "fiu")
    g.write(store)

    index = PartyIndex.build(store)

    assert index.identity(by_name) == index.identity(known)
    assert index.identity(by_reg) == index.identity(known)
    assert index.identity(abroad) == abroad  # same name, another country
    assert index.identity(twin) == twin


def test_shipments_carry_their_parties_by_role(store: GraphStore) -> None:
    g = TradeGraph()
    seller = g.company("company:customs:name:CN:maker", "Maker", "CN")
    buyer = g.company("company:customs:tax:GB1", "Buyer", "GB", tax_id="GB1")
    decl = g.declaration(
        "D1", flow="import", country="GB", date="2023-01-05", sender=seller, receiver=buyer
    )
    g.write(store)
    (shipment,) = read_shipments(store)
    assert shipment.key == decl
    assert (shipment.sender, shipment.receiver) == (seller, buyer)
    assert shipment.is_import
    assert shipment.hs6 == "851713"


# --- unit values -----------------------------------------------------------------------------

NORMAL_PRICES = (95.0, 96.0, 97.0, 98.0, 99.0, 100.0, 100.0, 101.0, 102.0, 103.0, 104.0, 105.0)


def _priced_group(
    g: TradeGraph,
    prices: tuple[float, ...],
    *,
    flow: str = "import",
    hs: str = "85171300",
    currency: str = "USD",
    by_mass: bool = False,
) -> None:
    """Declarations of 100 units (or 100 kg, with no quantity, ``by_mass``) at the given unit
    prices, each by a different home trader."""
    for i, unit_price in enumerate(prices):
        home = g.company(f"company:customs:tax:GB{hs}{i}", f"Trader {i}", "GB", tax_id=f"GB{hs}{i}")
        other = g.company(f"company:customs:name:CN:seller {i}", f"Seller {i}", "CN")
        sender, receiver = (other, home) if flow == "import" else (home, other)
        g.declaration(
            f"N{flow[0]}{hs}-{i}",
            flow=flow,
            country="GB",
            date=f"2023-0{1 + i % 9}-10",
            sender=sender,
            receiver=receiver,
            hs=hs,
            quantity=None if by_mass else 100.0,
            unit=None if by_mass else "NAR",
            net_mass=100.0 if by_mass else None,
            value=unit_price * 100,
            currency=currency,
        )


def _odd(
    g: TradeGraph, n: str, unit_price: float, *, flow: str = "import", **kw: object
) -> tuple[str, str, str]:
    """One more declaration by a trader of its own, at ``unit_price``."""
    home = g.company(f"company:customs:tax:GBX{n}", f"Odd Trader {n}", "GB", tax_id=f"GBX{n}")
    other = g.company(f"company:customs:name:AE:related {n}", f"Related {n} FZE", "AE")
    sender, receiver = (other, home) if flow == "import" else (home, other)
    quantity = kw.pop("quantity", 100.0)
    key = g.declaration(
        f"X{n}", flow=flow, country="GB", date="2023-05-02", sender=sender, receiver=receiver,
        quantity=quantity, value=unit_price * 100, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return key, home, other


def test_an_import_priced_five_times_the_median_is_over_invoicing(store: GraphStore) -> None:
    g = TradeGraph()
    _priced_group(g, NORMAL_PRICES)
    odd, importer, seller = _odd(g, "1", 500.0)
    g.write(store)

    (alert,) = detect_unit_value_outliers(store)

    assert alert.typology is Typology.OVER_INVOICING
    assert [r.key for r in alert.records] == [odd]
    assert seller in alert.entities
    assert importer in alert.entities
    assert alert.details["flow_of_funds"] == "outflow"  # over-invoiced imports move money out
    # Prices are compared in the FX table's reference currency (EUR).
    in_euro = FxTable().convert(500.0, "USD", "EUR")
    assert in_euro is not None
    unit_value = next(i for i in alert.indicators if i.name == "unit_value")
    assert unit_value.value == pytest.approx(in_euro)
    assert isinstance(unit_value.threshold, float)
    assert unit_value.threshold < in_euro
    # The fence is twice the others' upper quartile (the misstatement test), which lies
    # beyond the adjusted boxplot's fence of so tight a group; the value moved is measured
    # from the band's fence.
    reference = alert.details["reference"]
    assert reference["prices"] == len(NORMAL_PRICES)
    assert unit_value.threshold == pytest.approx(2 * reference["q3"], rel=1e-5)
    assert 0 < reference["band"]["upper"] < unit_value.threshold
    (shipment,) = alert.details["shipments"]
    assert shipment["value_moved"] == pytest.approx((in_euro - reference["band"]["upper"]) * 100)
    assert shipment["reference_period"] == "2023"
    assert alert.records[0].provenance.agencies == ["customs"]


def test_an_export_priced_far_below_the_group_is_under_invoicing(store: GraphStore) -> None:
    g = TradeGraph()
    _priced_group(g, NORMAL_PRICES, flow="export")
    _, _, buyer = _odd(g, "2", 15.0, flow="export")
    g.write(store)

    (alert,) = detect_unit_value_outliers(store)

    assert alert.typology is Typology.UNDER_INVOICING
    assert alert.details["flow_of_funds"] == "outflow"  # under-invoiced exports move money out
    assert buyer in alert.entities


def test_a_trader_is_measured_against_the_other_traders(store: GraphStore) -> None:
    g = TradeGraph()
    _priced_group(g, NORMAL_PRICES)
    # One importer declares six shipments at a fifth of the price. With its own prices in the
    # sample they would be part of its yardstick; against the other pairs' prices it shows.
    home = g.company("company:customs:tax:GBLOW", "Low Ltd", "GB", tax_id="GBLOW")
    seller = g.company("company:customs:name:CN:cheap", "Cheap Co", "CN")
    for i in range(6):
        g.declaration(
            f"L{i}", flow="import", country="GB", date=f"2023-0{i + 1}-20", sender=seller,
            receiver=home, value=20.0 * 100,
        )  # fmt: skip
    g.write(store)

    (alert,) = detect_unit_value_outliers(store)

    assert alert.typology is Typology.UNDER_INVOICING
    assert len(alert.details["shipments"]) == 6
    assert alert.details["reference"]["prices"] == len(NORMAL_PRICES)  # the others' only


def test_prices_inside_the_band_or_close_to_the_median_and_small_groups_do_not_alert(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    _priced_group(g, NORMAL_PRICES)
    # Outside the adjusted fences of such a tight group, but within twice its upper quartile.
    _odd(g, "4", 150.0)
    # Another HS code with two other traders, one at 5x: two counterparties are not a market.
    _priced_group(g, (100.0, 101.0), hs="84713000")
    _odd(g, "5", 500.0, hs="84713000")
    g.write(store)
    assert detect_unit_value_outliers(store) == []
    # Without the misstatement test the 150 is an outlier of the tight band.
    (alert,) = detect_unit_value_outliers(store, config=UnitValueConfig(misstatement_ratio=1.0))
    assert alert.records[0].key == "declaration:GB:X4:1"


def test_currencies_convert_and_net_mass_stands_in_for_quantity(store: GraphStore) -> None:
    g = TradeGraph()
    _priced_group(g, NORMAL_PRICES)
    # 5x the USD prices, invoiced in EUR: converted through the ECB table, it joins the group.
    euro, _, _ = _odd(g, "6", 500.0 / 1.105, currency="EUR")
    # A currency outside the table stays a group of its own, too small to judge.
    _odd(g, "7", 5_000.0, currency="XOF")
    # Without quantity the net mass is the unit: 12 declarations priced per kg, one at 6x.
    _priced_group(g, NORMAL_PRICES, hs="39011000", by_mass=True)
    kg, _, _ = _odd(g, "8", 600.0, hs="39011000", quantity=None, unit=None, net_mass=100.0)
    g.write(store)

    alerts = detect_unit_value_outliers(store)

    flagged = {a.records[0].key: a for a in alerts}
    assert set(flagged) == {euro, kg}
    assert flagged[euro].details["currency"] == "EUR"
    assert flagged[kg].details["unit"] == "KG"


def test_the_pak_zdanowicz_filter_flags_outside_the_interquartile_range(store: GraphStore) -> None:
    g = TradeGraph()
    _priced_group(g, NORMAL_PRICES)
    g.write(store)
    config = UnitValueConfig(
        method=BandMethod.IQR, k=0.0, min_value_moved=0.0, misstatement_ratio=1
    )
    alerts = detect_unit_value_outliers(store, config=config)
    flagged = {r.key for a in alerts for r in a.records}
    # k = 0 flags every price outside the others' [Q1, Q3]: the cheapest and dearest, never
    # the median.
    assert "declaration:GB:Ni85171300-0:1" in flagged
    assert "declaration:GB:Ni85171300-11:1" in flagged
    assert "declaration:GB:Ni85171300-5:1" not in flagged


def _pair_shipments(
    g: TradeGraph, name: str, unit_price: float, count: int, *, hs: str = "85171300"
) -> str:
    """``count`` imports of 100 units at ``unit_price`` between one seller and one importer."""
    home = g.company(f"company:customs:tax:GBP{name}", f"{name} Ltd", "GB", tax_id=f"GBP{name}")
    seller = g.company(f"company:customs:name:CN:{name} seller", f"{name} Seller", "CN")
    for i in range(count):
        day = f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}"
        g.declaration(
            f"P{name}{i}", flow="import", country="GB", date=day, sender=seller, receiver=home,
            hs=hs, value=unit_price * 100,
        )  # fmt: skip
    return home


def test_a_pair_with_many_shipments_is_one_price_of_the_reference(store: GraphStore) -> None:
    g = TradeGraph()
    _priced_group(g, NORMAL_PRICES)
    # A cheap supplier pair declares thirty shipments at 40, more than all the others together.
    # Counted per shipment it would be the market (median 40, and 150 would be 3.75x it); as
    # one pair among thirteen it is an outlier of its own, and 150 is ordinary.
    cheap = _pair_shipments(g, "Bulk", 40.0, 30)
    _odd(g, "9", 150.0)
    g.write(store)

    alerts = detect_unit_value_outliers(store)

    assert [a.typology for a in alerts] == [Typology.UNDER_INVOICING]
    assert cheap in alerts[0].entities
    assert alerts[0].details["reference"]["prices"] == len(NORMAL_PRICES) + 1  # with 150's
    assert len(alerts[0].details["shipments"]) == 30


def test_a_few_other_traders_judge_by_their_range(store: GraphStore) -> None:
    g = TradeGraph()
    few = (90.0, 100.0, 101.0, 110.0)
    # Four other traders: no band, but 5x the dearest of them is still a misstatement.
    _priced_group(g, few, hs="84713000")
    five, _, _ = _odd(g, "A", 550.0, hs="84713000")
    # 1.9x the dearest is not, though it is more than twice their interpolated upper quartile
    # (102.25): with so few prices the test is against the range.
    _priced_group(g, few, hs="84714100")
    _odd(g, "B", 209.0, hs="84714100")
    g.write(store)

    (alert,) = detect_unit_value_outliers(store)

    assert alert.records[0].key == five
    reference = alert.details["reference"]
    assert reference["band"] is None
    assert reference["prices"] == len(few)
    dearest = FxTable().convert(110.0, "USD", "EUR")
    assert dearest is not None
    assert alert.indicators[0].threshold == pytest.approx(2 * dearest, rel=1e-5)


def test_a_thin_market_borrows_the_other_flow_and_other_periods(store: GraphStore) -> None:
    g = TradeGraph()
    # In 2023 only two other importers; other years and the export side add more pairs.
    _priced_group(g, (100.0, 102.0), hs="17011400")
    _priced_group(g, (98.0, 101.0, 103.0), flow="export", hs="17011400")
    odd, _, _ = _odd(g, "C", 15.0, hs="17011400")
    g.write(store)

    (alert,) = detect_unit_value_outliers(store)

    assert alert.records[0].key == odd
    assert alert.typology is Typology.UNDER_INVOICING
    assert alert.details["reference"]["period"] == "all periods, both flows"
    assert alert.details["reference"]["prices"] == 5
    # Without the flows' fallback two importers are too few to judge.
    alone = UnitValueConfig(fallback_both_flows=False)
    assert detect_unit_value_outliers(store, config=alone) == []


def test_the_lower_fence_of_a_left_skewed_group_stays_a_price(store: GraphStore) -> None:
    g = TradeGraph()
    # A long cheap tail: on the price scale the adjusted boxplot's lower fence of these falls
    # below zero, so no price could ever be under-invoiced; on the log scale it is positive.
    skewed = (60.0, 75.0, 85.0, 92.0, 96.0, 98.0, 99.0, 100.0, 100.0, 101.0, 102.0, 103.0)
    _priced_group(g, skewed)
    odd, _, _ = _odd(g, "D", 10.0)
    g.write(store)

    (alert,) = detect_unit_value_outliers(store)
    assert alert.records[0].key == odd
    assert alert.details["reference"]["band"]["lower"] > 0
    linear = UnitValueConfig(log_scale=False)
    assert detect_unit_value_outliers(store, config=linear) == []


# --- mirror: declarations --------------------------------------------------------------------


def _mirror_parties(g: TradeGraph) -> tuple[str, str, str, str]:
    """The same two companies as each country's customs records them."""
    cn_exporter = g.company("company:customs:tax:CN77", "Acme Ltd", "CN", tax_id="CN77")
    gb_sees_exporter = g.company("company:customs:name:CN:acme ltd", "Acme Ltd", "CN")
    cn_sees_importer = g.company("company:customs:name:GB:brit co", "Brit Co", "GB")
    gb_importer = g.company("company:customs:tax:GB55", "Brit Co", "GB", tax_id="GB55")
    return cn_exporter, gb_sees_exporter, cn_sees_importer, gb_importer


def _mirror_pair(
    g: TradeGraph, n: str, *, export_day: str, import_day: str, export: tuple[float, float],
    imported: tuple[float, float], import_country: str = "GB",
) -> tuple[str, str]:  # fmt: skip
    cn_exp, gb_exp, cn_imp, gb_imp = _mirror_parties(g)
    x = g.declaration(
        f"X{n}", flow="export", country="CN", date=export_day, sender=cn_exp, receiver=cn_imp,
        quantity=export[0], value=export[1],
    )  # fmt: skip
    m = g.declaration(
        f"M{n}", flow="import", country=import_country, date=import_day, sender=gb_exp,
        receiver=gb_imp, quantity=imported[0], value=imported[1],
    )  # fmt: skip
    return x, m


def test_a_mirror_pair_with_a_40_percent_gap_flags_and_5_percent_does_not(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    # 66,000 CIF is 60,000 FOB: 40% below the 100,000 exported.
    big = _mirror_pair(
        g, "1", export_day="2023-03-01", import_day="2023-03-20", export=(100, 100_000),
        imported=(100, 66_000),
    )  # fmt: skip
    # 104,500 CIF is 95,000 FOB: 5% apart.
    small = _mirror_pair(
        g, "2", export_day="2023-06-01", import_day="2023-06-25", export=(200, 100_000),
        imported=(200, 104_500),
    )  # fmt: skip
    g.write(store)

    (alert,) = detect_mirror_discrepancies(store)

    assert alert.typology is Typology.MIRROR_DISCREPANCY
    (pair,) = alert.details["pairs"]
    assert (pair["export_declaration"], pair["import_declaration"]) == big
    assert pair["gap"] == pytest.approx(0.4)
    assert pair["understated_side"] == "import"
    assert pair["quantity_matched"] is True
    assert {r.key for r in alert.records} == set(big)
    assert not set(small) & {r.key for r in alert.records}
    # Both countries' records of both companies are named.
    assert {"company:customs:tax:CN77", "company:customs:name:CN:acme ltd"} <= set(alert.entities)


def _understated_run(g: TradeGraph, sides: list[str]) -> list[tuple[str, str]]:
    """Shipments a month apart whose ``side`` declares 40% of the quantity and the value
    (import values are CIF: 110,000 is the 100,000 exported)."""
    out = []
    for i, side in enumerate(sides, start=1):
        low = side == "import"
        full, cut = (100, 100_000), (40, 40_000)
        pair = _mirror_pair(
            g, f"U{i}", export_day=f"2023-{i:02d}-01", import_day=f"2023-{i:02d}-15",
            export=full if low else cut, imported=(40, 44_000) if low else (100, 110_000),
        )  # fmt: skip
        out.append(pair)
    return out


def test_one_side_understating_quantity_and_value_again_and_again_alerts(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    pairs = _understated_run(g, ["import", "import", "import"])
    g.write(store)

    (alert,) = detect_mirror_discrepancies(store)

    found = [(p["export_declaration"], p["import_declaration"]) for p in alert.details["pairs"]]
    assert sorted(found) == sorted(pairs)
    assert all(p["quantity_matched"] is False for p in alert.details["pairs"])
    assert {p["understated_side"] for p in alert.details["pairs"]} == {"import"}
    quantity = next(i for i in alert.indicators if i.name == "quantity_gap")
    assert quantity.value == pytest.approx(0.6)


def test_fewer_unreferenced_mismatches_than_the_pattern_needs_do_not_alert(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    _understated_run(g, ["import", "import"])
    g.write(store)

    # Without a shipment reference two mismatches may be different shipments.
    assert detect_mirror_discrepancies(store) == []
    (alert,) = detect_mirror_discrepancies(store, config=MirrorConfig(min_unreferenced_pairs=2))
    assert len(alert.details["pairs"]) == 2
    assert (
        detect_mirror_discrepancies(store, config=MirrorConfig(match_without_quantity=False)) == []
    )


def test_unreferenced_mismatches_in_a_relation_whose_sides_agree_at_times_do_not_alert(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    _understated_run(g, ["import", "import", "import"])
    # One later shipment of the same relation on which both sides agree.
    _mirror_pair(
        g, "A1", export_day="2023-07-01", import_day="2023-07-15", export=(100, 100_000),
        imported=(100, 110_000),
    )  # fmt: skip
    g.write(store)
    # When the two sides can agree, a mismatch without a shipment reference is as likely a
    # shipment whose partner record is missing as a trader's habit.
    assert detect_mirror_discrepancies(store) == []


def test_the_same_count_of_a_different_weight_is_not_the_same_shipment(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    x, m = _mirror_pair(
        g, "W", export_day="2023-03-01", import_day="2023-03-06", export=(3, 60_000),
        imported=(3, 44_000),
    )  # fmt: skip
    for key, mass in ((x, 3_800.0), (m, 4_400.0)):
        props = {**g.nodes[key].properties, "net_mass": mass}
        g.nodes[key] = g.nodes[key].model_copy(update={"properties": props})
    g.write(store)
    # Three cars and three cars, 14% apart in weight: no quantity match, so no first-pass
    # alert; a single unreferenced pair is not a pattern.
    assert detect_mirror_discrepancies(store) == []
    (alert,) = detect_mirror_discrepancies(store, config=MirrorConfig(min_unreferenced_pairs=1))
    (pair,) = alert.details["pairs"]
    assert pair["quantity_matched"] is False
    assert pair["quantity_gap"] == pytest.approx(600 / 4_400, abs=1e-4)


def test_a_coincidental_quantity_match_across_the_relations_traffic_is_undone(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    # Three shipments a month apart, the import side declaring 40% of each. The second
    # shipment's full 40 units equal the third's understated 40: a quantity match that leaps
    # over the second import (before it) and the third export (after the second).
    shipments = (
        ("2023-01-01", "2023-01-15", 100),
        ("2023-01-31", "2023-02-14", 40),
        ("2023-03-01", "2023-03-15", 100),
    )
    for n, (x_day, m_day, units) in enumerate(shipments, start=1):
        _mirror_pair(
            g, f"C{n}", export_day=x_day, import_day=m_day, export=(units, units * 1_000),
            imported=(units * 0.4, units * 440),
        )  # fmt: skip
    g.write(store)

    (alert,) = detect_mirror_discrepancies(store)
    found = sorted(
        (p["export_declaration"], p["import_declaration"]) for p in alert.details["pairs"]
    )
    assert found == [(f"declaration:CN:XC{n}:1", f"declaration:GB:MC{n}:1") for n in (1, 2, 3)]


def test_unreferenced_mismatches_understating_either_side_do_not_alert(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    _understated_run(g, ["import", "export", "import", "import"])
    g.write(store)
    assert detect_mirror_discrepancies(store) == []


def test_leftover_declarations_pair_in_date_order_only_when_they_balance(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    cn_exp, gb_exp, cn_imp, gb_imp = _mirror_parties(g)
    # Two exports ten days apart and one import after both: which export it belongs to
    # cannot be told, so none is paired.
    for n, day in (("A", "2023-03-01"), ("B", "2023-03-11")):
        g.declaration(
            f"X{n}", flow="export", country="CN", date=day, sender=cn_exp, receiver=cn_imp,
            quantity=100, value=100_000,
        )  # fmt: skip
    g.declaration(
        "MA", flow="import", country="GB", date="2023-03-20", sender=gb_exp, receiver=gb_imp,
        quantity=40, value=44_000,
    )  # fmt: skip
    # Two exports and two imports: the first export meets the first import, whatever the
    # days apart (the second import is closer to the first export than the first one is).
    for n, (x_day, m_day) in {
        "C": ("2023-06-01", "2023-06-25"),
        "D": ("2023-06-20", "2023-07-09"),
    }.items():
        g.declaration(
            f"X{n}", flow="export", country="CN", date=x_day, sender=cn_exp, receiver=cn_imp,
            quantity=100, value=100_000,
        )  # fmt: skip
        g.declaration(
            f"M{n}", flow="import", country="GB", date=m_day, sender=gb_exp, receiver=gb_imp,
            quantity=40, value=44_000,
        )  # fmt: skip
    g.write(store)

    config = MirrorConfig(min_unreferenced_pairs=1)
    pairs = match_pairs(read_shipments(store), PartyIndex.build(store), config)
    assert sorted((p.export.key, p.imp.key) for p in pairs) == [
        ("declaration:CN:XC:1", "declaration:GB:MC:1"),
        ("declaration:CN:XD:1", "declaration:GB:MD:1"),
    ]


def test_a_shipment_matches_the_import_of_its_own_quantity_before_a_closer_one(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    cn_exp, gb_exp, cn_imp, gb_imp = _mirror_parties(g)
    x = g.declaration(
        "XQ", flow="export", country="CN", date="2023-03-01", sender=cn_exp, receiver=cn_imp,
        quantity=1_000, value=100_000,
    )  # fmt: skip
    # Another shipment of 970 units arrives first, at a third of the value; the export's own
    # 1,000 units arrive ten days later at its value.
    g.declaration(
        "MN", flow="import", country="GB", date="2023-03-05", sender=gb_exp, receiver=gb_imp,
        quantity=970, value=36_000,
    )  # fmt: skip
    m = g.declaration(
        "MQ", flow="import", country="GB", date="2023-03-15", sender=gb_exp, receiver=gb_imp,
        quantity=1_000, value=110_000,
    )  # fmt: skip
    g.write(store)

    config = MirrorConfig(match_without_quantity=False)
    (pair,) = match_pairs(read_shipments(store), PartyIndex.build(store), config)
    assert (pair.export.key, pair.imp.key) == (x, m)
    assert detect_mirror_discrepancies(store) == []


def test_mirror_values_in_different_currencies_are_converted(store: GraphStore) -> None:
    g = TradeGraph()
    x, _ = _mirror_pair(
        g, "6", export_day="2023-03-01", import_day="2023-03-20", export=(100, 100_000),
        imported=(100, 66_000),
    )  # fmt: skip
    # The export was declared in EUR: 100,000 EUR is 110,500 USD at the table's rate.
    g.nodes[x] = g.nodes[x].model_copy(
        update={"properties": {**g.nodes[x].properties, "currency": "EUR"}}
    )
    g.write(store)
    (alert,) = detect_mirror_discrepancies(store)
    (pair,) = alert.details["pairs"]
    assert pair["currency"] == "EUR"
    assert pair["export_value"] == pytest.approx(100_000.0)
    assert pair["import_value"] == pytest.approx(66_000 / 1.105, rel=1e-3)


def test_pairs_outside_the_window_or_in_one_country_are_not_matched(store: GraphStore) -> None:
    g = TradeGraph()
    _mirror_pair(
        g, "4", export_day="2023-01-01", import_day="2023-04-15", export=(100, 100_000),
        imported=(100, 50_000),
    )  # fmt: skip
    _mirror_pair(
        g, "5", export_day="2023-06-01", import_day="2023-06-10", export=(100, 100_000),
        imported=(100, 50_000), import_country="CN",
    )  # fmt: skip
    g.write(store)
    assert detect_mirror_discrepancies(store) == []


# --- mirror: partner statistics --------------------------------------------------------------


def _stat(
    g: TradeGraph,
    reporter: str,
    partner: str,
    flow: str,
    hs: str,
    value: float,
    period: str = "2023",
) -> str:
    return g.add(
        f"tradestat:{reporter}:{partner}:{flow}:{hs}:{period}",
        "external",
        reporter=reporter,
        partner=partner,
        flow=flow,
        hs_code=hs,
        period=period,
        value=value,
    )


def test_partner_statistics_that_disagree_alert_and_one_sided_ones_are_listed(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    imports = _stat(g, "GB", "CN", "import", "851713", 1_100_000)  # 1,000,000 FOB
    exports = _stat(g, "CN", "GB", "export", "851713", 2_000_000)
    _stat(g, "GB", "CN", "import", "847130", 1_100_000)
    _stat(g, "CN", "GB", "export", "847130", 1_000_000)  # agrees after CIF/FOB
    lonely = _stat(g, "GB", "US", "import", "851713", 500_000)
    g.write(store)

    (alert,) = detect_statistics_discrepancies(store)
    assert sorted(alert.entities) == sorted([imports, exports])
    gap = next(i for i in alert.indicators if i.name == "value_gap")
    assert gap.value == pytest.approx(0.5)
    assert alert.details["understated"] == "imports"

    (one_sided,) = one_sided_statistics(store)
    assert one_sided.statistics == [lonely]
    assert (one_sided.reporter, one_sided.partner, one_sided.flow) == ("GB", "US", "import")


def test_a_statistics_gap_that_the_next_period_makes_up_is_timing_not_a_finding(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    # Goods exported late in 2022 and imported early in 2023: 2022 shows imports short by
    # half, 2023 imports long by as much; over both years the two sides agree.
    _stat(g, "GB", "CN", "import", "851713", 550_000, "2022")  # 500,000 FOB
    _stat(g, "CN", "GB", "export", "851713", 1_000_000, "2022")
    _stat(g, "GB", "CN", "import", "851713", 1_650_000, "2023")  # 1,500,000 FOB
    _stat(g, "CN", "GB", "export", "851713", 1_000_000, "2023")
    # A gap that persists next door alerts.
    short = _stat(g, "GB", "CN", "import", "847130", 440_000, "2022")  # 400,000 FOB
    _stat(g, "CN", "GB", "export", "847130", 1_000_000, "2022")
    _stat(g, "GB", "CN", "import", "847130", 1_100_000, "2023")
    _stat(g, "CN", "GB", "export", "847130", 1_000_000, "2023")
    g.write(store)

    (alert,) = detect_statistics_discrepancies(store)
    assert short in alert.entities
    unpooled = MirrorConfig(statistics_pool_neighbours=False)
    assert len(detect_statistics_discrepancies(store, config=unpooled)) == 3
