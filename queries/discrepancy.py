"""Customs-tax discrepancy: imports customs saw against the imports the tax return admits.

The tax returns are one country's (``tax_country``, inferred as the commonest jurisdiction of
their filers), so only import declarations lodged with that country's customs are compared:
an importer's declarations abroad are not its imports here. For each importer (the real party
behind the customs record, see
:class:`~queries.misinvoicing.PartyIndex`: the customs and tax records of one company meet
through ``SAME_AS`` when entity resolution has run, else through an identical normalised tax
id) and each tax return period, the customs value of the import declarations whose date falls
in the period is summed and compared with the return's ``imports_declared``, or its
``purchases`` when the return does not split imports out (purchases include domestic ones, so
customs imports above purchases are still a discrepancy). VAT returns are used when the
company files any, else income tax returns, so one period is not compared twice.

The customs value is the basis of import VAT (CIF plus duties, EU VAT Directive 2006/112/EC
art. 85-86), so a return that admits far less than customs recorded hides imports or their
resale. The alert fires when both the ratio customs / tax and the absolute gap exceed their
thresholds. Values are in national currency on both sides (customs value and tax return), so
no conversion is needed; a declaration without a customs value falls back to its invoice
value.

A declaration whose importer record carries no identifier of its own and a name that two or
more identified companies of its country bear is attributed to nobody: entity resolution may
have joined it to one of them, but the declaration cannot say which one imported (see
:mod:`queries.namesakes`; ``attribute_ambiguous_names`` counts it anyway).

Declarations of an importer that files no return at all, or only nil returns (every figure
zero), are not compared here by default: declaring no activity at all is the missing-trader
and shell signal (the VAT carousel's ``nil_vat_returns`` / ``missing_vat_returns`` and the
shell detector's ``low_tax_turnover`` / ``no_tax_returns``), not a gap between two declared
figures (``skip_nil_returns``).

Complexity: O(D + R + D_c log D_c) for D declarations, R returns and D_c declarations of one
company (sorted once, then each period is a bisected range).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from graph_models.records import Node
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.tax import parse_period
from queries.alerts import Alert, Indicator, Typology, alert_id
from queries.misinvoicing import (
    PartyIndex,
    Shipment,
    latest_date,
    node_evidence,
    read_shipments,
    tax_jurisdiction,
)
from queries.namesakes import ambiguous_records

DETECTOR = "customs_tax"


class CustomsTaxConfig(BaseModel):
    """Thresholds of the customs-tax comparison (defaults and rationale in the descriptions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ratio_threshold: float = Field(
        default=2.0,
        gt=1.0,
        description="customs imports at least this many times the tax figure: twice leaves room"
        " for timing (declaration date vs tax point) and valuation differences (judgement)",
    )
    min_gap: float = Field(
        default=10_000.0,
        ge=0,
        description="absolute gap (national currency) below which a period is not worth an alert",
    )
    tax_country: str | None = Field(
        default=None,
        description="ISO alpha-2 country of the tax returns; None infers it as the commonest"
        " jurisdiction of the filers. Only imports declared to that country's customs count",
    )
    skip_nil_returns: bool = Field(
        default=True,
        description="a return whose every figure is zero or missing declares no activity at"
        " all: that is the missing-trader and shell signal (carousel: nil_vat_returns, shell:"
        " low_tax_turnover), not a gap between two declared figures",
    )
    attribute_ambiguous_names: bool = Field(
        default=False,
        description="count a declaration whose importer record has no identifier and a name"
        " two identified companies of its country share (see the module docstring)",
    )
    max_evidence: int = Field(
        default=50,
        ge=1,
        description="declarations listed as evidence per alert (largest first; all are counted)",
    )


def _customs_value(shipment: Shipment) -> float | None:
    return shipment.customs_value or shipment.invoice_value


def _returns_by_party(store: GraphStore, index: PartyIndex) -> dict[str, list[Node]]:
    returns = {n.key: n for n in store.iter_nodes([Label.TAX_RETURN])}
    out: dict[str, list[Node]] = defaultdict(list)
    for rel in store.iter_relationships([RelType.FILED]):
        if rel.end in returns:
            out[index.identity(rel.start)].append(returns[rel.end])
    for nodes in out.values():
        nodes.sort(key=lambda n: n.key)
    return out


def _comparable(returns: list[Node]) -> list[Node]:
    """VAT returns when the company files any, else income tax returns."""
    vat = [r for r in returns if r.properties.get("tax_type") == "vat"]
    return vat or [r for r in returns if r.properties.get("tax_type") == "income"]


_FIGURES = (
    "turnover",
    "purchases",
    "imports_declared",
    "exports_declared",
    "vat_charged",
    "vat_paid",
    "vat_reclaimed",
)


def is_nil_return(tax_return: Node) -> bool:
    """Every figure of the return is zero or missing."""
    return not any(
        isinstance(v := tax_return.properties.get(f), int | float) and v != 0 for f in _FIGURES
    )


def _tax_figure(tax_return: Node) -> tuple[str, float] | None:
    for field in ("imports_declared", "purchases"):
        value = tax_return.properties.get(field)
        if isinstance(value, int | float):
            return field, float(value)
    return None


def detect_customs_tax_discrepancies(
    store: GraphStore,
    *,
    config: CustomsTaxConfig = CustomsTaxConfig(),  # noqa: B008 (frozen, so a safe default)
    parties: PartyIndex | None = None,
) -> list[Alert]:
    """One alert per importer and return period whose customs imports exceed the return's."""
    index = parties if parties is not None else PartyIndex.build(store)
    returns = _returns_by_party(store, index)
    country = config.tax_country or tax_jurisdiction(index, returns)
    imports: dict[str, list[tuple[str, float, Shipment]]] = defaultdict(list)
    ambiguous = (
        frozenset()
        if config.attribute_ambiguous_names
        else ambiguous_records(index.nodes, index.canonical)
    )
    for s in read_shipments(store):
        value = _customs_value(s)
        if s.is_import and s.receiver and value and s.reporting_country == country:
            if s.receiver in ambiguous:
                continue
            imports[index.identity(s.receiver)].append((s.date, value, s))
    alerts: list[Alert] = []
    for party in sorted(set(imports) & set(returns)):
        dated = sorted(imports[party], key=lambda t: (t[0], t[2].key))
        days = [d for d, _, _ in dated]
        for tax_return in _comparable(returns[party]):
            alert = _compare(
                index, party, tax_return=tax_return, dated=dated, days=days, config=config
            )
            if alert is not None:
                alerts.append(alert)
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _compare(
    index: PartyIndex,
    party: str,
    *,
    tax_return: Node,
    dated: list[tuple[str, float, Shipment]],
    days: list[str],
    config: CustomsTaxConfig,
) -> Alert | None:
    figure = _tax_figure(tax_return)
    if config.skip_nil_returns and is_nil_return(tax_return):
        return None
    try:
        period = parse_period(str(tax_return.properties.get("period", "")))
    except ValueError:
        return None
    if figure is None:
        return None
    field, declared = figure
    lo = bisect.bisect_left(days, period.first.isoformat())
    hi = bisect.bisect_right(days, period.last.isoformat())
    in_period = dated[lo:hi]
    customs = sum(v for _, v, _ in in_period)
    gap = customs - declared
    ratio = customs / declared if declared > 0 else math.inf
    if not in_period or ratio < config.ratio_threshold or gap < config.min_gap:
        return None
    largest = sorted(in_period, key=lambda t: (-t[1], t[2].key))[: config.max_evidence]
    records = [node_evidence(tax_return, date_prop=None, amount_prop=field)]
    records += [node_evidence(s.node, amount=v) for _, v, s in largest]
    what = "imports" if field == "imports_declared" else "purchases"
    ratio_text = "nothing" if math.isinf(ratio) else f"1/{ratio:.1f} of that"
    summary = (
        f"{index.name(party)} imported {customs:,.0f} through customs in {period.text}"
        f" ({len(in_period)} declaration(s)) but its {tax_return.properties.get('tax_type')}"
        f" return declares {what} of {declared:,.0f} ({ratio_text})"
    )
    return Alert(
        id=alert_id(Typology.CUSTOMS_TAX_DISCREPANCY, [party], period.text),
        typology=Typology.CUSTOMS_TAX_DISCREPANCY,
        detector=DETECTOR,
        score=math.log10(1 + gap),
        summary=summary,
        entities=index.records_of([party]),
        indicators=[
            Indicator(
                name="customs_to_tax_ratio",
                value=round(ratio, 4) if math.isfinite(ratio) else "inf",
                threshold=config.ratio_threshold,
                explanation=f"customs import value / {field} on the return",
            ),
            Indicator(
                name="gap",
                value=round(gap, 2),
                threshold=config.min_gap,
                explanation="customs import value minus the tax figure (national currency)",
            ),
        ],
        records=records,
        detected_on=latest_date(records[1:]) or records[0].date,
        details={
            "party": party,
            "period": period.text,
            "tax_return": tax_return.key,
            "tax_field": field,
            "tax_value": declared,
            "customs_imports": round(customs, 2),
            "declarations": len(in_period),
        },
    )
