"""Property tests for the cash, registry, tax and trade statistics formats (embedded store).

Rows start from a valid row and get random or adversarial values in a few cells, and
sometimes too few or too many cells. Whatever the content, a load never crashes, every row
read is loaded or quarantined, and an untouched row always loads. Headers with random subsets
of columns fail with a LoadError naming every missing required column, or load.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_models.store.embedded import EmbeddedStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.cash import CashDeclarations
from loaders.registry import CompanyOfficers, CompanyRegister
from loaders.report import read_quarantine
from loaders.tabular import TabularFormat
from loaders.tax import TaxReturns
from loaders.tradestats import TradeStatistics

# A valid row per format, in model field order.
BASE: dict[type[TabularFormat], dict[str, str]] = {
    CashDeclarations: {
        "declaration_id": "CD-1",
        "declaration_date": "2024-03-01",
        "direction": "inbound",
        "port": "Dover",
        "traveller_name": "Ivan Petrov",
        "traveller_birth_date": "1980-05-12",
        "traveller_nationality": "BG",
        "traveller_passport": "P1234567",
        "amount": "25000.00",
        "currency": "EUR",
        "instrument_type": "cash",
        "origin_of_funds": "business",
        "intended_use": "goods",
        "owner_name": "Balkan Trade OOD",
        "owner_type": "company",
        "owner_tax_id": "BG201234567",
        "undeclared": "no",
        "destination_country": "GB",
        "departure_country": "FR",
    },
    CompanyRegister: {
        "registration_number": "01234567",
        "name": "ACME TRADING LTD",
        "jurisdiction": "GB",
        "tax_id": "GB123456789",
        "vat_number": "GB123456789",
        "legal_form": "LTD",
        "incorporation_date": "2015-06-01",
        "dissolution_date": "2020-01-31",
        "address": "1 High Street",
        "city": "London",
        "postal_code": "EC1A 1AA",
        "phone": "+44 20 7946 0000",
        "email": "info@acme.example",
        "employees": "12",
    },
    CompanyOfficers: {
        "company_registration_number": "01234567",
        "company_jurisdiction": "GB",
        "company_name": "ACME TRADING LTD",
        "officer_name": "Seabird Holdings Ltd",
        "role": "shareholder",
        "officer_type": "company",
        "officer_birth_date": "",
        "officer_nationality": "CY",
        "officer_id_number": "",
        "officer_registration_number": "HE123456",
        "officer_jurisdiction": "CY",
        "percentage": "75",
        "appointed": "2015-06-01",
        "resigned": "2020-12-31",
    },
    TaxReturns: {
        "return_id": "VAT-1",
        "tax_id": "GB123456789",
        "taxpayer_name": "ACME TRADING LTD",
        "tax_type": "vat",
        "period": "2024-Q1",
        "filing_date": "2024-05-07",
        "turnover": "1200000",
        "purchases": "950000",
        "imports_declared": "400000",
        "exports_declared": "0",
        "vat_charged": "240000",
        "vat_paid": "50000",
        "vat_reclaimed": "190000",
        "employees": "12",
        "vat_number": "GB123456789",
    },
    TradeStatistics: {
        "reporter": "GB",
        "partner": "CN",
        "flow": "import",
        "hs_code": "850440",
        "period": "2024-03",
        "value": "1500000",
        "quantity": "12000",
        "quantity_unit": "u",
    },
}
FORMATS = list(BASE)

# Values each of these formats has a rule about, valid in some column and invalid in others.
TRICKY = [
    "",
    " ",
    "-1",
    "0",
    "100.5",
    "1e400",
    "nan",
    "1,000.50",
    "50000000",
    "99999999999999999999999",
    "2024-03-01",
    "2099-01-01",
    "2024-02-30",
    "01/03/2024",
    "2024",
    "2024-Q5",
    "2024-q2",
    "2024-13",
    "ZZ",
    "W00",
    "World",
    "GBR",
    "gb",
    "XYZ",
    "eur",
    "yes",
    "maybe",
    "person",
    "company",
    "trust",
    "director",
    "secretary",
    "beneficial_owner",
    "bni",
    "outbound",
    "export",
    "850440",
    "7108.12",
    "850499",
    "n/a",
    "a@b.example",
    "+44 20 7946 0000",
    "Société Générale",
    "a:b",
]
# TRICKY three times over: one_of picks its branches evenly, and those values hit the rules.
CELL = st.one_of(
    st.sampled_from(TRICKY),
    st.sampled_from(TRICKY),
    st.sampled_from(TRICKY),
    st.text(max_size=12),
    st.dates(min_value=date(1, 1, 1), max_value=date(2200, 1, 1)).map(date.isoformat),
    st.floats().map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@dataclass
class Row:
    cells: list[str]
    untouched: bool


@st.composite
def rows(draw: st.DrawFn, base: dict[str, str]) -> Row:
    columns = list(base)
    values = dict(base)
    mutated = draw(st.lists(st.sampled_from(columns), max_size=6))
    for column in mutated:
        values[column] = draw(CELL)
    cells = [values[c] for c in columns]
    # Mostly the header's width; sometimes cells missing or extra.
    extra = draw(st.one_of(st.just(0), st.just(0), st.integers(min_value=-4, max_value=2)))
    if extra < 0:
        cells = cells[:extra]
    elif extra > 0:
        cells += draw(st.lists(CELL, min_size=extra, max_size=extra))
    return Row(cells, untouched=not mutated and extra == 0)


def _write(path: Path, header: list[str], lines: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(lines)


def _options(tmp_path: Path) -> LoadOptions:
    return LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)


def test_base_rows_are_valid_and_name_every_column(
    embedded_store: EmbeddedStore, tmp_path: Path
) -> None:
    """The properties below start from these rows, so they must load as they stand."""
    for fmt, base in BASE.items():
        assert list(base) == fmt().known_columns()
        path = tmp_path / f"{fmt.kind}.csv"
        _write(path, list(base), [list(base.values())])
        report = load_file(fmt(), path, embedded_store, _options(tmp_path))
        assert (report.loaded, report.quarantined) == (1, 0), fmt.kind


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.kind for f in FORMATS])
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_rows_are_loaded_or_quarantined(
    fmt: type[TabularFormat], data: st.DataObject, embedded_store: EmbeddedStore, tmp_path: Path
) -> None:
    base = BASE[fmt]
    drawn = data.draw(st.lists(rows(base), min_size=1, max_size=5))
    path = tmp_path / f"{fmt.kind}-{uuid.uuid4().hex}.csv"
    _write(path, list(base), [r.cells for r in drawn])
    # The one store is shared by every example: random rows also merge onto earlier ones.
    report = load_file(fmt(), path, embedded_store, _options(tmp_path))
    # A row whose cells are all blank is not a record; every other row is read.
    assert report.read == sum(1 for r in drawn if any(c.strip() for c in r.cells))
    assert report.read == report.loaded + report.quarantined
    assert report.loaded >= sum(1 for r in drawn if r.untouched)
    if report.quarantined:
        assert report.quarantine_file is not None
        entries = read_quarantine(Path(report.quarantine_file))
        assert len(entries) == report.quarantined
        assert all(e.reason for e in entries)


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.kind for f in FORMATS])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_header_loads_or_names_every_missing_column(
    fmt: type[TabularFormat], data: st.DataObject, embedded_store: EmbeddedStore, tmp_path: Path
) -> None:
    base = BASE[fmt]
    header = data.draw(st.permutations(list(base)))
    header = header[: data.draw(st.integers(min_value=1, max_value=len(header)))]
    extras = data.draw(st.lists(st.sampled_from(["note", "Amount", "year"]), unique=True))
    path = tmp_path / f"{fmt.kind}-{uuid.uuid4().hex}.csv"
    _write(path, header + extras, [[base[c] for c in header] + ["x"] * len(extras)])
    loader = fmt()
    missing = [c for c in loader.required_columns() if c not in header]
    if missing:
        with pytest.raises(LoadError) as err:
            load_file(loader, path, embedded_store, _options(tmp_path))
        assert f"required columns missing: {', '.join(missing)} " in str(err.value)
        return
    report = load_file(loader, path, embedded_store, _options(tmp_path))
    # Not always loaded: dropping a column can break a cross-field rule (an owner tax id
    # without the owner's name), which quarantines the row.
    assert report.read == report.loaded + report.quarantined == 1
    assert report.ignored_columns == extras
