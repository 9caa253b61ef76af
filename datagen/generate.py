"""``generate``: the whole multi-agency data set and its ground truth, deterministically.

Order of work: the population, then the planted schemes (which add their actors and build
their records), then the files, each streamed day by day with the planted records of the day
merged in, then the files that summarise others (tax returns from customs totals, trade
statistics), and last ``truth.json``. Every random draw comes from a ``random.Random`` seeded
from the run's seed and the purpose, so the same seed and scale give byte-identical files.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from datagen import truth as keys_of
from datagen.background import Banking, Trade, Travel, days
from datagen.population import Company, Population
from datagen.rows import Cash, Customs, Fiu, Ledger, company_row, officer_rows
from datagen.schemes import Plan, Planned, Planter, TaxPlan
from datagen.truth import EntityTruth, SchemeDraft, write_truth
from datagen.world import END, GBP_PER_UNIT, HOME, VAT_RATE, YEARS
from datagen.writers import (
    CASH,
    CASH_COLUMNS,
    COMPANIES,
    COMPANY_COLUMNS,
    CTR,
    CTR_COLUMNS,
    DECLARATION_COLUMNS,
    DECLARATIONS,
    OFFICER_COLUMNS,
    OFFICERS,
    STR,
    TAX,
    TAX_COLUMNS,
    TRADESTAT_COLUMNS,
    TRADESTATS,
    CsvSink,
    El,
    GoamlSink,
    Row,
    money,
)

TRUTH = "truth.json"


class GenerationSummary(BaseModel):
    """What one run wrote: record counts per file, entities and schemes."""

    model_config = ConfigDict(extra="forbid")

    out: str
    seed: int
    scale: float
    files: dict[str, int]
    entities: int
    schemes: int
    typologies: dict[str, int]


def generate(out: Path, *, scale: float = 1.0, seed: int = 0) -> GenerationSummary:
    """Write the data set under ``out``; the same ``seed`` and ``scale`` give the same bytes.

    Scale 1 writes about 10,000 customs declaration rows (scale 100 about a million).
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, not {scale!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    def rng(purpose: str) -> random.Random:
        # Synthetic data, not secrets: a seeded Mersenne Twister is exactly what is wanted.
        return random.Random(f"iffgraph-datagen:{seed}:{purpose}")  # noqa: S311

    pop = Population(rng("population"), scale)
    pop.build()
    ledger = Ledger()
    customs = Customs(rng("customs"), pop, ledger)
    fiu = Fiu(rng("fiu"), pop)
    cash = Cash(rng("cash"))
    plan = Planter(rng("schemes"), pop, customs=customs, fiu=fiu, cash=cash, scale=scale).plant()
    counts: dict[str, int] = {}

    counts.update(_registry(out, rng("registry"), pop, plan))
    trade = Trade(rng("trade"), pop, customs, scale)
    counts[DECLARATIONS] = _stream_declarations(out, rng("order"), customs, trade, plan)
    travel = Travel(rng("travel"), pop, cash, scale)
    counts[CASH] = _stream_csv(
        out,
        name=CASH,
        columns=CASH_COLUMNS,
        rng=rng("order-cash"),
        produce=travel.rows,
        planned=plan.cash,
        drafts=plan.drafts,
        stamp=_numbered("declaration_id", "CD"),
    )
    banking = Banking(rng("banking"), pop, fiu, scale)
    counts[CTR] = _stream_csv(
        out,
        name=CTR,
        columns=CTR_COLUMNS,
        rng=rng("order-ctr"),
        produce=banking.ctr_rows,
        planned=plan.ctr,
        drafts=plan.drafts,
        stamp=_numbered("report_id", "CTR"),
    )
    counts[STR] = _stream_reports(out, rng("order-str"), fiu, banking, plan)
    counts[TAX] = _tax_returns(out, rng("tax"), pop, ledger, plan)
    counts[TRADESTATS] = _trade_statistics(out, ledger)

    keyed = [
        (kind, e)
        for kind, group in (("company", pop.companies), ("person", pop.persons))
        for e in group
        if e.node_keys
    ]
    entity_keys = {e.id: e.node_keys for _, e in keyed}
    schemes = [d.finish(entity_keys) for d in plan.drafts.values()]
    entities = write_truth(
        out / TRUTH,
        seed=seed,
        scale=scale,
        files=dict(sorted(counts.items())),
        entities=(
            EntityTruth(id=e.id, kind=kind, name=e.name, node_keys=sorted(e.node_keys))
            for kind, e in keyed
        ),
        schemes=schemes,
        hard_negatives=[
            p for p in pop.hard_negatives if p[0] in entity_keys and p[1] in entity_keys
        ],
        gbp_per_unit=dict(sorted(GBP_PER_UNIT.items())),
    )
    typologies: dict[str, int] = {}
    for scheme in schemes:
        typologies[scheme.typology] = typologies.get(scheme.typology, 0) + 1
    return GenerationSummary(
        out=str(out),
        seed=seed,
        scale=scale,
        files=dict(sorted(counts.items())),
        entities=entities,
        schemes=len(schemes),
        typologies=typologies,
    )


# --- streams -----------------------------------------------------------------------------------
def _numbered(column: str, prefix: str) -> Callable[[Row, int], None]:
    """Stamp a record id when a row is written (so ids follow the file order)."""

    def stamp(row: Row, n: int) -> None:
        row[column] = f"{prefix}{row[_DATE_COLUMN[column]][:4]}{n:07d}"

    return stamp


_DATE_COLUMN = {"declaration_id": "declaration_date", "report_id": "transaction_date"}


def _merge(
    rng: random.Random, background: list[list[Row]], planned: list[Planned]
) -> list[tuple[list[Row], tuple[str, ...]]]:
    groups: list[tuple[list[Row], tuple[str, ...]]] = [(g, ()) for g in background]
    groups.extend((p.rows, p.schemes) for p in planned)
    rng.shuffle(groups)
    return groups


def _stream_csv(
    out: Path,
    *,
    name: str,
    columns: tuple[str, ...],
    rng: random.Random,
    produce: Callable[[date], list[list[Row]]],
    planned: dict[date, list[Planned]],
    drafts: dict[str, SchemeDraft],
    stamp: Callable[[Row, int], None],
) -> int:
    with CsvSink(out, name, columns) as sink:
        for day in days():
            for rows, schemes in _merge(rng, produce(day), planned.pop(day, [])):
                for row in rows:
                    stamp(row, sink.rows + 1)
                    record_id = sink.write(row)
                    for sid in schemes:
                        drafts[sid].record(name, record_id)
        return sink.rows


def _stream_declarations(
    out: Path, rng: random.Random, customs: Customs, trade: Trade, plan: Plan
) -> int:
    with CsvSink(out, DECLARATIONS, DECLARATION_COLUMNS) as sink:
        for day in days():
            planned = plan.declarations.pop(day, [])
            for rows, schemes in _merge(rng, trade.day(day), planned):
                number = customs.number(rows[0]["reporting_country"], day)
                for row in rows:
                    row["declaration_number"] = number
                    record_id = sink.write(row)
                    for sid in schemes:
                        plan.drafts[sid].record(DECLARATIONS, record_id)
        return sink.rows


def _stream_reports(out: Path, rng: random.Random, fiu: Fiu, banking: Banking, plan: Plan) -> int:
    with GoamlSink(out, STR) as sink:
        for day in days():
            reports: list[tuple[El, tuple[str, ...]]] = [(r, ()) for r in banking.str_reports(day)]
            reports.extend((p.report, p.schemes) for p in plan.strs.pop(day, []))
            rng.shuffle(reports)
            for report, schemes in reports:
                fiu.stamp(report)
                path, tx_paths = sink.write(report)
                for sid in schemes:
                    plan.drafts[sid].record(STR, path)
                    for tx in tx_paths:
                        plan.drafts[sid].record(STR, tx)
        return sink.reports


# --- registry ----------------------------------------------------------------------------------
def _registry(out: Path, rng: random.Random, pop: Population, plan: Plan) -> dict[str, int]:
    # A register extract is ordered by jurisdiction and incorporation, not by creation here.
    ordered = sorted(
        pop.companies, key=lambda c: (c.country, c.incorporation, c.registration_number)
    )
    with (
        CsvSink(out, COMPANIES, COMPANY_COLUMNS) as companies,
        CsvSink(out, OFFICERS, OFFICER_COLUMNS) as officers,
    ):
        for c in ordered:
            record_id = companies.write(company_row(c))
            for row, _holder in officer_rows(rng, c):
                officer_id = officers.write(row)
                for sid in plan.registry.get(c.id, ()):
                    plan.drafts[sid].record(OFFICERS, officer_id)
            for sid in plan.registry.get(c.id, ()):
                plan.drafts[sid].record(COMPANIES, record_id)
        return {COMPANIES: companies.rows, OFFICERS: officers.rows}


# --- tax returns -------------------------------------------------------------------------------
def _quarter_days(q: str) -> tuple[date, date]:
    year, n = int(q[:4]), int(q[-1])
    first = date(year, 3 * n - 2, 1)
    nxt = date(year + (n == 4), (3 * n) % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def _tax_returns(out: Path, rng: random.Random, pop: Population, ledger: Ledger, plan: Plan) -> int:
    """VAT returns per quarter and income returns per year for every home company.

    Background figures follow the customs totals (imports and exports within a few per cent:
    timing and valuation differences) plus a domestic business sized by head count; planted
    companies follow their ``TaxPlan``.
    """
    home = [c for c in pop.companies if c.country == HOME]
    quarters = [f"{y}-Q{n}" for y in YEARS for n in range(1, 5)]
    returns: list[tuple[str, str, Company, str, dict[str, float], tuple[str, ...]]] = []
    for c in home:
        tax_plan = plan.tax.get(c.id)
        yearly: dict[str, dict[str, float]] = {}
        domestic = c.employees * 16_000 * math.exp(rng.gauss(0.0, 0.3))
        for q in quarters:
            first, last = _quarter_days(q)
            if not (c.incorporation <= last and (c.dissolution is None or c.dissolution > first)):
                continue
            figures = _vat_figures(
                rng, c=c, q=q, domestic=domestic, ledger=ledger, tax_plan=tax_plan
            )
            if figures is None:
                continue
            schemes = _scheme_ids(tax_plan, q)
            returns.append((q, c.tax_id, c, "vat", figures, schemes))
            year = yearly.setdefault(
                q[:4],
                {
                    "turnover": 0.0,
                    "purchases": 0.0,
                    "imports_declared": 0.0,
                    "exports_declared": 0.0,
                },
            )
            for k in year:
                year[k] += figures.get(k, 0.0)
        for y, figures in yearly.items():
            if tax_plan is not None and (tax_plan.nil or y + "-Q1" in tax_plan.missing):
                continue  # no income return from a company that files nothing real
            returns.append((y, c.tax_id, c, "income", figures, ()))
    returns.sort(key=lambda r: (r[0], r[3], r[1]))
    with CsvSink(out, TAX, TAX_COLUMNS) as sink:
        for n, (period, tax_id, c, kind, figures, schemes) in enumerate(returns, start=1):
            row = _tax_row(rng, n=n, period=period, tax_id=tax_id, c=c, kind=kind, figures=figures)
            record_id = sink.write(row)
            for sid in schemes:
                plan.drafts[sid].record(TAX, record_id)
        return sink.rows


def _scheme_ids(tax_plan: TaxPlan | None, period: str) -> tuple[str, ...]:
    if tax_plan is None:
        return ()
    if tax_plan.record_periods is not None and period not in tax_plan.record_periods:
        return ()
    return tax_plan.schemes


def _vat_figures(
    rng: random.Random,
    *,
    c: Company,
    q: str,
    domestic: float,
    ledger: Ledger,
    tax_plan: TaxPlan | None,
) -> dict[str, float] | None:
    imports = ledger.imports.get((c.id, q), 0.0)
    exports = ledger.exports.get((c.id, q), 0.0)
    if tax_plan is not None:
        if q in tax_plan.missing:
            return None
        if tax_plan.nil:
            return dict.fromkeys(_FIGURES, 0.0)
        if q in tax_plan.fields:
            return dict(tax_plan.fields[q])
    elif rng.random() < 0.02:
        return None  # a late or missing return, as every tax authority has some
    sales = domestic * math.exp(rng.gauss(0.0, 0.12))
    imports_declared = imports * rng.uniform(0.97, 1.03)
    if tax_plan is not None and q in tax_plan.imports_factor:
        imports_declared = imports * tax_plan.imports_factor[q]
    exports_declared = exports * rng.uniform(0.97, 1.03)
    purchases = sales * rng.uniform(0.4, 0.6) + imports_declared
    if imports:
        # Imported goods are resold: a margin on top of their cost.
        sales += imports * rng.uniform(1.1, 1.3)
    charged = sales * VAT_RATE
    paid = purchases * VAT_RATE
    return {
        "turnover": sales + exports_declared,
        "purchases": purchases,
        "imports_declared": imports_declared,
        "exports_declared": exports_declared,
        "vat_charged": charged,
        "vat_paid": paid,
        "vat_reclaimed": max(0.0, paid - charged),
    }


_FIGURES = (
    "turnover",
    "purchases",
    "imports_declared",
    "exports_declared",
    "vat_charged",
    "vat_paid",
    "vat_reclaimed",
)


def _tax_row(
    rng: random.Random,
    *,
    n: int,
    period: str,
    tax_id: str,
    c: Company,
    kind: str,
    figures: dict[str, float],
) -> Row:
    name = c.spelled(rng, "tax")
    c.node_keys.add(keys_of.tax_company(name, tax_id))
    if kind == "vat":
        _, last = _quarter_days(period)
    else:
        last = date(int(period), 12, 31)
    filed = last + timedelta(days=rng.randint(20, 38) if kind == "vat" else rng.randint(120, 300))
    row: Row = {
        "return_id": f"{kind.upper()}{int(period[:4]) % 100:02d}{n:07d}",
        "tax_id": tax_id,
        "taxpayer_name": name,
        "tax_type": kind,
        "period": period,
        "filing_date": filed.isoformat() if filed <= _LATEST_FILING else "",
        "employees": str(c.employees),
        "vat_number": c.vat_number or "",
    }
    for k, v in figures.items():
        if kind == "income" and k.startswith("vat"):
            continue
        row[k] = money(v)
    return row


_LATEST_FILING = END + timedelta(days=300)


# --- trade statistics --------------------------------------------------------------------------
def _trade_statistics(out: Path, ledger: Ledger) -> int:
    with CsvSink(out, TRADESTATS, TRADESTAT_COLUMNS) as sink:
        for (reporter, partner, flow, hs6, year), (usd, qty) in sorted(ledger.stats.items()):
            unit = ledger.units.get(hs6, "KGM")
            sink.write(
                {
                    "reporter": reporter,
                    "partner": partner,
                    "flow": flow,
                    "hs_code": hs6,
                    "period": year,
                    "value": f"{usd:.0f}",
                    "quantity": f"{qty:.0f}",
                    "quantity_unit": unit,
                }
            )
        return sink.rows


__all__ = ["TRUTH", "GenerationSummary", "generate"]
