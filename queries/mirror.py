"""Mirror discrepancies: the two countries' records of the same trade disagree on its value.

**Declaration level** (:func:`detect_mirror_discrepancies`). An export declared in country A is
matched to the import of the same shipment declared in country B (B != A): same exporter and
importer (the same real party by entity resolution or identical tax id, or the same normalised
name in the same country), same HS 6 subheading, the import declared within ``max_days`` after
the export, and the quantity and the net mass (each when both sides give it) within
``quantity_tolerance``. Matching is one-to-one and greedy on (quantity difference, days apart,
keys), so it is deterministic: the quantity and weight are read off one packing list by both
administrations, so the same shipment agrees on them more closely than on the dates, while
in a busy relation the next shipment is often closer in time and within the tolerance.

Shipments that agree on parties, goods and dates but not on quantity are matched in a second
pass (``match_without_quantity``), and the quantity gap is shown as its own indicator: one side
under-declaring quantity *and* value keeps a normal unit value, so only the comparison of the
two sides shows it. Without a shipment reference common to both declarations such a match is
a guess, so the second pass is strict twice over:

- *pairing*: the leftover exports and imports of one trading relation that could belong
  together (same parties and goods, in the window) form a connected group; the group pairs
  only when it holds as many exports as imports and, taken in date order (shipments between
  two parties arrive in the order they left), every export meets its import within the
  window. An unbalanced group means a partner record is missing, so no pairing is trusted;
- *pattern*: a relation's (exporter, importer, HS 6) unreferenced pairs count only when at
  least ``min_unreferenced_pairs`` of them are beyond the gap threshold, all of those
  understate the same side, and none of the relation's shipments matched on quantity. A
  single mismatch is as likely two different shipments each missing its partner record, and
  so are mismatches in a relation whose two sides do agree at times; the same side
  under-declaring shipment after shipment, as the relation's habit, is the misdeclaration
  the typology describes.

A quantity match that leaps over the relation's own traffic both ways (an unmatched
candidate import of the export dated before its import, and an unmatched candidate export of
the import dated after its export) breaks the order shipments keep: it is more likely one
shipment's full quantity meeting another's understated one by coincidence, and it goes back
to the second pass.

The import value is CIF, the export value FOB, so the import is deflated by the IMF's
conventional CIF/FOB factor of 1.10 (IMF, *Direction of Trade Statistics Guide*, 1993: the
standard 10% used when the partner's freight and insurance are unknown) before the gap is
measured as ``|M/1.1 - X| / max(M/1.1, X)``. Values are compared in the invoice currency, which
is the same document on both sides (converted through the fixed ECB table of
``queries.projection`` when the two declarations name different currencies); pairs whose
values are missing or whose currencies cannot be converted are not compared.
Alerts are per trading pair, HS 6 and year of the export, listing each pair.

**Aggregate level** (:func:`detect_statistics_discrepancies`). ``TradeStatistic`` figures:
A's imports from B of an HS 6 in a period, deflated by the CIF/FOB factor, against B's exports
to A of the same HS 6 and period. Alerts name the two statistic nodes. Figures reported by one
side only cannot be compared; :func:`one_sided_statistics` lists them (a list of their own
rather than alert details, since there is no discrepancy to attach them to).

Complexity: declarations are indexed by (HS 6, exporter, importer) match keys, so matching is
O(D + C log C) for D declarations and C candidate pairs; statistics are O(S) for S figures.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from graph_models.records import Node
from graph_models.schema import Label
from graph_models.store.base import GraphStore
from loaders.keys import norm_text
from loaders.tax import parse_period
from queries.alerts import Alert, EvidenceRecord, Indicator, Typology, alert_id
from queries.misinvoicing import (
    PartyIndex,
    Shipment,
    days_between,
    latest_date,
    node_evidence,
    read_shipments,
)
from queries.projection import FxTable

DETECTOR = "mirror_declarations"
STATS_DETECTOR = "mirror_statistics"


class MirrorConfig(BaseModel):
    """Thresholds of the mirror comparisons (defaults and their sources in the descriptions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cif_fob_factor: float = Field(
        default=1.10,
        ge=1.0,
        description="imports (CIF) are divided by this before comparison with exports (FOB):"
        " the IMF's conventional 10% CIF/FOB margin (IMF, Direction of Trade Statistics Guide)",
    )
    gap_threshold: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="relative value gap |M_fob - X| / max(M_fob, X) that alerts: well beyond the"
        " residual freight, insurance and timing differences left after the CIF/FOB"
        " adjustment (judgement)",
    )
    min_gap_value: float = Field(
        default=1_000.0,
        ge=0,
        description="absolute gap (invoice currency) below which a pair is not worth an alert",
    )
    max_days: int = Field(
        default=60,
        ge=0,
        description="days from the export to the import declaration: covers deep-sea transit"
        " (about 20-45 days Asia-Europe) with room for clearance",
    )
    quantity_tolerance: float = Field(
        default=0.05,
        ge=0,
        description="relative quantity difference for a first-pass match (rounding, tare)",
    )
    match_without_quantity: bool = Field(
        default=True,
        description="second pass: pair the remaining exports and imports of one relation in"
        " date order whatever the quantity, when they balance (see the module docstring),"
        " showing the quantity gap as an indicator",
    )
    min_unreferenced_pairs: int = Field(
        default=3,
        ge=1,
        description="second-pass pairs of one relation (exporter, importer, HS 6) beyond the"
        " gap threshold, all understating the same side, needed before any of them alerts:"
        " without a shipment reference one or two mismatches are as likely different"
        " shipments whose partner records are missing (judgement: a pattern, three times)",
    )
    fx: FxTable = Field(
        default_factory=FxTable,
        description="invoice values in different currencies of the table are compared in its"
        " reference currency (ECB reference rates, see queries.projection)",
    )
    statistics_gap_threshold: float = Field(
        default=0.25, gt=0, lt=1, description="as gap_threshold, for partner statistics"
    )
    statistics_min_gap_value: float = Field(
        default=10_000.0, ge=0, description="absolute gap (USD) below which a figure is ignored"
    )
    statistics_pool_neighbours: bool = Field(
        default=True,
        description="a figure's gap must hold, in the same direction, when the adjacent periods"
        " are added to both sides: goods exported at the end of one period are imported in the"
        " next, so timing alone makes opposite gaps in consecutive periods (the timing"
        " asymmetry of mirror statistics, IMF Direction of Trade Statistics Guide)",
    )


# --- declaration level -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MirrorPair:
    export: Shipment
    imp: Shipment
    quantity_matched: bool


def _party_tokens(index: PartyIndex, key: str) -> set[str]:
    """What a party may be matched on: its real party, or a name in a country."""
    ident = index.identity(key)
    tokens = {f"id:{ident}"}
    for node in index.record_nodes(ident):
        name = node.properties.get("name_norm") or norm_text(str(node.properties.get("name", "")))
        country = node.properties.get("jurisdiction")
        if name and country:
            tokens.add(f"name:{name}|{country}")
    return tokens


def _quantity_gap(a: Shipment, b: Shipment) -> float | None:
    """The larger relative difference of the quantities (when both are in one unit) and of
    the net masses (when both sides give one): the same shipment agrees on both, while two
    different shipments of a few standard units (3 cars and 3 cars) often agree on count
    alone."""
    gaps = []
    if a.quantity and b.quantity and a.unit and a.unit == b.unit:
        gaps.append(abs(a.quantity - b.quantity) / max(a.quantity, b.quantity))
    if a.net_mass and b.net_mass:
        gaps.append(abs(a.net_mass - b.net_mass) / max(a.net_mass, b.net_mass))
    return max(gaps) if gaps else None


def match_pairs(
    shipments: Iterable[Shipment], index: PartyIndex, config: MirrorConfig
) -> list[MirrorPair]:
    """One-to-one matches of exports to the partner country's imports of the same shipment."""
    exports: list[Shipment] = []
    imports_by_key: dict[tuple[str, str, str], list[Shipment]] = defaultdict(list)
    for s in shipments:
        if not (s.hs6 and s.sender and s.receiver and s.reporting_country):
            continue
        if s.is_export:
            exports.append(s)
        elif s.is_import:
            for key in _match_keys(index, s):
                imports_by_key[key].append(s)
    candidates: dict[tuple[str, str], tuple[int, float, Shipment, Shipment]] = {}
    for x in exports:
        for key in _match_keys(index, x):
            for m in imports_by_key.get(key, ()):
                days = days_between(x.date, m.date)
                if m.reporting_country == x.reporting_country or not 0 <= days <= config.max_days:
                    continue
                gap = _quantity_gap(x, m)
                candidates[(x.key, m.key)] = (days, math.inf if gap is None else gap, x, m)
    return _one_to_one(list(candidates.values()), config)


def _one_to_one(
    candidates: list[tuple[int, float, Shipment, Shipment]], config: MirrorConfig
) -> list[MirrorPair]:
    """Greedy one-to-one assignment on quantity matches: closest in quantity, then in time,
    then by keys. The optional second pass pairs what is left in date order, group by group,
    where the groups balance (see the module docstring)."""
    ordered = sorted(candidates, key=lambda c: (c[1], c[0], c[2].key, c[3].key))
    used: set[str] = set()
    pairs: list[MirrorPair] = []
    for _days, gap, x, m in ordered:
        if x.key in used or m.key in used or not gap <= config.quantity_tolerance:
            continue
        used.update((x.key, m.key))
        pairs.append(MirrorPair(x, m, quantity_matched=True))
    if config.match_without_quantity:
        # Quantity matches that break the date order go back to the second pass (docstring).
        crossed = _crossing(pairs, ordered, used)
        pairs = [p for p in pairs if (p.export.key, p.imp.key) not in crossed]
        used -= {k for pair in crossed for k in pair}
        left = [(x, m) for _d, _g, x, m in ordered if x.key not in used and m.key not in used]
        pairs += _in_date_order(left, config)
    pairs.sort(key=lambda p: (p.export.key, p.imp.key))
    return pairs


def _crossing(
    pairs: list[MirrorPair],
    candidates: list[tuple[int, float, Shipment, Shipment]],
    used: set[str],
) -> set[tuple[str, str]]:
    """Quantity matches (export, import) with an unmatched candidate import of the export
    dated before the import, and an unmatched candidate export of the import dated after the
    export."""
    imports_of: dict[str, list[Shipment]] = defaultdict(list)
    exports_of: dict[str, list[Shipment]] = defaultdict(list)
    for _d, _g, x, m in candidates:
        imports_of[x.key].append(m)
        exports_of[m.key].append(x)
    out = set()
    for pair in pairs:
        x, m = pair.export, pair.imp
        before = any(o.key not in used and o.date < m.date for o in imports_of[x.key])
        after = any(o.key not in used and o.date > x.date for o in exports_of[m.key])
        if before and after:
            out.add((x.key, m.key))
    return out


def _in_date_order(left: list[tuple[Shipment, Shipment]], config: MirrorConfig) -> list[MirrorPair]:
    """Pairs of the balanced groups of leftover candidates, first export with first import.

    A group is a connected component of the candidate graph (export -- import when they may
    be one shipment). O(C log C) for C candidates."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        root = key
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    for x, m in left:
        parent[find(x.key)] = find(m.key)
    groups: dict[str, tuple[dict[str, Shipment], dict[str, Shipment]]] = defaultdict(
        lambda: ({}, {})
    )
    for x, m in left:
        exports, imports = groups[find(x.key)]
        exports[x.key], imports[m.key] = x, m
    out: list[MirrorPair] = []
    for exports, imports in groups.values():
        xs = sorted(exports.values(), key=lambda s: (s.date, s.key))
        ms = sorted(imports.values(), key=lambda s: (s.date, s.key))
        if len(xs) != len(ms):
            continue
        paired = list(zip(xs, ms, strict=True))
        if all(0 <= days_between(x.date, m.date) <= config.max_days for x, m in paired):
            out += [MirrorPair(x, m, quantity_matched=False) for x, m in paired]
    return out


def _patterned(
    pairs: list[tuple[MirrorPair, tuple[str, str, str], float, str]], config: MirrorConfig
) -> set[tuple[str, str, str]]:
    """Relations whose unreferenced pairs show the same side understated often enough, and
    none of whose declarations agree on quantity.

    ``pairs`` are (pair, relation, gap, understated side) of every matched pair."""
    sides: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    agreed: Counter[tuple[str, str, str]] = Counter()
    for pair, relation, gap, side in pairs:
        if pair.quantity_matched:
            agreed[relation] += 1
        elif gap >= config.gap_threshold:
            sides[relation].append(side)
    return {
        relation
        for relation, found in sides.items()
        if len(found) >= config.min_unreferenced_pairs
        and len(set(found)) == 1
        and agreed[relation] == 0
    }


def _match_keys(index: PartyIndex, s: Shipment) -> list[tuple[str, str, str]]:
    """(HS 6, sender token, receiver token) for every way the two parties may be recognised."""
    senders = sorted(_party_tokens(index, str(s.sender)))
    receivers = sorted(_party_tokens(index, str(s.receiver)))
    return [(str(s.hs6), st, rt) for st in senders for rt in receivers]


def _comparable(x: Shipment, m: Shipment, config: MirrorConfig) -> tuple[float, float, str] | None:
    """Both invoice values in one currency (converted through the FX table when they differ)."""
    if not (x.invoice_value and m.invoice_value):
        return None
    if x.currency == m.currency:
        return x.invoice_value, m.invoice_value, x.currency or "unknown"
    cx, vx = config.fx.normalise(x.invoice_value, x.currency)
    cm, vm = config.fx.normalise(m.invoice_value, m.currency)
    if cx != cm or vx is None or vm is None:
        return None
    return vx, vm, cx


def detect_mirror_discrepancies(
    store: GraphStore,
    *,
    config: MirrorConfig = MirrorConfig(),  # noqa: B008 (frozen, so a safe default)
    parties: PartyIndex | None = None,
) -> list[Alert]:
    """Alerts for matched export/import declaration pairs whose values disagree."""
    index = parties if parties is not None else PartyIndex.build(store)
    measured: list[tuple[MirrorPair, tuple[str, str, str], float, str]] = []
    for pair in match_pairs(read_shipments(store), index, config):
        values = _comparable(pair.export, pair.imp, config)
        if values is None:
            continue
        exported, imported, _currency = values
        imported_fob = imported / config.cif_fob_factor
        gap = abs(imported_fob - exported) / max(imported_fob, exported)
        side = "import" if imported_fob < exported else "export"
        # Matched pairs have both parties and an HS 6 (match_pairs skips any without).
        x = pair.export
        relation = (index.identity(str(x.sender)), index.identity(str(x.receiver)), str(x.hs6))
        measured.append((pair, relation, gap, side))
    patterned = _patterned(measured, config)
    flagged: dict[tuple[str, str, str, str], list[dict[str, object]]] = defaultdict(list)
    nodes: dict[str, Node] = {}
    for pair, relation, gap, side in measured:
        if not pair.quantity_matched and relation not in patterned:
            continue
        x, m = pair.export, pair.imp
        values = _comparable(x, m, config)
        assert values is not None  # measured pairs are comparable
        exported, imported, currency = values
        imported_fob = imported / config.cif_fob_factor
        diff = imported_fob - exported
        if gap < config.gap_threshold or abs(diff) < config.min_gap_value:
            continue
        qgap = _quantity_gap(x, m)
        flagged[(*relation, x.date[:4])].append(
            {
                "export_declaration": x.key,
                "import_declaration": m.key,
                "export_country": x.reporting_country,
                "import_country": m.reporting_country,
                "export_date": x.date,
                "import_date": m.date,
                "currency": currency,
                "export_value": round(exported, 2),
                "import_value": round(imported, 2),
                "import_value_fob": round(imported_fob, 2),
                "gap": round(gap, 4),
                "gap_value": round(abs(diff), 2),
                "understated_side": side,
                "quantity_matched": pair.quantity_matched,
                "quantity_gap": None if qgap is None else round(qgap, 4),
                "parties": sorted(
                    {index.identity(k) for k in (x.sender, x.receiver, m.sender, m.receiver) if k}
                ),
            }
        )
        nodes[x.key], nodes[m.key] = x.node, m.node
    alerts = [
        _declaration_alert(index, group, hits, nodes, config)
        for group, hits in sorted(flagged.items())
    ]
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _declaration_alert(
    index: PartyIndex,
    group: tuple[str, str, str, str],
    hits: list[dict[str, object]],
    nodes: dict[str, Node],
    config: MirrorConfig,
) -> Alert:
    sender, receiver, hs6, year = group
    worst = max(hits, key=lambda h: (float(str(h["gap"])), str(h["export_declaration"])))
    total = sum(float(str(h["gap_value"])) for h in hits)
    records: list[EvidenceRecord] = []
    for h in hits:
        for role, value_key in (("export", "export_value"), ("import", "import_value")):
            node = nodes[str(h[f"{role}_declaration"])]
            records.append(node_evidence(node, amount=float(str(h[value_key]))))
    currency = str(worst["currency"] or "")
    indicators = [
        Indicator(
            name="value_gap",
            value=float(str(worst["gap"])),
            threshold=config.gap_threshold,
            explanation=f"|import/{config.cif_fob_factor:g} - export| / larger side, worst pair"
            f" ({worst['export_country']} export vs {worst['import_country']} import)",
        ),
        Indicator(
            name="gap_value",
            value=round(total, 2),
            threshold=config.min_gap_value,
            explanation=f"value missing from the understated side, summed ({currency})",
        ),
    ]
    qgaps = [float(str(h["quantity_gap"])) for h in hits if h["quantity_gap"] is not None]
    if any(not h["quantity_matched"] for h in hits) and qgaps:
        indicators.append(
            Indicator(
                name="quantity_gap",
                value=max(qgaps),
                threshold=config.quantity_tolerance,
                explanation="the two sides also disagree on quantity (matched on parties,"
                " goods and dates)",
            )
        )
    sides = sorted({str(h["understated_side"]) for h in hits})
    summary = (
        f"{len(hits)} shipment(s) of HS {hs6} from {index.name(sender)} to"
        f" {index.name(receiver)} in {year}: the {' and '.join(sides)} side(s) declared up to"
        f" {float(str(worst['gap'])):.0%} less than the partner country after the CIF/FOB"
        f" adjustment ({total:,.0f} {currency} in all)"
    )
    members = [sender, receiver]
    return Alert(
        id=alert_id(Typology.MIRROR_DISCREPANCY, members, f"declarations|{hs6}|{year}"),
        typology=Typology.MIRROR_DISCREPANCY,
        detector=DETECTOR,
        score=math.log10(1 + total),
        summary=summary,
        entities=index.records_of(
            {str(p) for h in hits for p in _as_list(h["parties"])} | set(members)
        ),
        indicators=indicators,
        records=records,
        detected_on=latest_date(records),
        details={"hs6": hs6, "year": year, "sender": sender, "receiver": receiver, "pairs": hits},
    )


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


# --- aggregate level -------------------------------------------------------------------------


class OneSidedFlow(BaseModel):
    """A partner-statistics figure with no mirror figure from the partner country."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reporter: str
    partner: str
    flow: str
    hs6: str
    period: str
    value: float
    statistics: list[str]


@dataclass
class _Figure:
    value: float
    nodes: list[Node]


def _figures(store: GraphStore) -> dict[tuple[str, str, str, str, str], _Figure]:
    """Statistics summed per (reporter, partner, flow, HS 6, period)."""
    out: dict[tuple[str, str, str, str, str], _Figure] = {}
    for node in store.iter_nodes([Label.TRADE_STATISTIC]):
        p = node.properties
        value = p.get("value")
        if not isinstance(value, int | float) or str(p.get("flow")) not in ("import", "export"):
            continue
        key = (
            str(p["reporter"]),
            str(p["partner"]),
            str(p["flow"]),
            str(p["hs_code"])[:6],
            str(p["period"]),
        )
        fig = out.setdefault(key, _Figure(0.0, []))
        fig.value += float(value)
        fig.nodes.append(node)
    for fig in out.values():
        fig.nodes.sort(key=lambda n: n.key)
    return out


def _mirror_key(key: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
    reporter, partner, flow, hs6, period = key
    return (partner, reporter, "export" if flow == "import" else "import", hs6, period)


def detect_statistics_discrepancies(
    store: GraphStore,
    *,
    config: MirrorConfig = MirrorConfig(),  # noqa: B008 (frozen, so a safe default)
) -> list[Alert]:
    """Alerts where a country's imports (CIF, deflated) and its partner's exports disagree."""
    figures = _figures(store)
    periods_by_pair = _periods_by_pair(figures)
    alerts = []
    for key in sorted(figures):
        if key[2] != "import":
            continue
        mirror = figures.get(_mirror_key(key))
        if mirror is None:
            continue
        imp = figures[key]
        importer, exporter, _, hs6, period = key
        imported_fob = imp.value / config.cif_fob_factor
        exported = mirror.value
        biggest = max(imported_fob, exported)
        if biggest <= 0:
            continue
        diff = imported_fob - exported
        gap = abs(diff) / biggest
        if gap < config.statistics_gap_threshold or abs(diff) < config.statistics_min_gap_value:
            continue
        if config.statistics_pool_neighbours and not _persists(
            figures, periods_by_pair, key, diff, config
        ):
            continue
        nodes = [*imp.nodes, *mirror.nodes]
        records = [node_evidence(n, date_prop=None, amount_prop="value") for n in nodes]
        side = f"{importer}'s imports" if diff < 0 else f"{exporter}'s exports"
        alerts.append(
            Alert(
                id=alert_id(
                    Typology.MIRROR_DISCREPANCY, [n.key for n in nodes], f"statistics|{period}"
                ),
                typology=Typology.MIRROR_DISCREPANCY,
                detector=STATS_DETECTOR,
                score=math.log10(1 + abs(diff)),
                summary=(
                    f"HS {hs6} {exporter}->{importer} in {period}: {importer} reports imports of"
                    f" {imp.value:,.0f} ({imported_fob:,.0f} FOB), {exporter} exports of"
                    f" {exported:,.0f}: {side} {gap:.0%} lower"
                ),
                entities=[n.key for n in nodes],
                indicators=[
                    Indicator(
                        name="value_gap",
                        value=round(gap, 4),
                        threshold=config.statistics_gap_threshold,
                        explanation=f"|imports/{config.cif_fob_factor:g} - partner exports| /"
                        " larger side",
                    ),
                    Indicator(
                        name="gap_value",
                        value=round(abs(diff), 2),
                        threshold=config.statistics_min_gap_value,
                        explanation="USD",
                    ),
                ],
                records=records,
                detected_on=latest_date(records),
                details={
                    "importer_country": importer,
                    "exporter_country": exporter,
                    "hs6": hs6,
                    "period": period,
                    "imports_cif": imp.value,
                    "imports_fob": round(imported_fob, 2),
                    "partner_exports": exported,
                    "understated": "imports" if diff < 0 else "exports",
                },
            )
        )
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _adjacent(period: str, other: str) -> bool:
    """Whether two periods (``YYYY``, ``YYYY-Qn``, ``YYYY-MM``) follow each other."""
    try:
        a, b = parse_period(period), parse_period(other)
    except ValueError:
        return False
    one = timedelta(days=1)
    return a.last + one == b.first or b.last + one == a.first


def _periods_by_pair(
    figures: dict[tuple[str, str, str, str, str], _Figure],
) -> dict[tuple[str, str, str], set[str]]:
    """(country, country, HS 6) -> periods with a figure either way, countries sorted."""
    out: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for reporter, partner, _flow, hs6, period in figures:
        low, high = sorted((reporter, partner))
        out[(low, high, hs6)].add(period)
    return out


def _persists(
    figures: dict[tuple[str, str, str, str, str], _Figure],
    periods_by_pair: dict[tuple[str, str, str], set[str]],
    key: tuple[str, str, str, str, str],
    diff: float,
    config: MirrorConfig,
) -> bool:
    """The import figure's gap with the partner's exports, pooled with the adjacent periods of
    both flows, still passes the thresholds in the same direction."""
    importer, exporter, _, hs6, period = key
    low, high = sorted((importer, exporter))
    periods = {period} | {
        p for p in periods_by_pair.get((low, high, hs6), ()) if _adjacent(period, p)
    }
    imported = sum(
        f.value for p in periods if (f := figures.get((importer, exporter, "import", hs6, p)))
    )
    exported = sum(
        f.value for p in periods if (f := figures.get((exporter, importer, "export", hs6, p)))
    )
    imported_fob = imported / config.cif_fob_factor
    pooled = imported_fob - exported
    biggest = max(imported_fob, exported)
    return (
        biggest > 0
        and (pooled < 0) == (diff < 0)
        and abs(pooled) / biggest >= config.statistics_gap_threshold
        and abs(pooled) >= config.statistics_min_gap_value
    )


def one_sided_statistics(store: GraphStore) -> list[OneSidedFlow]:
    """Figures whose partner reported nothing for the same HS 6, flow and period."""
    figures = _figures(store)
    out = []
    for key in sorted(figures):
        if _mirror_key(key) in figures:
            continue
        reporter, partner, flow, hs6, period = key
        fig = figures[key]
        out.append(
            OneSidedFlow(
                reporter=reporter,
                partner=partner,
                flow=flow,
                hs6=hs6,
                period=period,
                value=fig.value,
                statistics=[n.key for n in fig.nodes],
            )
        )
    return out
