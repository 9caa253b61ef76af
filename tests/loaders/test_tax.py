"""Tax returns: the graph a file builds, periods, quarantine, file-level errors, re-delivery."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.report import LoadReport, read_quarantine
from loaders.tax import TaxReturns, parse_period

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tax"
ACME = "company:tax:tax:GB123456789"
SEABIRD = "company:tax:tax:CY10099999X"


def _load(store: GraphStore, tmp_path: Path, name: str, encoding: str = "utf-8") -> LoadReport:
    options = LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)
    return load_file(TaxReturns(encoding=encoding), FIXTURES / name, store, options)


def _snapshot(store: GraphStore) -> tuple[Any, ...]:
    nodes = [n.model_dump() for n in store.iter_nodes()]
    rels = sorted(r.model_dump_json() for r in store.iter_relationships())
    return store.counts(), nodes, rels


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2023", "2023-01-01", "2023-12-31"),
        ("2024-q1", "2024-01-01", "2024-03-31"),
        ("2023-Q4", "2023-10-01", "2023-12-31"),
        ("2024-02", "2024-02-01", "2024-02-29"),  # a leap year
        ("2023-02", "2023-02-01", "2023-02-28"),
    ],
)
def test_periods_have_first_and_last_days(text: str, first: str, last: str) -> None:
    period = parse_period(text)
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)
    assert period.text == text.upper()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-Q5", "Q1 to Q4"),
        ("2024-Q0", "Q1 to Q4"),
        ("2024-00", "01 to 12"),
        ("2024-13", "01 to 12"),
        ("2024-1", "form"),
        ("24", "form"),
        ("2024/03", "form"),
        ("0000", "year 0"),
        (f"{date.today().year + 1}", "not started"),
    ],
)
def test_bad_periods_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_period(text)


def test_quarters_can_be_refused() -> None:
    with pytest.raises(ValueError, match="YYYY or YYYY-MM"):
        parse_period("2024-Q1", quarters=False)


def test_valid_file_builds_returns_filed_by_taxpayers(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "returns.csv")
    assert (report.read, report.loaded, report.quarantined) == (4, 4, 0)
    counts = store.counts()
    # "GB 123 456 789" is the same tax id as "GB123456789": one ACME.
    assert counts.nodes == {"TaxReturn": 4, "Company": 2}
    assert counts.relationships == {"FILED": 4}
    filed = store.expand([ACME], rel_types=[RelType.FILED], direction="out")
    assert sorted(r.end for r in filed) == [
        "taxreturn:INC-2023-003",
        "taxreturn:VAT-2024-04-002",
        "taxreturn:VAT-2024-Q1-001",
    ]


def test_return_keeps_vat_charged_apart_from_vat_paid(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "returns.csv")
    vat = store.require_node("taxreturn:VAT-2024-Q1-001")
    assert vat.properties == {
        "return_id": "VAT-2024-Q1-001",
        "tax_type": "vat",
        "period": "2024-Q1",
        "turnover": 1200000.0,
        "purchases": 950000.0,
        "imports_declared": 400000.0,
        "exports_declared": 0.0,
        "vat_charged": 240000.0,
        "vat_paid": 50000.0,
        "vat_reclaimed": 190000.0,
        "employees": 12,
    }
    income = store.require_node("taxreturn:INC-2023-004").properties
    assert (income["tax_type"], income["period"]) == ("income", "2023-Q4")


def test_taxpayer_is_keyed_by_tax_id(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "returns.csv")
    acme = store.require_node(ACME)
    assert acme.properties["name"] == "ACME TRADING LTD"
    assert acme.properties["vat_number"] == "GB123456789"
    assert acme.properties["employees"] == 12
    seabird = store.require_node(SEABIRD)
    assert seabird.properties["employees"] == 0


def test_seen_is_the_filing_date_or_the_period_end(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "returns.csv")
    filed = store.require_node("taxreturn:VAT-2024-Q1-001").provenance
    assert (filed.first_seen, filed.last_seen) == ("2024-05-07", "2024-05-07")
    unfiled = store.require_node("taxreturn:VAT-2024-04-002").provenance
    assert unfiled.first_seen == "2024-04-30"
    # ACME's returns were filed 2024-01-31, (April's period ends) 2024-04-30 and 2024-05-07.
    acme = store.require_node(ACME).provenance
    assert (acme.first_seen, acme.last_seen) == ("2024-01-31", "2024-05-07")


def test_current_period_without_filing_date_is_never_seen_in_the_future(
    store: GraphStore, tmp_path: Path
) -> None:
    before = date.today()
    path = tmp_path / "current.csv"
    path.write_text(
        f"return_id,tax_id,taxpayer_name,tax_type,period\nR-NOW,GB1,ACME,income,{before.year}\n",
        encoding="utf-8",
    )
    options = LoadOptions(quarantine_dir=tmp_path / "q", reports_dir=None, quiet=True)
    report = load_file(TaxReturns(), path, store, options)
    assert report.loaded == 1
    seen = store.require_node("taxreturn:R-NOW").provenance.last_seen
    # The year ends on 31 December, but nothing is seen after today.
    assert seen is not None
    assert before <= date.fromisoformat(seen) <= date.today()


def test_malformed_rows_are_quarantined_with_field_and_reason(
    store: GraphStore, tmp_path: Path
) -> None:
    report = _load(store, tmp_path, "returns_malformed.csv")
    assert report.read == report.loaded + report.quarantined
    assert (report.loaded, report.quarantined) == (1, 12)
    assert report.quarantine_file is not None
    entries = {e.record: e for e in read_quarantine(Path(report.quarantine_file))}
    expected = {
        "row 3": ("tax_type", "'vat' or 'income'"),
        "row 4": ("period", "Q1 to Q4"),
        "row 5": ("period", "01 to 12"),
        "row 6": ("period", "YYYY, YYYY-Qn or YYYY-MM"),
        "row 7": ("period", "not started"),
        "row 8": ("turnover", "negative"),
        "row 9": ("vat_charged", "negative"),
        "row 10": ("filing_date", "future"),
        "row 11": ("filing_date", "before the period 2024-Q1 began"),
        "row 12": (None, "row has 5 fields, the header has 15"),
        "row 13": ("employees", "not a number"),
        "row 14": ("tax_id", "required"),
    }
    assert set(entries) == set(expected)
    for record, (field, reason) in expected.items():
        assert entries[record].field == field, record
        assert reason in entries[record].reason, record
    assert [n.key for n in store.iter_nodes()] == [ACME, "taxreturn:R-02"]


def test_missing_required_columns_are_all_named(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        _load(store, tmp_path, "returns_missing_columns.csv")
    assert "required columns missing: tax_id, tax_type " in str(err.value)
    assert store.counts().total_nodes == 0


def test_latin1_file_is_refused_naming_the_line(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        _load(store, tmp_path, "returns_latin1.csv")
    assert err.value.location == "line 3"
    assert store.counts().total_nodes == 0
    report = _load(store, tmp_path, "returns_latin1.csv", encoding="latin-1")
    assert report.loaded == 2
    name = store.require_node("company:tax:tax:DE811111111").properties["name"]
    assert name == "Müller Außenhandel GmbH"


def test_reloading_the_same_file_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "returns.csv")
    before = _snapshot(store)
    _load(store, tmp_path, "returns.csv")
    assert _snapshot(store) == before


def test_corrected_redelivery_updates_and_keeps_both_sources(
    store: GraphStore, tmp_path: Path
) -> None:
    first = _load(store, tmp_path, "returns.csv")
    second = _load(store, tmp_path, "returns_corrected.csv")
    vat = store.require_node("taxreturn:VAT-2024-Q1-001")
    assert vat.properties["vat_paid"] == 52000.0
    assert vat.provenance.sources == [
        f"tax|returns.csv|{first.load_id}",
        f"tax|returns_corrected.csv|{second.load_id}",
    ]
    assert store.counts().nodes == {"TaxReturn": 4, "Company": 2}
