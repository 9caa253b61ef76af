"""CSV and XLSX sources: streaming, with file-level checks before the first row is loaded.

Before anything is written the file is checked whole: that it is not XML or a zip/XLSX in
disguise, that it decodes in the expected encoding (the error names line and column of the
first bad byte), and that the header carries every required column (all missing ones are
named). A file that fails loads nothing, so a corrected re-delivery starts clean.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from loaders.base import LoadError, RawRecord, RecordProblem, SourceFormat

_SNIFF = 512


class _CountingReader(io.RawIOBase):
    """A binary reader that remembers how many bytes it has handed out (for progress)."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def sniff_kind(path: Path) -> str:
    """'xml', 'zip' (XLSX and other zips), 'empty' or 'text' from the first bytes."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    stripped = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not stripped:
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if stripped.startswith(b"<"):
        return "xml"
    return "text"


def check_encoding(path: Path, encoding: str) -> None:
    """Decode the whole file incrementally; name line and column of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                bad = offset + e.start
                prefix = _prefix(path, bad)
                line = prefix.count(b"\n") + 1
                column = bad - (prefix.rfind(b"\n") + 1) + 1
                raise LoadError(
                    path,
                    f"not valid {encoding}: byte 0x{chunk[e.start]:02x} at line {line},"
                    f" column {column}; re-save the file as UTF-8 or load it with"
                    " --encoding (for example cp1252 or latin-1)",
                    location=f"line {line}",
                ) from e
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            raise LoadError(path, f"not valid {encoding}: the file ends mid-character") from e


def _prefix(path: Path, upto: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(upto)


class TabularFormat(SourceFormat):
    """A format whose records are rows of a CSV (or XLSX) file with one column per field.

    Column names are the model's field names; extra columns are reported and ignored.
    """

    encoding: str = "utf-8"
    model: ClassVar[type[BaseModel]]

    def __init__(self, *, encoding: str = "utf-8") -> None:
        self.encoding = encoding
        self._ignored: list[str] = []

    def required_columns(self) -> list[str]:
        return [n for n, f in self.model.model_fields.items() if f.is_required()]

    def known_columns(self) -> list[str]:
        return list(self.model.model_fields)

    def ignored_columns(self) -> list[str]:
        return self._ignored

    def _check_header(self, path: Path, header: list[str]) -> list[str]:
        clean = [h.strip().removeprefix("\ufeff") for h in header]
        missing = [c for c in self.required_columns() if c not in clean]
        if missing:
            raise LoadError(
                path,
                f"not a {self.kind} file: required columns missing: {', '.join(missing)}"
                f" (found: {', '.join(clean) or 'no header'})",
                location="header",
            )
        dupes = sorted({c for c in clean if clean.count(c) > 1})
        if dupes:
            raise LoadError(path, f"duplicate columns: {', '.join(dupes)}", location="header")
        known = set(self.known_columns())
        self._ignored = [c for c in clean if c not in known]
        return clean

    def records(self, path: Path) -> Iterator[RawRecord]:
        kind = sniff_kind(path)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            if kind != "zip":
                raise LoadError(path, "has an .xlsx name but is not an XLSX workbook")
            yield from self._xlsx_records(path)
            return
        if kind == "empty":
            raise LoadError(path, f"empty file; a {self.kind} CSV needs a header row")
        if kind == "xml":
            raise LoadError(path, f"looks like XML, not a {self.kind} CSV file")
        if kind == "zip":
            raise LoadError(path, "looks like a zip or XLSX workbook; give it an .xlsx name")
        check_encoding(path, self.encoding)
        self._check_structure(path)
        yield from self._csv_records(path)

    def _text_encoding(self) -> str:
        return "utf-8-sig" if self.encoding.lower().replace("_", "-") == "utf-8" else self.encoding

    def _check_structure(self, path: Path) -> None:
        # The csv module cannot resynchronise after, say, an unterminated quote: what follows
        # would be guesswork. Parse the whole file once before loading so such a file loads
        # nothing instead of half.
        with path.open(encoding=self._text_encoding(), newline="") as text:
            reader = csv.reader(text)
            try:
                for _ in reader:
                    pass
            except csv.Error as e:
                raise LoadError(
                    path, f"malformed CSV: {e}", location=f"line {reader.line_num}"
                ) from e

    def _csv_records(self, path: Path) -> Iterator[RawRecord]:
        counter = _CountingReader(path.open("rb"))
        with io.TextIOWrapper(
            io.BufferedReader(counter), encoding=self._text_encoding(), newline=""
        ) as text:
            reader = csv.reader(text)
            try:
                header = next(reader)
            except csv.Error as e:
                raise LoadError(path, f"unreadable CSV header: {e}", location="line 1") from e
            columns = self._check_header(path, header)
            while True:
                start_line = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as e:
                    # The csv module cannot resynchronise reliably after a broken quote; the
                    # rest of the file would be guesswork, so stop loudly.
                    raise LoadError(
                        path, f"malformed CSV: {e}", location=f"line {start_line}"
                    ) from e
                if not any(c.strip() for c in cells):
                    continue  # blank line: not a record
                record_id = f"row {start_line}"
                problem = None
                if len(cells) != len(columns):
                    problem = RecordProblem(
                        None, f"row has {len(cells)} fields, the header has {len(columns)}"
                    )
                data = dict(zip(columns, cells, strict=False))
                yield RawRecord(record_id, data, counter.count, problem)

    def _xlsx_records(self, path: Path) -> Iterator[RawRecord]:
        # openpyxl's read-only mode streams rows (pandas.read_excel would load the whole sheet).
        from openpyxl import load_workbook  # noqa: PLC0415 - only XLSX loads need it

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds on a bad workbook
            raise LoadError(path, f"unreadable XLSX workbook: {e}") from e
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                raise LoadError(path, "the first sheet is empty", location="sheet 1")
            columns = self._check_header(path, ["" if h is None else str(h) for h in header])
            for index, values in enumerate(rows, start=2):
                if all(v is None or str(v).strip() == "" for v in values):
                    continue
                cells = ["" if v is None else _cell(v) for v in values]
                data = dict(zip(columns, cells, strict=False))
                yield RawRecord(f"sheet 1 row {index}", data, index)
        finally:
            book.close()

    def total_size(self, path: Path) -> int:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return 1_000_000  # rows: unknown up front in read-only mode
        return path.stat().st_size


def _cell(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
