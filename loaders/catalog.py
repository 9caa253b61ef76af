"""The built-in source formats, how a file's format is recognised, and loading a delivery.

A delivery is a folder of files from several agencies. ``load_dir`` recognises each file's
format from its content (XML root, CSV header) rather than its name, so real deliveries need
no renaming; then loads them registry first, so later records meet the register's companies,
and FIU reports last. A file whose format cannot be told stops the delivery before anything is
loaded: nothing is skipped silently.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from graph_models.store.base import GraphStore
from loaders.base import LoadError, LoadOptions, SourceFormat, load_file
from loaders.cash import CashDeclarations
from loaders.ctr import CurrencyTransactionReports
from loaders.customs import CustomsDeclarations
from loaders.goaml import GoamlReports
from loaders.registry import CompanyOfficers, CompanyRegister
from loaders.report import LoadReport
from loaders.tabular import TabularFormat, sniff_kind
from loaders.tax import TaxReturns
from loaders.tradestats import TradeStatistics

# Load order of a delivery: the register's companies and officers first.
FORMATS: dict[str, Callable[..., SourceFormat]] = {
    "registry-companies": CompanyRegister,
    "registry-officers": CompanyOfficers,
    "tax": TaxReturns,
    "customs": CustomsDeclarations,
    "cash": CashDeclarations,
    "tradestats": TradeStatistics,
    "goaml": GoamlReports,
    "ctr": CurrencyTransactionReports,
}
DATA_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xml")


def make_format(kind: str, *, encoding: str = "utf-8") -> SourceFormat:
    try:
        factory = FORMATS[kind]
    except KeyError as e:
        raise LoadError(kind, f"unknown kind; choose one of {', '.join(FORMATS)}") from e
    fmt = factory()
    if isinstance(fmt, TabularFormat):
        fmt.encoding = encoding
    return fmt


def _header(path: Path, encoding: str) -> list[str]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook  # noqa: PLC0415 - only XLSX detection needs it

        book = load_workbook(path, read_only=True)
        try:
            first = next(book.worksheets[0].iter_rows(values_only=True, max_row=1), ())
        finally:
            book.close()
        return ["" if v is None else str(v).strip() for v in first]
    try:
        with path.open(encoding="utf-8-sig" if encoding == "utf-8" else encoding) as fh:
            return [h.strip() for h in next(csv.reader(fh), [])]
    except UnicodeDecodeError as e:
        raise LoadError(path, f"header is not valid {encoding}", location="line 1") from e


def detect_kind(path: Path, *, encoding: str = "utf-8") -> str:
    """The built-in kind whose required columns the file's header carries (XML is goAML)."""
    sniffed = sniff_kind(path)
    if sniffed == "xml":
        return "goaml"
    if sniffed == "empty":
        raise LoadError(path, "empty file")
    header = set(_header(path, encoding))
    matches = []
    for kind, factory in FORMATS.items():
        fmt = factory()
        if isinstance(fmt, TabularFormat) and set(fmt.required_columns()) <= header:
            matches.append((len(fmt.required_columns()), kind))
    if not matches:
        raise LoadError(
            path,
            "cannot tell what kind of file this is from its header; pass --kind, or a"
            " --mapping for a layout of your own",
            location="header",
        )
    # The most specific format wins (a header may satisfy a smaller format's columns too).
    matches.sort(reverse=True)
    if len(matches) > 1 and matches[0][0] == matches[1][0]:
        raise LoadError(path, f"header fits several kinds: {[k for _, k in matches]}")
    return matches[0][1]


def plan_dir(directory: Path, *, encoding: str = "utf-8") -> list[tuple[str, Path]]:
    """Every data file under ``directory`` with its kind, in load order."""
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
    )
    if not files:
        raise LoadError(directory, "no CSV, XLSX or XML files found")
    order = list(FORMATS)
    planned = [(detect_kind(p, encoding=encoding), p) for p in files]
    return sorted(planned, key=lambda kp: (order.index(kp[0]), str(kp[1])))


def load_dir(
    directory: Path,
    store: GraphStore,
    options: LoadOptions | None = None,
    *,
    encoding: str = "utf-8",
) -> list[LoadReport]:
    plan = plan_dir(directory, encoding=encoding)
    return [
        load_file(make_format(kind, encoding=encoding), path, store, options) for kind, path in plan
    ]
