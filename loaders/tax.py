"""Tax returns: CSV or XLSX, one row per VAT or income tax return.

Each row becomes a ``TaxReturn`` node (keyed by return id) ``FILED`` by the taxpayer, a
per-agency ``Company`` keyed by tax id. The return's turnover, purchases and declared imports /
exports are what mis-invoicing checks compare with customs declarations.

``vat_charged`` (output VAT) is kept apart from ``vat_paid`` (the net VAT paid, charged minus
reclaimed): a missing trader charges VAT it never pays, which only the two together show.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator

from graph_models.records import Agency
from graph_models.schema import Label, RelType
from loaders import keys
from loaders.base import GraphBuilder, RecordProblem
from loaders.fields import Amount, Count, OptStr, PastDate, Text
from loaders.tabular import TabularFormat

# ASCII digits only: \d alone would also take Arabic-Indic and other Unicode digits.
_PERIOD = re.compile(r"(\d{4})(?:-(?:Q(\d)|(\d{2})))?", re.ASCII)
# Neo4j integers are 64-bit and no employer has more than a few million staff: anything above
# this is a typo or a unit mix-up, not a head count.
MAX_EMPLOYEES = 10_000_000


@dataclass(frozen=True)
class Period:
    """A reporting period: a year, a quarter or a month, with its first and last day."""

    text: str
    first: date
    last: date


def parse_period(value: str, *, quarters: bool = True) -> Period:
    """Parse ``YYYY``, ``YYYY-Qn`` (when ``quarters``) or ``YYYY-MM``; raise ValueError.

    A period that has not started yet is refused: nothing can be filed or counted for it.
    """
    text = value.strip().upper()
    forms = "YYYY, YYYY-Qn or YYYY-MM" if quarters else "YYYY or YYYY-MM"
    match = _PERIOD.fullmatch(text)
    if match is None or (match.group(2) is not None and not quarters):
        raise ValueError(f"period {value!r} is not in {forms} form")
    year_text, quarter, month = match.groups()
    year = int(year_text)
    if year < 1:
        raise ValueError(f"period {value!r} has no year 0")
    if quarter is not None:
        if not 1 <= int(quarter) <= 4:
            raise ValueError(f"period {value!r}: quarters are Q1 to Q4")
        first_month, last_month = 3 * int(quarter) - 2, 3 * int(quarter)
    elif month is not None:
        if not 1 <= int(month) <= 12:
            raise ValueError(f"period {value!r}: months are 01 to 12")
        first_month = last_month = int(month)
    else:
        first_month, last_month = 1, 12
    first = date(year, first_month, 1)
    last = date(year, last_month, calendar.monthrange(year, last_month)[1])
    if first > date.today():
        raise ValueError(f"period {text} has not started yet")
    return Period(text, first, last)


def plausible_employees(value: int | None) -> int | None:
    """A head count, refused when it cannot be one (also keeps it inside Neo4j's int64)."""
    if value is not None and value > MAX_EMPLOYEES:
        raise ValueError(f"{value} employees is implausible (more than {MAX_EMPLOYEES:,})")
    return value


def _period(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("a value is required")
    return parse_period(str(value)).text


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


TaxType = Annotated[Literal["vat", "income"], BeforeValidator(_lower)]
PeriodText = Annotated[str, BeforeValidator(_period)]


class TaxReturnRow(BaseModel):
    """The columns of a tax returns file (see docs/formats.md)."""

    model_config = ConfigDict(extra="ignore")

    return_id: Text
    tax_id: Text
    taxpayer_name: Text
    tax_type: TaxType
    period: PeriodText
    filing_date: PastDate = None
    turnover: Amount = None
    purchases: Amount = None
    imports_declared: Amount = None
    exports_declared: Amount = None
    vat_charged: Amount = None
    vat_paid: Amount = None
    vat_reclaimed: Amount = None
    employees: Count = None
    vat_number: OptStr = None

    @field_validator("employees")
    @classmethod
    def _plausible_head_count(cls, value: int | None) -> int | None:
        return plausible_employees(value)


class TaxReturns(TabularFormat):
    kind = "tax"
    agency = Agency.TAX
    model = TaxReturnRow
    description = "VAT and income tax returns, one row per return (CSV or XLSX)"

    def identity(self, row: TaxReturnRow) -> str:
        return row.return_id

    def seen(self, row: TaxReturnRow) -> str | None:
        if row.filing_date:
            return row.filing_date
        # Without a filing date the return speaks for its period, up to today: first/last seen
        # must never lie in the future (the current period has not ended yet).
        return min(parse_period(row.period).last, date.today()).isoformat()

    def build(self, row: TaxReturnRow, graph: GraphBuilder) -> None:
        period = parse_period(row.period)
        if row.filing_date is not None and row.filing_date < period.first.isoformat():
            raise RecordProblem(
                "filing_date",
                f"filed on {row.filing_date}, before the period {period.text} began",
                row.filing_date,
            )
        tax_return = graph.node(
            Label.TAX_RETURN,
            keys.record_key(Label.TAX_RETURN, row.return_id),
            return_id=row.return_id,
            tax_type=row.tax_type,
            period=period.text,
            turnover=row.turnover,
            purchases=row.purchases,
            imports_declared=row.imports_declared,
            exports_declared=row.exports_declared,
            vat_charged=row.vat_charged,
            vat_paid=row.vat_paid,
            vat_reclaimed=row.vat_reclaimed,
            employees=row.employees,
        )
        taxpayer = graph.node(
            Label.COMPANY,
            keys.company_key(self.agency.value, name=row.taxpayer_name, tax_id=row.tax_id),
            name=row.taxpayer_name,
            name_norm=keys.norm_text(row.taxpayer_name),
            tax_id=row.tax_id,
            vat_number=row.vat_number,
            employees=row.employees,
        )
        graph.rel(RelType.FILED, taxpayer, tax_return)
