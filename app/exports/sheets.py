"""Tables and their two encodings, CSV and XLSX, with hostile text neutralised.

A :class:`Table` is a name, a header row and rows of cells (text, number, bool or None). CSV is
UTF-8 with a byte-order mark, because Excel otherwise reads it as the local code page and i2
Analyst's Notebook's importer accepts both. In XLSX a text cell is always stored as text: a
string starting with ``=`` would otherwise become a formula (openpyxl's rule).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from app.exports.text import cell_text, xml_text

Cell = str | int | float | bool | None

# Excel's limits: a sheet name is at most 31 characters, a cell at most 32,767.
_SHEET_NAME = 31
_CELL_CHARS = 32_767


@dataclass
class Table:
    name: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def _csv_cell(value: Cell) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return cell_text(value)
    return value


def to_csv(table: Table) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([_csv_cell(c) for c in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx_cell(value: Cell) -> Cell:
    if isinstance(value, str):
        # openpyxl refuses control characters (IllegalCharacterError); Excel caps a cell.
        return xml_text(value)[:_CELL_CHARS]
    return value


def to_xlsx(tables: list[Table]) -> bytes:
    book = Workbook()
    first = True
    for table in tables:
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = table.name[:_SHEET_NAME]
        sheet.append([_xlsx_cell(h) for h in table.headers])
        for row in table.rows:
            sheet.append([_xlsx_cell(c) for c in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl stores a string starting "=" as a formula
        sheet.freeze_panes = "A2"
        for i, header in enumerate(table.headers, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(12, min(len(header) + 4, 40))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
