"""Customs declarations: graph shape, quarantine, file-level errors, idempotence, XLSX."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.customs import CustomsDeclarations
from loaders.report import LoadReport, read_quarantine

FIXTURES = Path(__file__).parent.parent / "fixtures" / "customs"
ACME_CUSTOMS = "company:customs:tax:GB123456789"
NORD = "company:customs:tax:DE811111111"
DECL = "declaration:GB:24GB000101:1"


def load(
    store: GraphStore, tmp_path: Path, name: str | Path, encoding: str = "utf-8"
) -> LoadReport:
    path = name if isinstance(name, Path) else FIXTURES / name
    options = LoadOptions(quiet=True, quarantine_dir=tmp_path / "q", reports_dir=tmp_path / "r")
    return load_file(CustomsDeclarations(encoding=encoding), Path(path), store, options)


def test_declarations_become_records_parties_and_goods_flows(
    store: GraphStore, tmp_path: Path
) -> None:
    report = load(store, tmp_path, "declarations.csv")
    assert (report.read, report.loaded, report.quarantined) == (4, 4, 0)
    decl = store.require_node(DECL)
    assert decl.properties["customs_value"] == 48000.0
    assert decl.properties["flow"] == "import"
    assert decl.provenance.record_ids == ["declarations.csv|row 2"]
    assert decl.provenance.first_seen == "2024-03-04"
    roles = {
        (r.type, r.start, r.properties.get("role"))
        for r in store.expand([DECL])
        if r.type in (RelType.DECLARED, RelType.CONSIGNED_TO)
    }
    assert roles == {
        (RelType.DECLARED, "company:customs:tax:GB555000111", "declarant"),
        (RelType.DECLARED, NORD, "exporter"),
        (RelType.CONSIGNED_TO, ACME_CUSTOMS, "importer"),
    }
    # One SHIPPED_TO per declaration item, carrying the invoice value for cycle analysis.
    flows = store.expand([NORD], rel_types=[RelType.SHIPPED_TO], direction="out")
    by_decl = {r.properties["declaration"]: r for r in flows}
    assert by_decl[DECL].properties["value"] == 48000.0
    assert by_decl[DECL].end == ACME_CUSTOMS
    # The German export names the importer without a tax id: a separate source record.
    assert (
        by_decl["declaration:DE:24DE774411:1"].end == "company:customs:name:GB:acme trading limited"
    )
    # National digits beyond HS6 keep the full code on the declaration, HS6 on the commodity.
    item2 = store.require_node("declaration:GB:24GB000101:2")
    assert item2.properties["hs_code"] == "85371091"
    (cls,) = store.expand([item2.key], rel_types=[RelType.CLASSIFIED_AS])
    assert cls.end == "hs:853710"
    assert store.require_node("hs:850440").properties["description"]
    assert [n.key for n in store.find_nodes(Label.COMPANY, "tax_id", "GB123456789")] == [
        ACME_CUSTOMS
    ]


def test_bad_values_are_quarantined_with_row_field_and_reason(
    store: GraphStore, tmp_path: Path
) -> None:
    report = load(store, tmp_path, "bad_values.csv")
    assert (report.read, report.loaded, report.quarantined, report.duplicates) == (10, 2, 8, 1)
    assert report.read == report.loaded + report.quarantined
    assert report.quarantine_file is not None
    entries = {e.record: e for e in read_quarantine(Path(report.quarantine_file))}
    expected = {
        "row 3": ("quantity", "negative"),
        "row 4": ("declaration_date", "in the future"),
        "row 5": ("hs_code", "4 digits"),
        "row 6": ("invoice_currency", "ISO 4217"),
        "row 7": ("origin_country", "ISO 3166"),
        "row 8": ("flow", "import"),
        "row 9": ("declaration_date", "YYYY-MM-DD"),
        "row 10": (None, "row has 11 fields, the header has 14"),
    }
    assert set(entries) == set(expected)
    for record, (field, words) in expected.items():
        assert entries[record].field == field
        assert words in entries[record].reason
        assert entries[record].file.endswith("bad_values.csv")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "missing_columns.csv",
            "required columns missing: declaration_date, reporting_country, hs_code",
        ),
        ("latin1.csv", "not valid utf-8: byte 0xfc at line 2, column 36"),
        ("not_really.csv", "looks like XML"),
    ],
)
def test_file_level_problems_load_nothing(
    store: GraphStore, tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(LoadError, match=message):
        load(store, tmp_path, name)
    assert store.counts().total_nodes == 0


def test_latin1_file_loads_with_its_encoding(store: GraphStore, tmp_path: Path) -> None:
    report = load(store, tmp_path, "latin1.csv", encoding="latin-1")
    assert report.loaded == 1
    names = {n.properties["name"] for n in store.iter_nodes([Label.COMPANY])}
    assert "Müller Handel GmbH" in names


def test_reloading_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    load(store, tmp_path, "declarations.csv")
    before = store.counts()
    snapshot = store.get_nodes([DECL, ACME_CUSTOMS, NORD])
    again = load(store, tmp_path, "declarations.csv")
    assert again.loaded == 4
    assert store.counts() == before
    assert store.get_nodes([DECL, ACME_CUSTOMS, NORD]) == snapshot


def test_corrected_redelivery_updates_and_keeps_both_sources(
    store: GraphStore, tmp_path: Path
) -> None:
    load(store, tmp_path, "declarations.csv")
    corrected = tmp_path / "declarations-corrected.csv"
    text = (FIXTURES / "declarations.csv").read_text(encoding="utf-8")
    corrected.write_text(text.replace(",48000,48000,EUR,", ",48000,52000,EUR,"), encoding="utf-8")
    load(store, tmp_path, corrected)
    decl = store.require_node(DECL)
    assert decl.properties["invoice_value"] == 52000.0
    assert [s.split("|")[1] for s in decl.provenance.sources] == [
        "declarations.csv",
        "declarations-corrected.csv",
    ]


def test_xlsx_delivery_loads_like_csv(store: GraphStore, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    lines = (FIXTURES / "declarations.csv").read_text(encoding="utf-8").splitlines()
    for row in csv.reader(lines):
        sheet.append(row)
    path = tmp_path / "declarations.xlsx"
    book.save(path)
    report = load(store, tmp_path, path)
    assert (report.read, report.loaded) == (4, 4)
    assert store.require_node(DECL).properties["invoice_value"] == 48000.0


def test_xlsx_name_on_a_csv_is_refused(store: GraphStore, tmp_path: Path) -> None:
    fake = tmp_path / "declarations.xlsx"
    shutil.copy(FIXTURES / "declarations.csv", fake)
    with pytest.raises(LoadError, match="not an XLSX workbook"):
        load(store, tmp_path, fake)


def test_a_party_first_met_in_a_quarantined_row_loads_whole_later(
    store: GraphStore, tmp_path: Path
) -> None:
    # Row 2 builds the exporter (and its country, a reference node written once per load)
    # before its importer is found wanting; row 3 names the same exporter. The record that
    # was quarantined wrote nothing, so row 3 must still bring the country along.
    header = (
        "declaration_number,declaration_date,flow,reporting_country,exporter_name,"
        "exporter_tax_id,exporter_country,importer_name,importer_tax_id,hs_code\n"
    )
    path = tmp_path / "parties.csv"
    path.write_text(
        header
        + "D1,2024-03-04,import,GB,Nordhandel GmbH,DE811111111,DE,,GB123,850440\n"
        + "D2,2024-03-05,import,GB,Nordhandel GmbH,DE811111111,DE,Acme Ltd,GB123,850440\n",
        encoding="utf-8",
    )
    report = load(store, tmp_path, path)
    assert (report.read, report.loaded, report.quarantined) == (2, 1, 1)
    country = store.expand([NORD], rel_types=[RelType.IN_COUNTRY], direction="out")
    assert [r.end for r in country] == ["country:DE"]
    assert store.require_node("country:DE").properties["code"] == "DE"
    shipped = store.expand([NORD], rel_types=[RelType.SHIPPED_TO], direction="out")
    assert [r.end for r in shipped] == ["company:customs:tax:GB123"]
