"""CSV, XLSX and i2 Analyst's Notebook import files: read back, formulas neutralised."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app.exports.anb import ENTITY_COLUMNS, LINK_COLUMNS, write_anb
from app.exports.model import ExportMaterial
from app.exports.tables import write_csv, write_xlsx
from tests.exports.conftest import ANNA, FORMULA, FORMULA_NAME, NORDWIND, SCRIPT_NAME, TXN


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_anb_entities_and_links_import_with_identities_that_join(
    material: ExportMaterial,
) -> None:
    files = write_anb(material)
    entities = _rows(files["anb-entities.csv"])
    links = _rows(files["anb-links.csv"])
    assert list(entities[0]) == ENTITY_COLUMNS
    assert list(links[0]) == LINK_COLUMNS
    by_id = {e["Identity"]: e for e in entities}
    assert set(by_id) == {n.key for n in material.nodes}
    assert by_id[NORDWIND]["Entity Type"] == "Organisation"
    assert by_id[ANNA]["Entity Type"] == "Person"
    assert (by_id[TXN]["Date"], by_id[TXN]["Amount"]) == ("2024-03-01", "9500.0")
    assert by_id[TXN]["Record IDs"] == "str.xml|/reports/report[1]/transaction[1]"
    assert len(links) == len(material.relationships)
    assert all(link["From Identity"] in by_id and link["To Identity"] in by_id for link in links)
    director = next(link for link in links if link["Link Type"] == "DIRECTOR_OF")
    assert (director["From Identity"], director["To Identity"]) == (ANNA, NORDWIND)
    assert director["Label"] == "DIRECTOR_OF (MD)"
    # A formula as a name is text to a spreadsheet: prefixed with an apostrophe.
    assert by_id[FORMULA]["Label"] == "'" + FORMULA_NAME


def test_csv_tables_hold_every_row_with_provenance(material: ExportMaterial) -> None:
    files = write_csv(material)
    assert set(files) == {
        "nodes.csv",
        "relationships.csv",
        "alerts.csv",
        "timeline.csv",
        "withheld.csv",
    }
    nodes = _rows(files["nodes.csv"])
    assert [n["key"] for n in nodes] == [n.key for n in material.nodes]
    assert {n["label"] for n in nodes} >= {SCRIPT_NAME, "'" + FORMULA_NAME, "Bell Imports"}
    assert len(_rows(files["relationships.csv"])) == len(material.relationships)
    (alert,) = _rows(files["alerts.csv"])
    assert alert["typology"] == "structuring"
    assert "transfers=4.0" in alert["indicators"]
    timeline = _rows(files["timeline.csv"])
    assert [e["date"] for e in timeline] == ["2024-02-01", "2024-03-01"]
    (withheld,) = _rows(files["withheld.csv"])
    assert withheld["note"].startswith("held by the tax administration")


def test_xlsx_has_a_sheet_per_table_and_no_formula_anywhere(material: ExportMaterial) -> None:
    book = load_workbook(io.BytesIO(write_xlsx(material)["tables.xlsx"]))
    assert book.sheetnames == ["about", "nodes", "relationships", "alerts", "timeline", "withheld"]
    about = {row[0]: row[1] for row in book["about"].iter_rows(min_row=2, values_only=True)}
    assert about["purpose"] == "joint operation Harbour"
    assert about["case_id"] == "case-2026-000001"
    nodes = book["nodes"]
    keys = [row[0] for row in nodes.iter_rows(min_row=2, values_only=True)]
    assert keys == [n.key for n in material.nodes]
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    labels = {row[1] for row in nodes.iter_rows(min_row=2, values_only=True)}
    assert FORMULA_NAME in labels  # stored as text, exactly
    assert "Bell Imports" in labels
