"""Currency transaction reports: cash flows the detectors walk, quarantine, file errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.ctr import CurrencyTransactionReports
from loaders.report import LoadReport, read_quarantine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ctr"
ALPHA_ACCOUNT = "account:DE89370400440532013000"
BETA_ACCOUNT = "account:NL91ABNA0417164300"
NORDWIND = "company:fiu:tax:DE123456789"
JAN = "person:fiu:id:EA1234567"
PIOTR = "person:fiu:id:EB7654321"
MARIA = "person:fiu:id:RSSMRA80A41H501U"
TOM = "person:fiu:name:tom baker:1966-05-05"
COLUMNS = [
    "report_id",
    "reporting_institution",
    "transaction_date",
    "amount",
    "currency",
    "cash_direction",
    "account_number",
    "iban",
    "conductor_name",
    "conductor_birth_date",
    "conductor_id_number",
    "conductor_nationality",
    "beneficiary_name",
    "beneficiary_tax_id",
    "beneficiary_type",
    "branch",
]


def _load(
    store: GraphStore, tmp_path: Path, file: str | Path, encoding: str = "utf-8"
) -> LoadReport:
    path = file if isinstance(file, Path) else FIXTURES / file
    options = LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)
    return load_file(CurrencyTransactionReports(encoding=encoding), path, store, options)


def _out(store: GraphStore, key: str, rel_type: RelType) -> dict[str, dict[str, Any]]:
    return {
        r.end: r.properties
        for r in store.expand([key], rel_types=[rel_type], direction="out")
        if r.start == key
    }


def _roles(store: GraphStore, key: str) -> set[str]:
    return {
        str(r.properties["role"])
        for r in store.expand([key], rel_types=[RelType.REPORTED_IN], direction="out")
    }


def _snapshot(store: GraphStore) -> tuple[Any, ...]:
    nodes = [n.model_dump() for n in store.iter_nodes()]
    rels = sorted(r.model_dump_json() for r in store.iter_relationships())
    return store.counts(), nodes, rels


def test_valid_rows_load(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "ctr_valid.csv")
    assert (report.read, report.loaded, report.quarantined, report.duplicates) == (4, 4, 0, 0)
    assert report.ignored_columns == []
    counts = store.counts()
    assert counts.nodes == {
        "Report": 4,
        "Transaction": 4,
        "Account": 2,  # Alpha (two deposits), Beta; CTR-0004 has no account
        "Company": 1,  # Nordwind
        "Person": 4,  # Jan, Piotr, Maria (conductor and beneficiary: one id), Tom
        "Country": 3,  # PL, IT, GB (conductor nationalities)
    }
    # PAID: two deposits into Alpha, Beta paid Maria; Tom's deposit has nobody to pay.
    assert counts.relationships["PAID"] == 3
    # Nordwind twice (one edge, two records) and Maria hold an account.
    assert counts.relationships["HOLDS"] == 2


def test_report_and_transaction_nodes(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "ctr_valid.csv")
    assert store.require_node("report:CTR-0001").properties == {
        "report_id": "CTR-0001",
        "report_code": "CTR",
        "reporting_entity": "Bank Alpha",
    }
    txn = store.require_node("transaction:CTR-0001:cash")
    assert txn.properties == {
        "transaction_number": "CTR-0001",
        "date": "2024-03-01",
        "amount": 9900.0,
        "currency": "EUR",
        "cash_direction": "in",
    }
    assert txn.provenance.first_seen == "2024-03-01"
    assert "report:CTR-0001" in _out(store, "transaction:CTR-0001:cash", RelType.PART_OF)
    # "IN" in the file
    assert store.require_node("transaction:CTR-0002:cash").properties["cash_direction"] == "in"


def test_cash_in_flows_from_conductor_to_account(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "ctr_valid.csv")
    txn = "transaction:CTR-0001:cash"
    assert txn in _out(store, JAN, RelType.SENT)
    assert ALPHA_ACCOUNT in _out(store, txn, RelType.RECEIVED)
    assert _out(store, JAN, RelType.PAID) == {
        ALPHA_ACCOUNT: {
            "date": "2024-03-01",
            "amount": 9900.0,
            "currency": "EUR",
            "transaction": txn,
        }
    }
    # Two conductors deposit into one account: what a structuring detector looks for.
    deposits = [
        r for r in store.expand([ALPHA_ACCOUNT], rel_types=[RelType.PAID]) if r.end == ALPHA_ACCOUNT
    ]
    assert {r.start for r in deposits} == {JAN, PIOTR}
    # The beneficiary holds the account; the conductor does not.
    assert _out(store, NORDWIND, RelType.HOLDS) == {ALPHA_ACCOUNT: {"role": "holder"}}
    assert _out(store, JAN, RelType.HOLDS) == {}
    assert _roles(store, JAN) == {"conductor"}
    assert _roles(store, NORDWIND) == {"beneficiary"}
    assert _roles(store, ALPHA_ACCOUNT) == {"account"}
    account = store.require_node(ALPHA_ACCOUNT).properties
    assert (account["account_number"], account["institution"]) == ("0532013000", "Bank Alpha")


def test_cash_out_flows_from_account_to_conductor(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "ctr_valid.csv")
    txn = "transaction:CTR-0003:cash"
    assert txn in _out(store, BETA_ACCOUNT, RelType.SENT)
    assert MARIA in _out(store, txn, RelType.RECEIVED)
    assert _out(store, BETA_ACCOUNT, RelType.PAID)[MARIA]["amount"] == 15000.0
    # Maria withdrew from her own account: conductor and beneficiary are one person.
    assert _roles(store, MARIA) == {"conductor", "beneficiary"}
    assert BETA_ACCOUNT in _out(store, MARIA, RelType.HOLDS)
    # No account number: the IBAN is the account number.
    assert store.require_node(BETA_ACCOUNT).properties["account_number"] == "NL91ABNA0417164300"


def test_a_row_without_account_or_beneficiary(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "ctr_valid.csv")
    txn = "transaction:CTR-0004:cash"
    assert txn in _out(store, TOM, RelType.SENT)
    assert _out(store, txn, RelType.RECEIVED) == {}
    assert _out(store, TOM, RelType.PAID) == {}
    assert _out(store, TOM, RelType.IN_COUNTRY) == {"country:GB": {"role": "nationality"}}


def test_bad_rows_are_quarantined_with_their_field(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "ctr_bad_rows.csv")
    assert (report.read, report.loaded, report.quarantined) == (5, 2, 3)
    assert report.quarantine_file is not None
    entries = read_quarantine(Path(report.quarantine_file))
    assert [(q.record, q.field, q.value) for q in entries] == [
        ("row 3", "amount", "-9900"),
        ("row 4", "cash_direction", "sideways"),
        ("row 5", "currency", "XYZ"),
    ]
    assert "negative" in entries[0].reason
    assert "'in' or 'out'" in entries[1].reason
    assert "ISO 4217" in entries[2].reason
    loaded = {n.properties["report_id"] for n in store.iter_nodes([Label.REPORT])}
    assert loaded == {"CTR-0101", "CTR-0105"}


def test_missing_required_columns_are_all_named(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="required columns missing: amount, cash_direction"):
        _load(store, tmp_path, "ctr_missing_columns.csv")
    assert store.counts().total_nodes == 0


def test_wrong_encoding_names_the_line(store: GraphStore, tmp_path: Path) -> None:
    text = (FIXTURES / "ctr_valid.csv").read_text(encoding="utf-8")
    latin = tmp_path / "latin.csv"
    # Row 4 (CTR-0003) gets a latin-1 é in the conductor's name: line 4 of the file.
    latin.write_bytes(text.replace("Maria Rossi,,", "Mária Rossi,,").encode("latin-1"))
    with pytest.raises(LoadError, match="not valid utf-8") as caught:
        _load(store, tmp_path, latin)
    assert caught.value.location == "line 4"
    assert store.counts().total_nodes == 0
    # Declared, the same file loads.
    assert _load(store, tmp_path, latin, encoding="latin-1").loaded == 4


def test_xml_given_as_ctr_is_refused(store: GraphStore, tmp_path: Path) -> None:
    goaml = FIXTURES.parent / "goaml" / "str_valid.xml"
    with pytest.raises(LoadError, match="looks like XML"):
        _load(store, tmp_path, goaml)
    assert store.counts().total_nodes == 0


def test_reloading_the_same_file_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "ctr_valid.csv")
    before = _snapshot(store)
    _load(store, tmp_path, "ctr_valid.csv")
    assert _snapshot(store) == before


def test_corrected_redelivery_updates_and_keeps_both_sources(
    store: GraphStore, tmp_path: Path
) -> None:
    first = _load(store, tmp_path, "ctr_valid.csv")
    second = _load(store, tmp_path, "ctr_corrected.csv")
    txn = store.require_node("transaction:CTR-0001:cash")
    assert txn.properties["amount"] == 9950.0
    assert txn.provenance.sources == [
        f"fiu|ctr_valid.csv|{first.load_id}",
        f"fiu|ctr_corrected.csv|{second.load_id}",
    ]
    assert _out(store, JAN, RelType.PAID)[ALPHA_ACCOUNT]["amount"] == 9950.0
    assert store.require_node("transaction:CTR-0002:cash").properties["amount"] == 9800.0


# --- property-based ------------------------------------------------------------------------
_VALID_ROW = dict(
    zip(
        COLUMNS,
        next(csv.reader(io.StringIO((FIXTURES / "ctr_valid.csv").read_text().splitlines()[1]))),
        strict=True,
    )
)
_CELL = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10),
    st.sampled_from(["", "in", "OUT", "-1", "1e400", "nan", "EUR", "XYZ", "2999-01-01", "company"]),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from(COLUMNS), _CELL, max_size=5), min_size=1, max_size=6
    )
)
def test_random_rows_are_loaded_or_quarantined(
    embedded_store: EmbeddedStore, tmp_path: Path, rows: list[dict[str, str]]
) -> None:
    # Each row is the valid row with a few cells replaced by random or hostile values.
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for changes in rows:
        writer.writerow({**_VALID_ROW, **changes})
    path = tmp_path / "random.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    report = _load(embedded_store, tmp_path, path)
    assert report.read == report.loaded + report.quarantined
    # At most 5 of 16 cells change, so no row is blank and every row is read.
    assert report.read == len(rows)
