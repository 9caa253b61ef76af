"""The company register: companies and officers files, alone and together."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.registry import CompanyOfficers, CompanyRegister
from loaders.report import LoadReport, read_quarantine
from loaders.tabular import TabularFormat

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "registry"
ACME = "company:registry:reg:GB:01234567"
SEABIRD = "company:registry:reg:CY:HE123456"
CORAL = "company:registry:reg:CY:HE654321"
JOHN = "person:registry:name:john smith:1970-01-15"
MARIA = "person:registry:id:CY778899"
LIMASSOL = "address:cy:arch makariou iii 155 limassol 3026"


def _load(fmt: TabularFormat, store: GraphStore, tmp_path: Path, name: str | Path) -> LoadReport:
    options = LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)
    return load_file(fmt, FIXTURES / name, store, options)


def _companies(store: GraphStore, tmp_path: Path, name: str = "companies.csv") -> LoadReport:
    return _load(CompanyRegister(), store, tmp_path, name)


def _officers(store: GraphStore, tmp_path: Path, name: str | Path = "officers.csv") -> LoadReport:
    return _load(CompanyOfficers(), store, tmp_path, name)


def _snapshot(store: GraphStore) -> tuple[Any, ...]:
    nodes = [n.model_dump() for n in store.iter_nodes()]
    rels = sorted(r.model_dump_json() for r in store.iter_relationships())
    return store.counts(), nodes, rels


def _out(store: GraphStore, key: str, rel_type: RelType) -> list[tuple[str, str, dict[str, Any]]]:
    """(end, relationship key, properties) of the relationships of one type leaving ``key``."""
    return sorted(
        (r.end, r.key, r.properties)
        for r in store.expand([key], rel_types=[rel_type], direction="out")
        if r.start == key
    )


# --- companies -----------------------------------------------------------------------------


def test_companies_file_builds_companies_and_their_pivots(
    store: GraphStore, tmp_path: Path
) -> None:
    report = _companies(store, tmp_path)
    assert (report.read, report.loaded, report.quarantined) == (4, 4, 0)
    counts = store.counts()
    # Seabird and Coral share a registered address and a phone: one node each, two links.
    # Blue Fjord has a city but no street line, so no Address.
    assert counts.nodes == {"Company": 4, "Address": 2, "Phone": 2, "Email": 2, "Country": 3}
    assert counts.relationships == {
        "IN_COUNTRY": 6,  # four jurisdictions, two address locations
        "REGISTERED_AT": 3,
        "HAS_PHONE": 3,
        "HAS_EMAIL": 2,
    }


def test_company_is_keyed_by_registration_number_with_tax_id_a_property(
    store: GraphStore, tmp_path: Path
) -> None:
    _companies(store, tmp_path)
    acme = store.require_node(ACME)
    assert acme.properties == {
        "name": "ACME TRADING LTD",
        "name_norm": "acme trading ltd",
        "registration_number": "01234567",
        "tax_id": "GB123456789",
        "vat_number": "GB123456789",
        "legal_form": "LTD",
        "incorporation_date": "2015-06-01",
        "jurisdiction": "GB",
        "employees": 12,
    }
    assert acme.provenance.first_seen == "2015-06-01"
    assert _out(store, ACME, RelType.IN_COUNTRY) == [
        ("country:GB", "jurisdiction", {"role": "jurisdiction"})
    ]
    assert _out(store, ACME, RelType.HAS_EMAIL) == [("email:info@acme.example", "", {})]
    assert _out(store, ACME, RelType.HAS_PHONE) == [("phone:+442079460000", "", {})]
    # The jurisdiction is case-insensitive in the file.
    assert store.require_node("company:registry:reg:LU:B123456").properties["jurisdiction"] == "LU"


def test_shared_address_and_phone_link_two_companies(store: GraphStore, tmp_path: Path) -> None:
    _companies(store, tmp_path)
    address = store.require_node(LIMASSOL).properties
    assert address == {
        "full": "Arch. Makariou III, 155, Limassol, 3026",
        "street": "Arch. Makariou III, 155",
        "city": "Limassol",
        "postal_code": "3026",
        "country": "CY",
    }
    registered = store.expand([LIMASSOL], rel_types=[RelType.REGISTERED_AT], direction="in")
    assert sorted(r.start for r in registered) == [SEABIRD, CORAL]
    assert _out(store, LIMASSOL, RelType.IN_COUNTRY) == [
        ("country:CY", "location", {"role": "location"})
    ]
    assert store.require_node(CORAL).properties["dissolution_date"] == "2023-01-31"


def test_malformed_company_rows_are_quarantined(store: GraphStore, tmp_path: Path) -> None:
    report = _companies(store, tmp_path, "companies_malformed.csv")
    assert report.read == report.loaded + report.quarantined
    assert (report.loaded, report.quarantined) == (1, 10)
    assert report.quarantine_file is not None
    entries = {e.record: e for e in read_quarantine(Path(report.quarantine_file))}
    expected = {
        "row 3": ("jurisdiction", "ISO 3166"),
        "row 4": ("dissolution_date", "before incorporation_date"),
        "row 5": ("incorporation_date", "future"),
        "row 6": ("employees", "negative"),
        "row 7": ("employees", "whole number"),
        "row 8": ("email", "not an e-mail address"),
        "row 9": ("phone", "not a phone number"),
        "row 10": (None, "row has 3 fields, the header has 14"),
        "row 11": ("name", "required"),
        "row 12": ("employees", "implausible"),
    }
    assert set(entries) == set(expected)
    for record, (field, reason) in expected.items():
        assert entries[record].field == field, record
        assert reason in entries[record].reason, record
    assert [n.key for n in store.iter_nodes([Label.COMPANY])] == [ACME]


# --- officers ------------------------------------------------------------------------------


def test_officers_file_alone_never_points_at_a_missing_company(
    store: GraphStore, tmp_path: Path
) -> None:
    report = _officers(store, tmp_path)
    assert (report.read, report.loaded, report.quarantined) == (6, 6, 0)
    counts = store.counts()
    # ACME, Seabird (company and corporate shareholder), Unlisted Ventures, Corporate Directors.
    assert counts.nodes == {"Company": 4, "Person": 2, "Country": 2}
    assert counts.relationships == {"DIRECTOR_OF": 3, "SHAREHOLDER_OF": 3, "IN_COUNTRY": 6}
    unlisted = store.require_node("company:registry:reg:CY:HE777777")
    assert unlisted.properties["name"] == "Unlisted Ventures Ltd"


def test_director_and_secretary_keep_one_edge_per_role(store: GraphStore, tmp_path: Path) -> None:
    _officers(store, tmp_path)
    john = store.require_node(JOHN)
    assert (john.properties["birth_date"], john.properties["nationality"]) == ("1970-01-15", "GB")
    assert _out(store, JOHN, RelType.DIRECTOR_OF) == [
        (ACME, "director", {"appointed": "2015-06-01", "role": "director"}),
        (
            ACME,
            "secretary",
            {"appointed": "2015-06-01", "resigned": "2020-12-31", "role": "secretary"},
        ),
    ]


def test_shareholders_and_beneficial_owners_carry_percentages(
    store: GraphStore, tmp_path: Path
) -> None:
    _officers(store, tmp_path)
    assert _out(store, MARIA, RelType.SHAREHOLDER_OF) == [
        (SEABIRD, "shareholder", {"percentage": 100.0}),
        (ACME, "beneficial_owner", {"percentage": 75.0}),
    ]
    # A corporate shareholder is the company the register keys by its registration number.
    assert _out(store, SEABIRD, RelType.SHAREHOLDER_OF) == [
        (ACME, "shareholder", {"percentage": 75.0})
    ]
    # A corporate director without a registration number is keyed by name and jurisdiction.
    corporate = "company:registry:name:CY:corporate directors ltd"
    assert _out(store, corporate, RelType.DIRECTOR_OF) == [
        (
            "company:registry:reg:CY:HE777777",
            "director",
            {"appointed": "2021-03-01", "role": "director"},
        )
    ]


def test_officers_join_the_companies_file(store: GraphStore, tmp_path: Path) -> None:
    companies = _companies(store, tmp_path)
    officers = _officers(store, tmp_path)
    seabird = store.require_node(SEABIRD)
    # The officer rows name the company too, but never erase what the register row said.
    assert seabird.properties["incorporation_date"] == "2019-02-14"
    assert seabird.properties["employees"] == 0
    assert seabird.provenance.sources == [
        f"registry|companies.csv|{companies.load_id}",
        f"registry|officers.csv|{officers.load_id}",
    ]
    assert store.counts().nodes["Company"] == 6  # 4 registered + Unlisted + Corporate Directors


def test_malformed_officer_rows_are_quarantined(store: GraphStore, tmp_path: Path) -> None:
    report = _officers(store, tmp_path, "officers_malformed.csv")
    assert report.read == report.loaded + report.quarantined
    assert (report.loaded, report.quarantined) == (1, 10)
    assert report.quarantine_file is not None
    entries = {e.record: e for e in read_quarantine(Path(report.quarantine_file))}
    expected = {
        "row 3": ("role", "director"),
        "row 4": ("officer_type", "person"),
        "row 5": ("percentage", "above 100"),
        "row 6": ("percentage", "negative"),
        "row 7": ("resigned", "before appointed"),
        "row 8": ("company_jurisdiction", "ISO 3166"),
        "row 9": ("percentage", "only for shareholders"),
        "row 10": ("officer_birth_date", "future"),
        "row 11": (None, "row has 5 fields, the header has 14"),
        "row 12": ("appointed", "YYYY-MM-DD"),
    }
    assert set(entries) == set(expected)
    for record, (field, reason) in expected.items():
        assert entries[record].field == field, record
        assert reason in entries[record].reason, record
    assert store.counts().relationships["DIRECTOR_OF"] == 1


def test_officers_load_from_xlsx(store: GraphStore, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "company_registration_number",
            "company_jurisdiction",
            "company_name",
            "officer_name",
            "role",
            "percentage",
            "appointed",
            "note",
        ]
    )
    # Native cell types: an int registration number, a float percentage, a date.
    sheet.append([1234567, "GB", "ACME TRADING LTD", "Jane Roe", "shareholder", 40.0])
    sheet.cell(row=2, column=7, value=date(2018, 4, 1))
    sheet.append(["01234567", "GB", "ACME TRADING LTD", "Jane Roe", "director", None, "bad"])
    path = tmp_path / "officers.xlsx"
    book.save(path)
    report = _officers(store, tmp_path, path)
    assert (report.read, report.loaded, report.quarantined) == (2, 1, 1)
    assert report.ignored_columns == ["note"]
    jane = "person:registry:name:jane roe:-"
    assert _out(store, jane, RelType.SHAREHOLDER_OF) == [
        ("company:registry:reg:GB:1234567", "shareholder", {"percentage": 40.0})
    ]
    assert store.require_node(jane).provenance.first_seen == "2018-04-01"
    assert report.quarantine_file is not None
    (entry,) = read_quarantine(Path(report.quarantine_file))
    assert (entry.record, entry.field) == ("sheet 1 row 3", "appointed")


# --- both files: file-level errors, idempotence, re-delivery ----------------------------------


@pytest.mark.parametrize(
    ("fmt", "name", "missing"),
    [
        (CompanyRegister, "companies_missing_columns.csv", "name, jurisdiction"),
        (CompanyOfficers, "officers_missing_columns.csv", "company_name, role"),
    ],
)
def test_missing_required_columns_are_all_named(
    store: GraphStore, tmp_path: Path, fmt: type[TabularFormat], name: str, missing: str
) -> None:
    with pytest.raises(LoadError) as err:
        _load(fmt(), store, tmp_path, name)
    assert f"required columns missing: {missing} " in str(err.value)
    assert store.counts().total_nodes == 0


@pytest.mark.parametrize(
    ("fmt", "name", "key", "expected"),
    [
        (
            CompanyRegister,
            "companies_latin1.csv",
            "company:registry:reg:FR:87654321",
            "Société Générale Café",
        ),
        (CompanyOfficers, "officers_latin1.csv", "person:registry:name:renee levy:-", "Renée Lévy"),
    ],
)
def test_latin1_file_is_refused_naming_the_line_and_loads_with_its_encoding(
    store: GraphStore,
    tmp_path: Path,
    fmt: type[TabularFormat],
    name: str,
    key: str,
    expected: str,
) -> None:
    with pytest.raises(LoadError) as err:
        _load(fmt(), store, tmp_path, name)
    assert "line 3" in str(err.value)
    assert store.counts().total_nodes == 0
    report = _load(fmt(encoding="latin-1"), store, tmp_path, name)
    assert (report.loaded, report.quarantined) == (2, 0)
    assert store.require_node(key).properties["name"] == expected


def test_reloading_both_files_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _companies(store, tmp_path)
    _officers(store, tmp_path)
    before = _snapshot(store)
    _companies(store, tmp_path)
    _officers(store, tmp_path)
    assert _snapshot(store) == before


def test_corrected_company_redelivery_keeps_both_sources(store: GraphStore, tmp_path: Path) -> None:
    first = _companies(store, tmp_path)
    second = _companies(store, tmp_path, "companies_corrected.csv")
    acme = store.require_node(ACME)
    assert acme.properties["employees"] == 15
    assert acme.provenance.sources == [
        f"registry|companies.csv|{first.load_id}",
        f"registry|companies_corrected.csv|{second.load_id}",
    ]


def test_corrected_officer_redelivery_updates_the_appointment(
    store: GraphStore, tmp_path: Path
) -> None:
    first = _officers(store, tmp_path)
    second = _officers(store, tmp_path, "officers_corrected.csv")
    (director,) = [
        r
        for r in store.expand([JOHN], rel_types=[RelType.DIRECTOR_OF], direction="out")
        if r.key == "director"
    ]
    assert director.properties["resigned"] == "2024-01-31"
    assert director.provenance.sources == [
        f"registry|officers.csv|{first.load_id}",
        f"registry|officers_corrected.csv|{second.load_id}",
    ]
    assert store.counts().relationships["DIRECTOR_OF"] == 3
