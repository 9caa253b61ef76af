"""Streaming writers: CSV files that hand back each row's record id, and goAML XML.

A CSV row's record id is ``row <line number>`` (the header is line 1), which is what the
loaders call it; no field ever holds a newline, so line numbers and rows agree. goAML reports
are written one at a time under a ``<reports>`` wrapper, so memory stays bounded by one report.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO
from xml.sax.saxutils import escape

DECLARATION_COLUMNS = (
    "declaration_number", "item_number", "declaration_date", "flow", "reporting_country",
    "customs_office", "declarant_name", "declarant_tax_id",
    "exporter_name", "exporter_tax_id", "exporter_registration_number", "exporter_address",
    "exporter_country",
    "importer_name", "importer_tax_id", "importer_registration_number", "importer_address",
    "importer_country",
    "consignor_name", "consignor_country", "consignee_name", "consignee_country",
    "hs_code", "goods_description", "quantity", "quantity_unit", "net_mass_kg",
    "customs_value", "invoice_value", "invoice_currency", "origin_country", "dispatch_country",
    "destination_country", "transport_mode", "payment_terms",
)  # fmt: skip
CTR_COLUMNS = (
    "report_id", "reporting_institution", "transaction_date", "amount", "currency",
    "cash_direction", "account_number", "iban", "conductor_name", "conductor_birth_date",
    "conductor_id_number", "conductor_nationality", "beneficiary_name", "beneficiary_tax_id",
    "beneficiary_type", "branch",
)  # fmt: skip
CASH_COLUMNS = (
    "declaration_id", "declaration_date", "direction", "port", "traveller_name",
    "traveller_birth_date", "traveller_nationality", "traveller_passport", "amount", "currency",
    "instrument_type", "origin_of_funds", "intended_use", "owner_name", "owner_type",
    "owner_tax_id", "undeclared", "destination_country", "departure_country",
)  # fmt: skip
COMPANY_COLUMNS = (
    "registration_number", "name", "jurisdiction", "tax_id", "vat_number", "legal_form",
    "incorporation_date", "dissolution_date", "address", "city", "postal_code", "phone",
    "email", "employees",
)  # fmt: skip
OFFICER_COLUMNS = (
    "company_registration_number", "company_jurisdiction", "company_name", "officer_name",
    "role", "officer_type", "officer_birth_date", "officer_nationality", "officer_id_number",
    "officer_registration_number", "officer_jurisdiction", "percentage", "appointed",
    "resigned",
)  # fmt: skip
TAX_COLUMNS = (
    "return_id", "tax_id", "taxpayer_name", "tax_type", "period", "filing_date", "turnover",
    "purchases", "imports_declared", "exports_declared", "vat_charged", "vat_paid",
    "vat_reclaimed", "employees", "vat_number",
)  # fmt: skip
TRADESTAT_COLUMNS = (
    "reporter", "partner", "flow", "hs_code", "period", "value", "quantity", "quantity_unit",
)  # fmt: skip

DECLARATIONS = "customs/declarations.csv"
CASH = "customs/cash_declarations.csv"
STR = "fiu/str_reports.xml"
CTR = "fiu/ctr.csv"
COMPANIES = "registry/companies.csv"
OFFICERS = "registry/officers.csv"
TAX = "tax/tax_returns.csv"
TRADESTATS = "external/trade_statistics.csv"
FILES = (DECLARATIONS, CASH, STR, CTR, COMPANIES, OFFICERS, TAX, TRADESTATS)

Row = dict[str, str]


def money(value: float) -> str:
    return f"{value:.2f}"


class CsvSink:
    """One CSV file written row by row; ``write`` returns the row's record id."""

    def __init__(self, root: Path, name: str, columns: tuple[str, ...]) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.columns = columns
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._fh, lineterminator="\n")
        self._writer.writerow(columns)
        self.rows = 0

    def write(self, row: Row) -> str:
        self.rows += 1
        self._writer.writerow([row.get(c, "") for c in self.columns])
        return f"row {self.rows + 1}"

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass
class El:
    """A tiny XML element: text or children (empty text and childless elements are dropped)."""

    tag: str
    text: str | None = None
    children: list[El] = field(default_factory=list)

    def add(self, tag: str, text: str | None = None) -> El:
        child = El(tag, text)
        self.children.append(child)
        return child

    def put(self, tag: str, text: str | None) -> None:
        """Add a text child only when there is a value (goAML leaves unknowns out)."""
        if text:
            self.children.append(El(tag, text))

    def append(self, child: El) -> El:
        self.children.append(child)
        return child

    def render(self, out: list[str], indent: int) -> None:
        pad = " " * indent
        if self.children:
            out.append(f"{pad}<{self.tag}>\n")
            for child in self.children:
                child.render(out, indent + 1)
            out.append(f"{pad}</{self.tag}>\n")
        elif self.text:
            out.append(f"{pad}<{self.tag}>{escape(self.text)}</{self.tag}>\n")


class GoamlSink:
    """goAML reports under a ``<reports>`` wrapper; each report is written as soon as it is built.

    ``write`` returns the report's element path and those of its transactions.
    """

    def __init__(self, root: Path, name: str) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.name = name
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        self._fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<reports>\n')
        self.reports = 0
        self.transactions = 0

    def write(self, report: El) -> tuple[str, list[str]]:
        self.reports += 1
        base = f"/reports/report[{self.reports}]"
        n = sum(1 for c in report.children if c.tag == "transaction")
        self.transactions += n
        out: list[str] = []
        report.render(out, 1)
        self._fh.write("".join(out))
        return base, [f"{base}/transaction[{j}]" for j in range(1, n + 1)]

    def close(self) -> None:
        self._fh.write("</reports>\n")
        self._fh.close()

    def __enter__(self) -> GoamlSink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
