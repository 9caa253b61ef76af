"""Property-based: whatever the cells of a customs file hold, nothing is lost or crashes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_models.store.embedded import EmbeddedStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.customs import CustomsDeclarations

VALID = {
    "declaration_number": "24GB000101",
    "item_number": "1",
    "declaration_date": "2024-03-04",
    "flow": "import",
    "reporting_country": "GB",
    "exporter_name": "Nordhandel GmbH",
    "exporter_tax_id": "DE811111111",
    "exporter_country": "DE",
    "importer_name": "ACME TRADING LTD",
    "importer_tax_id": "GB123456789",
    "importer_address": "1 High Street, London",
    "importer_country": "GB",
    "hs_code": "850440",
    "quantity": "1200",
    "invoice_value": "48000",
    "invoice_currency": "EUR",
    "origin_country": "DE",
}
COLUMNS = list(VALID)

# Mutations that real deliveries contain: blanks, junk, wrong signs, wrong codes, odd unicode.
mutation = st.one_of(
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(
        ["-1", "NaN", "inf", "1e400", "2099-12-31", "31/12/2023", "ZZ", "EURO", "8504"]
    ),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
)


@st.composite
def rows(draw: st.DrawFn) -> list[dict[str, str]]:
    out = []
    for i in range(draw(st.integers(min_value=1, max_value=8))):
        row = dict(VALID, declaration_number=f"24GB{i:06d}")
        for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=5)):
            row[column] = draw(mutation)
        out.append(row)
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows(), extra_cells=st.booleans())
def test_read_equals_loaded_plus_quarantined(
    tmp_path: Path, data: list[dict[str, str]], extra_cells: bool
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in data:
        cells = [row[c] for c in COLUMNS]
        writer.writerow([*cells, "surplus"] if extra_cells else cells)
    path = tmp_path / "mutated.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    store = EmbeddedStore(tmp_path / "g.sqlite")
    store.init_schema()
    store.clear()
    try:
        report = load_file(
            CustomsDeclarations(),
            path,
            store,
            LoadOptions(quiet=True, quarantine_dir=tmp_path / "q", reports_dir=None),
        )
    except LoadError:
        # Only whole-file problems may stop a load, and then nothing may have been written.
        assert store.counts().total_nodes == 0
        return
    finally:
        store.close()
    assert report.read == len(data)
    assert report.read == report.loaded + report.quarantined
    if extra_cells:
        assert report.loaded == 0
