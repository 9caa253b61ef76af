"""VAT carousel / missing-trader fraud (MTIC): goods enter VAT-free, VAT is charged and vanishes.

The chain (Europol / European Court of Auditors, Special report 24/2015 "Tackling intra-
Community VAT fraud"; Keen & Smith 2006, "VAT fraud and evasion: what do we know and what can
be done?", National Tax Journal 59(4)):

1. **Acquisition.** A trader receives goods VAT-free from abroad: an import declaration in its
   own country, or a shipment from a party in another country (an intra-Community
   acquisition, zero-rated at dispatch).
2. **Missing trader.** It sells them on domestically charging VAT it never pays: its VAT
   returns for the periods it traded show VAT charged but (almost) none paid, or are nil while
   it trades, or are missing altogether. A short life (incorporated shortly before it starts
   trading, dissolved soon after it stops) is the usual shape and adds to the score.
3. **Onward supply.** The goods go on to domestic buyers (buffers), seen as a domestic
   ``SHIPPED_TO`` or as a payment from the buyer's account to the trader's (the consideration
   for a domestic supply; accounts are lifted to their single holder).
4. **Broker.** Within ``max_hops`` domestic supplies, a trader reclaims input VAT
   (``vat_reclaimed`` at least ``min_reclaim``) and/or exports the goods again (zero-rated), in
   a closed carousel often back to the supplier of step 1.

An alert needs 1, 2, 3 and a broker in 4; a closed cycle is not required (so the cycle finder
is not used). One alert per missing trader names the suppliers, the missing trader, the
buffers on the shortest paths and the brokers.

Score: log10(1 + VAT at stake) + 0.5 per supporting indicator (short life, broker reclaims,
broker exports, closed loop), where VAT at stake is the larger of the missing trader's unpaid
VAT (charged minus paid) and the brokers' reclaims.

Parties are the real parties of :class:`~queries.misinvoicing.PartyIndex` (resolved entity,
else identical tax id), so a customs importer, its tax record and its FIU account holder are
one trader. A holder record with no identifier whose name namesakes share
(:mod:`queries.namesakes`) does not make an account joint when another holder record of it
identifies its party: the payments would otherwise stop at the account.

Complexity: O(D + P + R) to read D declarations, P payments and R returns; a bounded BFS of
``max_hops`` over domestic supplies per candidate missing trader.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from graph_models.records import Node, Relationship
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.tax import parse_period
from queries.alerts import Alert, EvidenceRecord, Indicator, Typology, alert_id
from queries.misinvoicing import (
    PartyIndex,
    Shipment,
    account_country,
    latest_date,
    node_evidence,
    read_shipments,
    rel_evidence,
    tax_jurisdiction,
)
from queries.namesakes import ambiguous_records

DETECTOR = "vat_carousel"
_EVIDENCE_PER_KIND = 20


class CarouselConfig(BaseModel):
    """Thresholds of the missing-trader detector (rationale in the descriptions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unpaid_ratio: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description="VAT paid at most this share of VAT charged counts as not paid (a missing"
        " trader pays nothing or a token amount; judgement)",
    )
    min_reclaim: float = Field(
        default=10_000.0,
        ge=0,
        description="VAT reclaimed (national currency, summed) from which a buyer is a broker",
    )
    max_hops: int = Field(
        default=4,
        ge=1,
        description="domestic supplies from the missing trader to the broker: one to three"
        " buffers is the common shape (ECA special report 24/2015)",
    )
    recent_days: int = Field(
        default=365,
        ge=0,
        description="incorporated at most this many days before its first acquisition: short life",
    )
    dissolution_days: int = Field(
        default=365,
        ge=0,
        description="dissolved at most this many days after its last trade: short life",
    )


@dataclass(frozen=True, slots=True)
class _Supply:
    """A domestic supply seller -> buyer, seen as goods shipped or as a payment for them."""

    seller: str
    buyer: str
    date: str
    rel: Relationship


@dataclass
class _Facts:
    index: PartyIndex
    countries: dict[str, set[str]]
    acquisitions: dict[str, list[Shipment]] = field(default_factory=dict)
    exports: dict[str, list[Shipment]] = field(default_factory=dict)
    supplies: dict[str, list[_Supply]] = field(default_factory=dict)
    vat_returns: dict[str, list[tuple[Node, str, str]]] = field(default_factory=dict)
    incorporated: dict[str, str] = field(default_factory=dict)
    dissolved: dict[str, str] = field(default_factory=dict)
    tax_country: str | None = None


def _read(store: GraphStore) -> _Facts:
    index = PartyIndex.build(store)
    countries: dict[str, set[str]] = defaultdict(set)
    for ident in index.identities():
        countries[ident].update(index.values(ident, "jurisdiction"))
    # An account's holder records name one party, unless a name-only record that namesakes
    # share (queries.namesakes) was resolved to the other namesake: such a record names no
    # one when the account has a holder record that identifies its party.
    ambiguous = ambiguous_records(index.nodes, index.canonical)
    named: dict[str, set[str]] = defaultdict(set)
    vague: dict[str, set[str]] = defaultdict(set)
    for rel in store.iter_relationships([RelType.HOLDS]):
        (vague if rel.start in ambiguous else named)[rel.end].add(index.identity(rel.start))
    holders: dict[str, set[str]] = {
        acct: named.get(acct) or vague[acct] for acct in sorted(named.keys() | vague.keys())
    }
    accounts = store.get_nodes(sorted(holders))
    for key, node in accounts.items():
        country = account_country(node)
        for holder in holders[key]:
            if country and not index.values(holder, "jurisdiction"):
                countries[holder].add(country)
    facts = _Facts(index=index, countries=dict(countries))
    _read_customs(store, facts)
    _read_supplies(store, facts, holders)
    _read_returns(store, facts)
    return facts


def _read_customs(store: GraphStore, facts: _Facts) -> None:
    index = facts.index
    acquisitions: dict[str, list[Shipment]] = defaultdict(list)
    exports: dict[str, list[Shipment]] = defaultdict(list)
    for s in read_shipments(store):
        if s.receiver is not None:
            buyer = index.identity(s.receiver)
            home = facts.countries.get(buyer, set())
            # Imported into the buyer's own country, or dispatched to it from another country.
            imported = s.is_import and s.reporting_country in home
            arrived = bool(s.dispatch_country) and bool(home) and s.dispatch_country not in home
            if imported or (arrived and not s.is_export):
                acquisitions[buyer].append(s)
        if s.sender is not None:
            seller = index.identity(s.sender)
            home = facts.countries.get(seller, set())
            left = bool(s.destination_country) and bool(home) and s.destination_country not in home
            if (s.is_export and s.reporting_country in home) or (left and not s.is_import):
                exports[seller].append(s)
    facts.acquisitions = dict(acquisitions)
    facts.exports = dict(exports)


def _read_supplies(store: GraphStore, facts: _Facts, holders: dict[str, set[str]]) -> None:
    index = facts.index

    def lift(key: str) -> str:
        owners = holders.get(key)
        if owners is not None and len(owners) == 1:
            return next(iter(owners))
        return index.identity(key)

    supplies: dict[str, list[_Supply]] = defaultdict(list)
    rels = sorted(
        store.iter_relationships([RelType.SHIPPED_TO, RelType.PAID]), key=lambda r: r.identity
    )
    for rel in rels:
        start, end = lift(rel.start), lift(rel.end)
        # Goods go seller -> buyer; a payment goes buyer -> seller.
        seller, buyer = (start, end) if rel.type is RelType.SHIPPED_TO else (end, start)
        if seller == buyer or not _domestic(facts, seller, buyer):
            continue
        supplies[seller].append(_Supply(seller, buyer, str(rel.properties.get("date", "")), rel))
    facts.supplies = dict(supplies)


def _domestic(facts: _Facts, a: str, b: str) -> bool:
    return bool(facts.countries.get(a, set()) & facts.countries.get(b, set()))


def _read_returns(store: GraphStore, facts: _Facts) -> None:
    index = facts.index
    nodes = {
        n.key: n
        for n in store.iter_nodes([Label.TAX_RETURN])
        if n.properties.get("tax_type") == "vat"
    }
    returns: dict[str, list[tuple[Node, str, str]]] = defaultdict(list)
    for rel in store.iter_relationships([RelType.FILED]):
        node = nodes.get(rel.end)
        if node is None:
            continue
        try:
            period = parse_period(str(node.properties.get("period", "")))
        except ValueError:
            continue
        returns[index.identity(rel.start)].append(
            (node, period.first.isoformat(), period.last.isoformat())
        )
    facts.vat_returns = {k: sorted(v, key=lambda t: t[0].key) for k, v in returns.items()}
    # The VAT data is one country's: only a trader of that country can be missing from it.
    facts.tax_country = tax_jurisdiction(index, returns)
    for ident in index.identities():
        inc = index.values(ident, "incorporation_date")
        dis = index.values(ident, "dissolution_date")
        if inc:
            facts.incorporated[ident] = inc[0]
        if dis:
            facts.dissolved[ident] = dis[-1]


# --- the chain -------------------------------------------------------------------------------


def _num(node: Node, prop: str) -> float:
    value = node.properties.get(prop)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


@dataclass
class _Default:
    """Why a trader is a missing trader, and the VAT it left unpaid."""

    indicator: Indicator
    unpaid: float
    returns: list[Node]


def _vat_default(
    facts: _Facts, trader: str, trade_dates: list[str], config: CarouselConfig
) -> _Default | None:
    returns = facts.vat_returns.get(trader, [])
    covering = [r for r in returns if any(r[1] <= d <= r[2] for d in trade_dates)]
    uncovered = sorted({d[:7] for d in trade_dates if not any(r[1] <= d <= r[2] for r in returns)})
    nodes = [r[0] for r in covering]
    charged = sum(_num(n, "vat_charged") for n in nodes)
    paid = sum(_num(n, "vat_paid") for n in nodes)
    if charged > 0 and paid <= config.unpaid_ratio * charged:
        return _Default(
            Indicator(
                name="vat_unpaid",
                value=round(paid / charged, 4),
                threshold=config.unpaid_ratio,
                explanation=f"VAT charged {charged:,.0f}, paid {paid:,.0f} in the periods it"
                " traded",
            ),
            charged - paid,
            nodes,
        )
    nil = all(_num(n, "turnover") <= 0 and _num(n, "vat_charged") <= 0 for n in nodes)
    if nodes and nil:
        return _Default(
            Indicator(
                name="nil_vat_returns",
                value=float(len(nodes)),
                explanation="every VAT return for the periods it traded is nil",
            ),
            0.0,
            nodes,
        )
    ours = facts.tax_country in facts.countries.get(trader, set())
    if uncovered and ours and not covering:
        return _Default(
            Indicator(
                name="missing_vat_returns",
                value=float(len(uncovered)),
                explanation=f"no VAT return covers its trade in {', '.join(uncovered[:6])}"
                f"{'...' if len(uncovered) > 6 else ''}",
            ),
            0.0,
            nodes,
        )
    return None


def _downstream(
    facts: _Facts, start: str, since: str, config: CarouselConfig
) -> dict[str, list[_Supply]]:
    """Shortest supply path (BFS, at most ``max_hops``) from ``start`` to each reachable party,
    using supplies dated on or after ``since``."""
    paths: dict[str, list[_Supply]] = {start: []}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if len(paths[node]) >= config.max_hops:
            continue
        for supply in facts.supplies.get(node, []):
            if supply.buyer in paths or supply.date < since:
                continue
            paths[supply.buyer] = [*paths[node], supply]
            queue.append(supply.buyer)
    del paths[start]
    return paths


@dataclass
class _Broker:
    party: str
    path: list[_Supply]
    reclaimed: float
    returns: list[Node]
    exports: list[Shipment]


def _broker(
    facts: _Facts, party: str, path: list[_Supply], since: str, config: CarouselConfig
) -> _Broker | None:
    returns = [r[0] for r in facts.vat_returns.get(party, []) if r[2] >= since]
    reclaimed = sum(_num(n, "vat_reclaimed") for n in returns)
    exports = [s for s in facts.exports.get(party, []) if s.date >= since]
    if reclaimed >= config.min_reclaim or exports:
        reclaiming = [n for n in returns if _num(n, "vat_reclaimed") > 0]
        return _Broker(party, path, reclaimed, reclaiming, exports)
    return None


def detect_vat_carousels(
    store: GraphStore,
    *,
    config: CarouselConfig = CarouselConfig(),  # noqa: B008 (frozen, so a safe default)
) -> list[Alert]:
    """One ``vat_carousel`` alert per missing trader with a broker downstream."""
    facts = _read(store)
    alerts = []
    for trader in sorted(facts.acquisitions):
        acquired = sorted(facts.acquisitions[trader], key=lambda s: (s.date, s.key))
        since = acquired[0].date
        onward = [s for s in facts.supplies.get(trader, []) if s.date >= since]
        if not onward:
            continue
        trade_dates = sorted({s.date for s in acquired} | {s.date for s in onward})
        default = _vat_default(facts, trader, trade_dates, config)
        if default is None:
            continue
        brokers = [
            b
            for party, path in sorted(_downstream(facts, trader, since, config).items())
            if (b := _broker(facts, party, path, since, config)) is not None
        ]
        if brokers:
            alerts.append(
                _alert(
                    facts,
                    trader,
                    acquired=acquired,
                    onward=onward,
                    default=default,
                    brokers=brokers,
                    config=config,
                )
            )
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _short_life(
    facts: _Facts, trader: str, first: str, last: str, config: CarouselConfig
) -> Indicator | None:
    notes = []
    inc = facts.incorporated.get(trader)
    if inc:
        days = (date.fromisoformat(first) - date.fromisoformat(inc)).days
        if days <= config.recent_days:
            notes.append(f"incorporated {inc}, {days} days before its first acquisition")
    dis = facts.dissolved.get(trader)
    if dis:
        days = (date.fromisoformat(dis) - date.fromisoformat(last)).days
        if days <= config.dissolution_days:
            notes.append(f"dissolved {dis}, {days} days after its last trade")
    if not notes:
        return None
    return Indicator(
        name="short_life",
        value="; ".join(notes),
        threshold=f"{config.recent_days} / {config.dissolution_days} days",
        explanation="a missing trader lives only as long as the fraud",
    )


def _alert(
    facts: _Facts,
    trader: str,
    *,
    acquired: list[Shipment],
    onward: list[_Supply],
    default: _Default,
    brokers: list[_Broker],
    config: CarouselConfig,
) -> Alert:
    index = facts.index
    suppliers = sorted({index.identity(s.sender) for s in acquired if s.sender})
    buffers = sorted({p.buyer for b in brokers for p in b.path[:-1]} - {b.party for b in brokers})
    dates = sorted({s.date for s in acquired} | {s.date for s in onward})
    reclaimed = sum(b.reclaimed for b in brokers)
    exports = [s for b in brokers for s in b.exports]
    supplier_countries = {c for p in suppliers for c in facts.countries.get(p, set())}
    closed = [
        s
        for s in exports
        if (s.receiver and index.identity(s.receiver) in suppliers)
        or (s.destination_country and s.destination_country in supplier_countries)
    ]
    acquired_value = sum(s.customs_value or s.invoice_value or 0.0 for s in acquired)
    indicators = [
        Indicator(
            name="vat_free_acquisitions",
            value=float(len(acquired)),
            explanation=f"goods worth {acquired_value:,.0f} received from abroad"
            f" ({', '.join(sorted(supplier_countries)) or 'unknown country'})",
        ),
        default.indicator,
        Indicator(
            name="onward_supplies",
            value=float(len(onward)),
            explanation="domestic sales (shipments, or payments received from buyers)",
        ),
    ]
    supporting = 0
    life = _short_life(facts, trader, dates[0], dates[-1], config)
    if life is not None:
        indicators.append(life)
        supporting += 1
    if reclaimed >= config.min_reclaim:
        indicators.append(
            Indicator(
                name="broker_vat_reclaimed",
                value=round(reclaimed, 2),
                threshold=config.min_reclaim,
                explanation="input VAT reclaimed downstream on goods whose VAT was never paid",
            )
        )
        supporting += 1
    if exports:
        indicators.append(
            Indicator(
                name="broker_exports",
                value=float(len(exports)),
                explanation="the goods leave the country again, zero-rated",
            )
        )
        supporting += 1
    if closed:
        indicators.append(
            Indicator(
                name="closed_loop",
                value=True,
                explanation="re-exported to the original supplier or its country",
            )
        )
        supporting += 1
    at_stake = max(default.unpaid, reclaimed)
    records = _evidence(acquired, onward, default, brokers)
    broker_names = ", ".join(index.name(b.party) for b in brokers[:3])
    chain = " -> ".join([index.name(trader), *(index.name(p) for p in buffers[:2]), broker_names])
    summary = (
        f"Missing trader {index.name(trader)} acquired goods VAT-free ({len(acquired)}"
        f" shipment(s)), {default.indicator.name.replace('_', ' ')}, sold on {chain}"
        f"{'; broker reclaimed ' + format(reclaimed, ',.0f') + ' VAT' if reclaimed else ''}"
        f"{'; goods exported again' if exports else ''}"
    )
    members = [*suppliers, trader, *buffers, *(b.party for b in brokers)]
    return Alert(
        id=alert_id(Typology.VAT_CAROUSEL, [trader], "missing_trader"),
        typology=Typology.VAT_CAROUSEL,
        detector=DETECTOR,
        score=round(math.log10(1 + at_stake) + 0.5 * supporting, 6),
        summary=summary,
        entities=index.records_of(members),
        indicators=indicators,
        records=records,
        detected_on=latest_date(records),
        details={
            "missing_trader": trader,
            "suppliers": suppliers,
            "buffers": buffers,
            "brokers": [
                {
                    "party": b.party,
                    "path": [p.buyer for p in b.path],
                    "vat_reclaimed": round(b.reclaimed, 2),
                    "exports": len(b.exports),
                }
                for b in brokers
            ],
            "vat_unpaid": round(default.unpaid, 2),
            "vat_at_stake": round(at_stake, 2),
            "first_trade": dates[0],
            "last_trade": dates[-1],
        },
    )


def _evidence(
    acquired: list[Shipment], onward: list[_Supply], default: _Default, brokers: list[_Broker]
) -> list[EvidenceRecord]:
    records = [
        node_evidence(s.node, amount=s.customs_value or s.invoice_value)
        for s in acquired[:_EVIDENCE_PER_KIND]
    ]
    seen: set[tuple[str, str, str, str]] = set()
    chain = [*onward[:_EVIDENCE_PER_KIND], *(p for b in brokers for p in b.path)]
    for supply in chain:
        if supply.rel.identity not in seen:
            seen.add(supply.rel.identity)
            amount = "value" if supply.rel.type is RelType.SHIPPED_TO else "amount"
            records.append(rel_evidence(supply.rel, amount_prop=amount))
    records += [
        node_evidence(n, date_prop=None, amount_prop="vat_charged") for n in default.returns
    ]
    for b in brokers:
        records += [
            node_evidence(n, date_prop=None, amount_prop="vat_reclaimed") for n in b.returns
        ]
        records += [
            node_evidence(s.node, amount=s.invoice_value or s.customs_value)
            for s in b.exports[:_EVIDENCE_PER_KIND]
        ]
    return records
