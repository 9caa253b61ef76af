"""Trade mis-invoicing by abnormal unit values (price filters on customs declarations).

Every declaration item gets a unit value, value / quantity (or value / net mass in kg when the
quantity or its unit is missing). Items are compared within groups of like goods: HS 6
subheading x flow x quantity unit x currency x period (a year by default). Invoice values in a
currency of the fixed ECB table (``queries.projection.FxTable``) are converted to its reference
currency, so a group pools those currencies; any other currency is a group of its own.

**The reference.** Each declaring trader (the importer of an import, the exporter of an export,
lifted to its real party) is measured against the *other* traders' prices in its group, as
customs valuation compares a declared value with other importers' values for identical or
similar goods (WTO Valuation Agreement, arts. 2-3). A trader who mis-invoices every shipment
would otherwise be part of its own yardstick and drag the quartiles (breakdown point 25%) and
the medcouple toward itself. When the others declared fewer than ``min_group_size`` prices in
the period, their prices of every period are the reference (``fallback_all_periods``).

**The band** (``queries.robust``):

- the **adjusted boxplot** (Hubert & Vandervieren 2008), the default, because unit values are
  right-skewed: the medcouple lengthens the upper whisker so that ordinary expensive variants are
  not flagged, and shortens the lower one;
- or Tukey's **interquartile band** [Q1 - k IQR, Q3 + k IQR]; with k = 0 this is the price
  filter of Pak & Zdanowicz (1994) and de Boyrie, Pak & Zdanowicz (2005), which treats any price
  outside the interquartile range as abnormal (it flags half of every group by construction, so
  it suits estimating totals rather than raising alerts).

A price must also lie at least ``min_price_ratio`` (2) times above or below the reference
median: an HS 6 subheading spans grades and brands whose unit values differ severalfold
(Schott 2004), so a tight band alone would flag ordinary variation.

An item above the upper fence is **over-invoiced**, below the lower fence **under-invoiced**:
the typology names the price side, whatever the flow. Which way money moved depends on the flow
and is stated in the alert's ``details.flow_of_funds``, following Global Financial Integrity's
trade mis-invoicing convention (GFI, "Trade-Related Illicit Financial Flows in 135 Developing
Countries 2008-2017", 2020): over-invoiced imports and under-invoiced exports move money
**out** of the reporting country; under-invoiced imports (usually duty and VAT evasion) and
over-invoiced exports (subsidy or refund fraud, or bringing money in) move it **in**.

The value moved is estimated conservatively, as the deviation beyond the fence times the
quantity (Pak & Zdanowicz measure against the quartile instead; against the fence the estimate
is a lower bound); pairs moving less than ``min_value_moved`` raise no alert.

Alerts are one per trading pair (sender and receiver lifted to their real party), HS 6, flow,
currency, period and price side, listing every flagged item with the reference it was measured
against. With ``value_basis="customs"`` the customs value is used instead, which is in the
reporting country's currency (so groups are per reporting country then).

Complexity: O(D) to read and group D items; per group of g items one band per trader holding
at least ``exclusion_share`` of it (at most 1 / exclusion_share of them) and one for the rest,
each O(g log g) (the medcouple is exact: O(g^2) up to ~200 prices, O(g log^2 g) above).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from graph_models.store.base import GraphStore
from queries.alerts import Alert, Indicator, Typology, alert_id
from queries.misinvoicing import (
    PartyIndex,
    Period,
    Shipment,
    latest_date,
    node_evidence,
    period_of,
    read_shipments,
)
from queries.projection import FxTable
from queries.robust import Band, BandMethod, band

DETECTOR = "unit_values"


class UnitValueConfig(BaseModel):
    """Thresholds of the unit-value filter (defaults and their sources in the descriptions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: BandMethod = Field(
        default=BandMethod.ADJUSTED,
        description="adjusted boxplot (Hubert & Vandervieren 2008, for skewed prices) or iqr"
        " (Tukey's fences; with k=0 the Pak & Zdanowicz 1994 interquartile price filter)",
    )
    k: float = Field(
        default=1.5,
        ge=0,
        description="whisker length in IQRs: 1.5 is Tukey's (1977) convention and the constant"
        " of Hubert & Vandervieren's adjusted boxplot",
    )
    period: Period = Field(
        default=Period.YEAR,
        description="price groups per year: prices drift with inflation and exchange rates, a"
        " year is the period partner-country trade statistics use",
    )
    min_group_size: int = Field(
        default=10,
        ge=4,
        description="no band from fewer prices (of the other traders): below ~10 each quartile"
        " rests on two or three prices and one odd price moves the fences (judgement)",
    )
    min_price_ratio: float = Field(
        default=2.0,
        ge=1.0,
        description="and at least this factor away from the reference median (above median x r"
        " or below median / r): an HS 6 subheading spans grades and brands whose unit values"
        " differ by several times (Schott 2004, QJE 119(2)), so a price within a factor of two"
        " of the reference is ordinary variation however tight the band; 1 disables",
    )
    fallback_all_periods: bool = Field(
        default=True,
        description="when the other traders declared too few prices in the period, compare"
        " with their prices of every period of the same goods, flow, unit and currency",
    )
    exclusion_share: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="a trader with at least this share of its group is measured against the"
        " band of the other traders' prices only; below it the whole group's band is used",
    )
    fx: FxTable = Field(
        default_factory=FxTable,
        description="invoice values in a currency of the table are converted to its reference"
        " currency so that a group pools currencies (ECB reference rates, see"
        " queries.projection); other currencies form groups of their own",
    )
    value_basis: Literal["invoice", "customs"] = Field(
        default="invoice",
        description="invoice value in its currency, or customs value in the reporting country's"
        " currency; an item without the chosen value falls back to the other (its own group)",
    )
    min_value_moved: float = Field(
        default=1_000.0,
        ge=0,
        description="estimated value moved (group currency) below which no alert is raised: a"
        " price just past the fence on a small shipment is noise to an investigator (judgement)",
    )
    flows: tuple[str, ...] = Field(
        default=("import", "export"),
        description="flows priced (re-exports count as exports; transit carries no price)",
    )


@dataclass(frozen=True, slots=True)
class _Priced:
    shipment: Shipment
    group: tuple[str, str, str, str, str]  # hs6, flow, unit, currency token, period
    quantity: float
    value: float
    # Computed once: the band loops read them for every item of a group, per trader.
    unit_value: float
    trader: str  # the declaring trader's party id; "" when priced without a party index


def _flow(shipment: Shipment) -> str | None:
    if shipment.is_import:
        return "import"
    if shipment.is_export:
        return "export"
    return None


def _value(shipment: Shipment, config: UnitValueConfig) -> tuple[float, str] | None:
    invoice = None
    if shipment.invoice_value:
        currency, converted = config.fx.normalise(shipment.invoice_value, shipment.currency)
        invoice = (converted, currency or "unknown")
    customs = (
        (shipment.customs_value, f"national:{shipment.reporting_country or 'unknown'}")
        if shipment.customs_value
        else None
    )
    first, second = (invoice, customs) if config.value_basis == "invoice" else (customs, invoice)
    chosen = first or second
    if chosen is None or chosen[0] is None or chosen[0] <= 0:
        return None
    return float(chosen[0]), chosen[1]


def price(
    shipment: Shipment, config: UnitValueConfig, index: PartyIndex | None = None
) -> _Priced | None:
    """The unit value of an item and the group it is compared in, or None if it has none
    (with ``index``, also its declaring trader)."""
    flow = _flow(shipment)
    hs6 = shipment.hs6
    if flow is None or flow not in config.flows or hs6 is None:
        return None
    valued = _value(shipment, config)
    if valued is None:
        return None
    quantity, unit = shipment.quantity, shipment.unit
    if not (quantity and quantity > 0 and unit):
        quantity, unit = shipment.net_mass, "KG"
        if not (quantity and quantity > 0):
            return None
    value, currency = valued
    group = (hs6, flow, unit, currency, period_of(shipment.date, config.period))
    trader = _trader(shipment, index) if index is not None else ""
    return _Priced(shipment, group, float(quantity), value, value / float(quantity), trader)


def _trader(s: Shipment, index: PartyIndex) -> str:
    """The declaring trader: the importer of an import, the exporter of an export."""
    party = s.receiver if s.is_import else s.sender
    return index.identity(party or s.key)


def _outliers(
    items: list[_Priced], pool: list[_Priced], config: UnitValueConfig
) -> list[tuple[_Priced, Band, str]]:
    """Items outside the band of the *other* traders' prices, with the reference period used.

    Each trader is measured against the band of everyone else's unit values, as customs
    valuation compares a declared value with other importers' transaction values for identical
    or similar goods (WTO Valuation Agreement, arts. 2-3): a trader who mis-invoices all its
    shipments would otherwise make up a share of the sample and drag the quartiles (25%
    breakdown) and the medcouple toward its own prices. A trader holding less than
    ``exclusion_share`` of the group barely moves them, so the whole group's band is used for
    it (this keeps large groups at one band instead of one per trader). When the other traders
    declared fewer than ``min_group_size`` prices in the period, their prices of every period
    (``pool``) are the reference (``fallback_all_periods``).
    """
    by_trader: dict[str, list[_Priced]] = defaultdict(list)
    for item in items:
        by_trader[item.trader].append(item)
    period = items[0].group[4]
    whole: Band | None = None
    out: list[tuple[_Priced, Band, str]] = []
    for trader in sorted(by_trader):
        own = by_trader[trader]
        reference = period
        if len(own) < config.exclusion_share * len(items) and len(items) >= config.min_group_size:
            whole = whole or band([p.unit_value for p in items], config.method, config.k)
            fences = whole
        else:
            others = [p.unit_value for t, ps in by_trader.items() if t != trader for p in ps]
            if len(others) < config.min_group_size and config.fallback_all_periods:
                others = [p.unit_value for p in pool if p.trader != trader]
                reference = "all periods"
            if len(others) < config.min_group_size:
                continue
            fences = band(others, config.method, config.k)
        low, high = fences.median / config.min_price_ratio, fences.median * config.min_price_ratio
        out.extend(
            (p, fences, reference)
            for p in own
            if (p.unit_value > max(fences.upper, high)) or (p.unit_value < min(fences.lower, low))
        )
    return out


def _moved(item: _Priced, fences: Band, side: Typology) -> float:
    """Value moved by one item: its deviation beyond the fence times its quantity."""
    if side is Typology.OVER_INVOICING:
        return (item.unit_value - fences.upper) * item.quantity
    return (fences.lower - item.unit_value) * item.quantity


def _flow_of_funds(flow: str, side: Typology) -> str:
    outward = (flow == "import") == (side is Typology.OVER_INVOICING)
    return "outflow" if outward else "inflow"


def detect_unit_value_outliers(
    store: GraphStore,
    *,
    config: UnitValueConfig = UnitValueConfig(),  # noqa: B008 (frozen, so a safe default)
    parties: PartyIndex | None = None,
) -> list[Alert]:
    """Under- and over-invoicing alerts from unit values outside the robust band of their group.

    ``parties`` may be passed when several detectors share one :class:`PartyIndex`.
    """
    index = parties if parties is not None else PartyIndex.build(store)
    groups: dict[tuple[str, str, str, str, str], list[_Priced]] = defaultdict(list)
    for shipment in read_shipments(store):
        priced = price(shipment, config, index)
        if priced is not None:
            groups[priced.group].append(priced)
    flagged: dict[tuple[str, str, str, Typology], list[tuple[_Priced, Band, str]]] = defaultdict(
        list
    )
    pools: dict[tuple[str, str, str, str], list[_Priced]] = defaultdict(list)
    for key, items in groups.items():
        pools[key[:4]].extend(items)
    for key in sorted(groups):
        for item, fences, reference in _outliers(groups[key], pools[key[:4]], config):
            side = (
                Typology.OVER_INVOICING
                if item.unit_value > fences.upper
                else Typology.UNDER_INVOICING
            )
            sender = index.identity(item.shipment.sender or item.shipment.key)
            receiver = index.identity(item.shipment.receiver or item.shipment.key)
            flagged[(sender, receiver, "|".join(key), side)].append((item, fences, reference))
    alerts = [
        _alert(index, sender=sender, receiver=receiver, side=side, hits=hits, config=config)
        for (sender, receiver, _, side), hits in sorted(flagged.items(), key=lambda kv: kv[0])
        if sum(_moved(item, fences, side) for item, fences, _ in hits) >= config.min_value_moved
    ]
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _alert(
    index: PartyIndex,
    *,
    sender: str,
    receiver: str,
    side: Typology,
    hits: list[tuple[_Priced, Band, str]],
    config: UnitValueConfig,
) -> Alert:
    hits = sorted(hits, key=lambda h: h[0].shipment.key)
    hs6, flow, unit, currency, period = hits[0][0].group
    over = side is Typology.OVER_INVOICING
    shipments = []
    moved_total = 0.0
    for item, fences, reference in hits:
        moved = _moved(item, fences, side)
        moved_total += moved
        shipments.append(
            {
                "declaration": item.shipment.key,
                "date": item.shipment.date,
                "quantity": item.quantity,
                "value": round(item.value, 2),
                "unit_value": round(item.unit_value, 6),
                "reference_period": reference,
                "reference_median": round(fences.median, 6),
                "fence": round(fences.upper if over else fences.lower, 6),
                "ratio_to_median": round(item.unit_value / fences.median, 4)
                if fences.median
                else None,
                "value_moved": round(moved, 2),
            }
        )
    extreme, fences, reference = (max if over else min)(hits, key=lambda h: h[0].unit_value)
    fence = fences.upper if over else fences.lower
    ratio = extreme.unit_value / fences.median if fences.median else math.inf
    records = [node_evidence(item.shipment.node, amount=item.value) for item, _, _ in hits]
    money = currency.removeprefix("national:")
    band_name = (
        "adjusted-boxplot" if fences.method is BandMethod.ADJUSTED else f"IQR (k={config.k})"
    )
    word = "above" if over else "below"
    summary = (
        f"{len(hits)} {flow} declaration(s) of HS {hs6} from {index.name(sender)} to"
        f" {index.name(receiver)} in {period} priced {word} the {band_name} fence of other"
        f" traders' prices ({fence:,.2f} {money}/{unit}; extreme {ratio:.2f}x their median):"
        f" about {moved_total:,.0f} {money} moved"
    )
    members = [sender, receiver]
    return Alert(
        id=alert_id(side, members, f"{hs6}|{flow}|{unit}|{currency}|{period}"),
        typology=side,
        detector=DETECTOR,
        score=math.log10(1 + max(moved_total, 0.0)),
        summary=summary,
        entities=index.records_of(members),
        indicators=[
            Indicator(
                name="unit_value",
                value=round(extreme.unit_value, 6),
                threshold=round(fence, 6),
                explanation=f"most extreme unit value, {word} the {band_name} fence of the other"
                f" traders' {fences.n} prices of HS {hs6} ({flow}, {unit}, {money},"
                f" {reference})",
            ),
            Indicator(
                name="ratio_to_median",
                value=round(ratio, 4),
                threshold=config.min_price_ratio if over else round(1 / config.min_price_ratio, 6),
                explanation=f"reference median unit value {fences.median:,.4f}",
            ),
            Indicator(
                name="estimated_value_moved",
                value=round(moved_total, 2),
                threshold=config.min_value_moved,
                explanation="deviation beyond the fence times quantity, summed (a lower bound)",
            ),
        ],
        records=records,
        detected_on=latest_date(records),
        details={
            "hs6": hs6,
            "flow": flow,
            "unit": unit,
            "currency": money,
            "period": period,
            "flow_of_funds": _flow_of_funds(flow, side),
            "band": fences.model_dump(mode="json"),
            "sender": sender,
            "receiver": receiver,
            "shipments": shipments,
        },
    )
