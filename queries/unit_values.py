"""Trade mis-invoicing by abnormal unit values (price filters on customs declarations).

Every declaration item gets a unit value, value / quantity (or value / net mass in kg when the
quantity or its unit is missing). Items are compared within groups of like goods: HS 6
subheading x flow x quantity unit x currency x period (a year by default). Invoice values in a
currency of the fixed ECB table (``queries.projection.FxTable``) are converted to its reference
currency, so a group pools those currencies; any other currency is a group of its own.

**The reference.** Each declaring trader (the importer of an import, the exporter of an export,
lifted to its real party) is measured against the *other* traders' prices in its group, as
customs valuation compares a declared value with other importers' values for identical or
similar goods (WTO Valuation Agreement, arts. 2-3). The reference holds **one price per trading
pair** (sender and receiver lifted to their real parties): the median unit value of the pair's
items. The shipments of one pair are one contract price declared again and again, not
independent observations of the market: counted one by one, a pair with many shipments -- a
mis-invoicing pair above all -- would make up most of the sample and carry the quartiles and
the median with it. When the period has fewer than ``min_group_size`` other pairs, the pairs of
every period are the reference if they are more (``fallback_all_periods``), and if those are
still too few, the pairs of both flows (``fallback_both_flows``: the invoice price of goods is
the same whichever country declared the shipment; a pair declared on both sides is one price).

**The band** (``queries.robust``), on log unit values (``log_scale``): prices are compared as
ratios (a price twice the market and one half of it are equally far off), their distribution is
close to log-normal, and a fence on the log scale is always a positive price, where the lower
fence of a skewed sample on the price scale can fall below zero and then no price is ever
under-invoiced:

- the **adjusted boxplot** (Hubert & Vandervieren 2008), the default: the medcouple lengthens the
  whisker on the skewed side, so that ordinary expensive variants are not flagged;
- or Tukey's **interquartile band** [Q1 - k IQR, Q3 + k IQR]; with k = 0 this is the price
  filter of Pak & Zdanowicz (1994) and de Boyrie, Pak & Zdanowicz (2005), which treats any price
  outside the interquartile range as abnormal (it flags half of every group by construction, so
  it suits estimating totals rather than raising alerts).

The band needs ``min_group_size`` reference prices. **The misstatement test** applies always: a
price must also lie at least ``misstatement_ratio`` (2) times above the reference's upper
quartile or below its lower quartile. The interquartile range of comparable prices is the arm's
length range of US transfer-pricing rules (26 CFR 1.482-1(e)(2)(iii)(C)), and a price 200% or
more (50% or less) of the arm's length price is a *substantial valuation misstatement*
(26 U.S.C. 6662(e)(1)(B)(i)); the EU's undervaluation risk profile for textiles and footwear
flagged declared prices below half of the cleaned average price (the "lowest acceptable price";
Case C-213/19, Commission v United Kingdom). An HS 6 subheading spans grades and brands whose
unit values differ severalfold (Schott 2004), so a statistically tight band alone would flag
ordinary variation. With fewer reference prices than the band needs, but at least
``min_reference_prices``, the misstatement test alone decides, and against the range of the
reference rather than its quartiles (quartiles of a handful of prices are interpolations
between two traders): a price must be r times above the dearest or below the cheapest other
pair. With fewer, the trader is not judged.

An item above the upper fence is **over-invoiced**, below the lower fence **under-invoiced**:
the typology names the price side, whatever the flow. Which way money moved depends on the flow
and is stated in the alert's ``details.flow_of_funds``, following Global Financial Integrity's
trade mis-invoicing convention (GFI, "Trade-Related Illicit Financial Flows in 135 Developing
Countries 2008-2017", 2020): over-invoiced imports and under-invoiced exports move money
**out** of the reporting country; under-invoiced imports (usually duty and VAT evasion) and
over-invoiced exports (subsidy or refund fraud, or bringing money in) move it **in**.

The value moved is estimated conservatively, as the deviation beyond the band's fence times the
quantity (a lower bound), or beyond the quartile where no band was drawn (Pak & Zdanowicz's own
measure); pairs moving less than ``min_value_moved`` raise no alert.

Alerts are one per trading pair (sender and receiver lifted to their real party), HS 6, flow,
currency, period and price side, listing every flagged item with the reference it was measured
against. With ``value_basis="customs"`` the customs value is used instead, which is in the
reporting country's currency (so groups are per reporting country then).

Complexity: O(D) to read and group D items; per group of g pairs one reference per trader
holding at least ``exclusion_share`` of them (at most 1 / exclusion_share of them) and one for
the rest, each O(g log g) (the medcouple is exact: O(g^2) up to ~200 prices, O(g log^2 g)
above).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

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
from queries.robust import Band, BandMethod, band, median, quantile

DETECTOR = "unit_values"

Group = tuple[str, str, str, str, str]  # hs6, flow, unit, currency token, period
Pair = tuple[str, str]  # sender and receiver party ids


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
    log_scale: bool = Field(
        default=True,
        description="draw the band on log unit values: prices compare as ratios and are close"
        " to log-normal, and a lower fence on the log scale is always a positive price",
    )
    period: Period = Field(
        default=Period.YEAR,
        description="price groups per year: prices drift with inflation and exchange rates, a"
        " year is the period partner-country trade statistics use",
    )
    min_group_size: int = Field(
        default=10,
        ge=4,
        description="no band from fewer reference prices (other trading pairs): below ~10 each"
        " quartile rests on two or three prices and the medcouple on a handful of pairs, so one"
        " odd price moves the fences (judgement); the misstatement test still applies",
    )
    min_reference_prices: int = Field(
        default=3,
        ge=2,
        description="no judgement at all against fewer other trading pairs: with two, 'twice"
        " the dearest' rests on one counterparty's contract and the other's (judgement); below"
        " min_group_size the misstatement test is taken against the range of the reference,"
        " not its quartiles",
    )
    misstatement_ratio: float = Field(
        default=2.0,
        ge=1.0,
        description="a price must also be at least this factor above the reference's upper"
        " quartile or below its lower quartile: 200% / 50% of the arm's length price is a"
        " substantial valuation misstatement (26 U.S.C. 6662(e)(1)(B)(i)), the interquartile"
        " range of comparables the arm's length range (26 CFR 1.482-1(e)(2)(iii)(C)), and the"
        " EU's undervaluation profile flagged prices below half the cleaned average price"
        " (C-213/19 Commission v UK); 1 leaves the band alone",
    )
    fallback_all_periods: bool = Field(
        default=True,
        description="when the period has fewer than min_group_size other trading pairs,"
        " compare with the pairs of every period of the same goods, flow, unit and currency"
        " if they are more",
    )
    fallback_both_flows: bool = Field(
        default=True,
        description="when every period still holds fewer than min_group_size other trading"
        " pairs, add the other flow's pairs of the same goods, unit and currency: the invoice"
        " price of the goods is the same whichever country declared the shipment (the"
        " Valuation Agreement's art. 7 lets the earlier methods be applied flexibly)",
    )
    exclusion_share: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="a trader with at least this share of its group's trading pairs is"
        " measured against the other pairs only; below it the whole group's reference is used",
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
    group: Group
    quantity: float
    value: float
    # Computed once: the reference loops read them for every item of a group, per trader.
    unit_value: float
    trader: str  # the declaring trader's party id; "" when priced without a party index
    pair: Pair  # sender and receiver party ids (record keys without a party index)


@dataclass(frozen=True, slots=True)
class Reference:
    """The prices a trader is judged against and the fences drawn from them (price units)."""

    period: str  # the group's period, or the wider reference: "all periods[, both flows]"
    prices: int  # trading pairs, one price each
    shipments: int
    q1: float
    median: float
    q3: float
    band: Band | None  # None below min_group_size; on log unit values with ``log_scale``
    band_lower: float | None  # the band's fences as prices
    band_upper: float | None
    lower: float  # below it: under-invoiced (the band's fence and the misstatement test)
    upper: float  # above it: over-invoiced

    def side(self, unit_value: float) -> Typology | None:
        if unit_value > self.upper:
            return Typology.OVER_INVOICING
        if unit_value < self.lower:
            return Typology.UNDER_INVOICING
        return None

    def fence(self, side: Typology) -> float:
        return self.upper if side is Typology.OVER_INVOICING else self.lower

    def base(self, side: Typology) -> float:
        """Where the value moved is measured from: the band's fence, else the quartile."""
        if side is Typology.OVER_INVOICING:
            return self.q3 if self.band_upper is None else self.band_upper
        return self.q1 if self.band_lower is None else self.band_lower

    def as_details(self, config: UnitValueConfig) -> dict[str, Any]:
        band_details = None
        if self.band is not None:
            band_details = {
                "method": self.band.method.value,
                "k": config.k,
                "scale": "log" if config.log_scale else "price",
                "medcouple": self.band.medcouple,
                "lower": _round(self.band_lower),
                "upper": _round(self.band_upper),
            }
        return {
            "period": self.period,
            "prices": self.prices,
            "shipments": self.shipments,
            "q1": _round(self.q1),
            "median": _round(self.median),
            "q3": _round(self.q3),
            "lower": _round(self.lower),
            "upper": _round(self.upper),
            "misstatement_ratio": config.misstatement_ratio,
            "band": band_details,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


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
    (with ``index``, also its declaring trader and its trading pair as real parties)."""
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
    sender = shipment.sender or shipment.key
    receiver = shipment.receiver or shipment.key
    if index is not None:
        sender, receiver = index.identity(sender), index.identity(receiver)
        trader = receiver if shipment.is_import else sender
    else:
        trader = ""
    unit_value = value / float(quantity)
    return _Priced(shipment, group, float(quantity), value, unit_value, trader, (sender, receiver))


class _Prices:
    """One price per trading pair of a set of items: the median unit value of its items."""

    def __init__(self, items: list[_Priced]) -> None:
        by_pair: dict[Pair, list[float]] = defaultdict(list)
        for item in items:
            by_pair[item.pair].append(item.unit_value)
        self.pairs = sorted(by_pair)
        self.price = {p: median(by_pair[p]) for p in self.pairs}
        self.count = {p: len(by_pair[p]) for p in self.pairs}

    def without(self, trader: str) -> tuple[list[float], int]:
        """The prices of the pairs ``trader`` is no party to, and their shipment count."""
        keep = [p for p in self.pairs if trader not in p]
        return [self.price[p] for p in keep], sum(self.count[p] for p in keep)

    def pairs_of(self, trader: str) -> int:
        return sum(1 for p in self.pairs if trader in p)


def reference(
    prices: list[float],
    shipments: int,
    period: str,
    config: UnitValueConfig,
    candidates: list[float] | None = None,
) -> Reference | None:
    """Fences from one price per other trading pair (see the module docstring), or None when
    there are fewer than ``min_reference_prices`` of them, or when none of ``candidates``
    (the unit values to judge, if given) lies beyond the misstatement test's fences: the band
    only ever widens those, so nothing could be flagged and the band is not drawn (the
    medcouple is most of a run's time)."""
    if len(prices) < config.min_reference_prices:
        return None
    ordered = sorted(prices)
    q1, med, q3 = (quantile(ordered, q) for q in (0.25, 0.5, 0.75))
    ratio = config.misstatement_ratio
    if len(ordered) >= config.min_group_size:
        lower, upper = q1 / ratio, q3 * ratio
    else:
        # Quartiles of a few prices are an interpolation between two traders; there the test
        # is against the range instead: r times beyond every other trading pair's price.
        lower, upper = ordered[0] / ratio, ordered[-1] * ratio
    if candidates is not None and all(lower <= c <= upper for c in candidates):
        return None
    fences: Band | None = None
    band_lower = band_upper = None
    if len(ordered) >= config.min_group_size:
        values = [math.log(p) for p in ordered] if config.log_scale else ordered
        fences = band(values, config.method, config.k)
        band_lower, band_upper = fences.lower, fences.upper
        if config.log_scale:
            band_lower, band_upper = math.exp(band_lower), math.exp(band_upper)
        lower, upper = min(lower, band_lower), max(upper, band_upper)
    return Reference(
        period=period,
        prices=len(ordered),
        shipments=shipments,
        q1=q1,
        median=med,
        q3=q3,
        band=fences,
        band_lower=band_lower,
        band_upper=band_upper,
        lower=lower,
        upper=upper,
    )


def _outliers(
    items: list[_Priced], wider: list[tuple[str, _Prices]], config: UnitValueConfig
) -> list[tuple[_Priced, Reference, Typology]]:
    """Items outside the fences of the *other* traders' pair prices, with their reference.

    Each trader is measured against the pairs it is no party to, as customs valuation compares
    a declared value with other importers' transaction values for identical or similar goods
    (WTO Valuation Agreement, arts. 2-3): a trader who mis-invoices all its shipments would
    otherwise be part of its own yardstick. A trader in less than ``exclusion_share`` of the
    group's pairs barely moves the quartiles, so the whole group's reference is used for it
    (this keeps large groups at one reference instead of one per trader). When the period has
    fewer than ``min_group_size`` other pairs, the ``wider`` references are tried in turn
    (every period; then both flows): the first with enough pairs, else the widest.
    """
    here = _Prices(items)
    period = items[0].group[4]
    traders = sorted({item.trader for item in items})
    whole: Reference | None = None
    whole_done = False
    out: list[tuple[_Priced, Reference, Typology]] = []
    for trader in traders:
        own = [p for p in items if p.trader == trader]
        n_pairs = len(here.pairs)
        fences: Reference | None
        if n_pairs >= config.min_group_size and here.pairs_of(trader) < (
            config.exclusion_share * n_pairs
        ):
            if not whole_done:
                every = [here.price[p] for p in here.pairs]
                judged = [p.unit_value for p in items]
                whole = reference(every, len(items), period, config, judged)
                whole_done = True
            fences = whole
        else:
            prices, shipments = here.without(trader)
            label = period
            for wider_label, pool in wider:
                if len(prices) >= config.min_group_size:
                    break
                more, more_shipments = pool.without(trader)
                if len(more) > len(prices):
                    prices, shipments, label = more, more_shipments, wider_label
            judged = [p.unit_value for p in own]
            fences = reference(prices, shipments, label, config, judged)
        if fences is None:
            continue
        for item in own:
            side = fences.side(item.unit_value)
            if side is not None:
                out.append((item, fences, side))
    return out


def _moved(item: _Priced, fences: Reference, side: Typology) -> float:
    """Value moved by one item: its deviation beyond the band (or quartile) times quantity."""
    if side is Typology.OVER_INVOICING:
        return (item.unit_value - fences.base(side)) * item.quantity
    return (fences.base(side) - item.unit_value) * item.quantity


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
    groups: dict[Group, list[_Priced]] = defaultdict(list)
    for shipment in read_shipments(store):
        priced = price(shipment, config, index)
        if priced is not None:
            groups[priced.group].append(priced)
    flagged: dict[tuple[str, str, str, Typology], list[tuple[_Priced, Reference]]] = defaultdict(
        list
    )
    # The wider references: every period of the goods, flow, unit and currency; then both
    # flows as well (one trading pair declared on both sides is still one price).
    periods: dict[tuple[str, ...], list[_Priced]] = defaultdict(list)
    flows: dict[tuple[str, ...], list[_Priced]] = defaultdict(list)
    for key, items in groups.items():
        if config.fallback_all_periods:
            periods[key[:4]].extend(items)
        if config.fallback_both_flows:
            flows[(key[0], key[2], key[3])].extend(items)
    period_prices = {key: _Prices(items) for key, items in periods.items()}
    flow_prices = {key: _Prices(items) for key, items in flows.items()}
    for key in sorted(groups):
        wider = []
        if key[:4] in period_prices:
            wider.append(("all periods", period_prices[key[:4]]))
        if (key[0], key[2], key[3]) in flow_prices:
            wider.append(("all periods, both flows", flow_prices[(key[0], key[2], key[3])]))
        for item, fences, side in _outliers(groups[key], wider, config):
            sender, receiver = item.pair
            flagged[(sender, receiver, "|".join(key), side)].append((item, fences))
    alerts = [
        _alert(index, sender=sender, receiver=receiver, side=side, hits=hits, config=config)
        for (sender, receiver, _, side), hits in sorted(flagged.items(), key=lambda kv: kv[0])
        if sum(_moved(item, fences, side) for item, fences in hits) >= config.min_value_moved
    ]
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _alert(
    index: PartyIndex,
    *,
    sender: str,
    receiver: str,
    side: Typology,
    hits: list[tuple[_Priced, Reference]],
    config: UnitValueConfig,
) -> Alert:
    hits = sorted(hits, key=lambda h: h[0].shipment.key)
    hs6, flow, unit, currency, period = hits[0][0].group
    over = side is Typology.OVER_INVOICING
    shipments = []
    moved_total = 0.0
    for item, fences in hits:
        moved = _moved(item, fences, side)
        moved_total += moved
        shipments.append(
            {
                "declaration": item.shipment.key,
                "date": item.shipment.date,
                "quantity": item.quantity,
                "value": round(item.value, 2),
                "unit_value": round(item.unit_value, 6),
                "reference_period": fences.period,
                "reference_median": round(fences.median, 6),
                "fence": round(fences.fence(side), 6),
                "ratio_to_median": round(item.unit_value / fences.median, 4),
                "value_moved": round(moved, 2),
            }
        )
    extreme, fences = (max if over else min)(hits, key=lambda h: h[0].unit_value)
    fence = fences.fence(side)
    quartile = fences.q3 if over else fences.q1
    records = [node_evidence(item.shipment.node, amount=item.value) for item, _ in hits]
    money = currency.removeprefix("national:")
    if fences.band is None:
        band_name = "interquartile misstatement"
    elif fences.band.method is BandMethod.ADJUSTED:
        band_name = "adjusted-boxplot"
    else:
        band_name = f"IQR (k={config.k})"
    word = "above" if over else "below"
    summary = (
        f"{len(hits)} {flow} declaration(s) of HS {hs6} from {index.name(sender)} to"
        f" {index.name(receiver)} in {period} priced {word} the {band_name} fence of other"
        f" trading pairs' prices ({fence:,.2f} {money}/{unit}; extreme"
        f" {extreme.unit_value / fences.median:.2f}x their median): about {moved_total:,.0f}"
        f" {money} moved"
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
                explanation=f"most extreme unit value, {word} the {band_name} fence of the"
                f" {fences.prices} other trading pairs' prices of HS {hs6} ({flow}, {unit},"
                f" {money}, {fences.period})",
            ),
            Indicator(
                name="ratio_to_quartile",
                value=round(extreme.unit_value / quartile, 4),
                threshold=config.misstatement_ratio
                if over
                else round(1 / config.misstatement_ratio, 6),
                explanation=f"{'upper' if over else 'lower'} quartile of the reference"
                f" {quartile:,.4f}, median {fences.median:,.4f}",
            ),
            Indicator(
                name="estimated_value_moved",
                value=round(moved_total, 2),
                threshold=config.min_value_moved,
                explanation="deviation beyond the band's fence (or the quartile) times quantity,"
                " summed (a lower bound)",
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
            "reference": fences.as_details(config),
            "sender": sender,
            "receiver": receiver,
            "shipments": shipments,
        },
    )
