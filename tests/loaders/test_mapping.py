"""The YAML mapping loader: shipped mappings, a custom mapping, invalid mappings, fuzzing."""

from __future__ import annotations

import csv
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from loaders import keys
from loaders.base import LoadError, LoadOptions, load_file
from loaders.mapping import MappedTable, MappingError, shipped_mapping
from loaders.mapping_keys import as_iban
from loaders.report import LoadReport, QuarantineEntry, read_quarantine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mapping"
GB_IBAN = "GB29NWBK60161331926819"
DE_IBAN = "DE89370400440532013000"
GB = keys.account_key(iban=GB_IBAN)
DE = keys.account_key(iban=DE_IBAN)
N1 = keys.account_key(number="12345678")
N2 = keys.account_key(number="87654321")


def load(
    store: GraphStore, tmp_path: Path, data: str | Path, mapping: str | Path = "money_transfers"
) -> LoadReport:
    path = mapping if isinstance(mapping, Path) else shipped_mapping(mapping)
    options = LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)
    data_path = data if isinstance(data, Path) else FIXTURES / data
    return load_file(MappedTable.from_file(path), data_path, store, options)


def quarantined(report: LoadReport) -> dict[str, QuarantineEntry]:
    assert report.quarantine_file is not None
    return {e.record: e for e in read_quarantine(Path(report.quarantine_file))}


def paid(store: GraphStore) -> dict[str, Any]:
    return {
        str(r.properties.get("transaction", r.key)): r
        for r in store.iter_relationships([RelType.PAID])
    }


def snapshot(store: GraphStore) -> tuple[list[Any], list[Any]]:
    nodes = sorted((n.model_dump() for n in store.iter_nodes()), key=lambda n: n["key"])
    rels = sorted(
        (r.model_dump() for r in store.iter_relationships()),
        key=lambda r: (r["type"], r["start"], r["end"], r["key"]),
    )
    return nodes, rels


# --- money_transfers -----------------------------------------------------------------------
def test_transfers_become_paid_edges_between_accounts(store: GraphStore, tmp_path: Path) -> None:
    report = load(store, tmp_path, "transfers.csv")
    assert report.kind == "mapping:money_transfers"
    assert (report.read, report.loaded, report.quarantined) == (8, 4, 4)
    assert report.ignored_columns == ["from_name", "to_name"]
    counts = store.counts()
    # The lower-case, spaced IBAN of row 4 is the same account as the GB IBAN of row 2.
    assert counts.nodes == {"Account": 4}
    assert counts.relationships == {"PAID": 4}
    edges = paid(store)
    t1 = edges["T-001"]
    assert (t1.start, t1.end, t1.key) == (GB, DE, "T-001")
    assert t1.properties == {
        "date": "2024-01-05",
        "amount": 9500.0,
        "currency": "EUR",
        "transaction": "T-001",
    }
    assert (edges["T-002"].start, edges["T-002"].end) == (DE, N1)
    assert (edges["T-003"].start, edges["T-003"].end, edges["T-003"].properties["amount"]) == (
        N1,
        GB,
        9300.5,
    )
    # A transfer without an id is keyed by date, accounts, amount and currency.
    no_id = next(r for r in edges.values() if "transaction" not in r.properties)
    assert (no_id.start, no_id.end) == (N1, N2)
    assert no_id.key == "2024-01-08:12345678:87654321:500.0:USD"
    assert t1.provenance.agencies == ["fiu"]
    assert t1.provenance.first_seen == "2024-01-05"
    gb = store.require_node(GB)
    assert gb.properties == {"account_number": GB_IBAN, "iban": GB_IBAN}
    assert store.require_node(N1).properties == {"account_number": "12345678"}


def test_bad_transfers_are_quarantined_naming_the_column(store: GraphStore, tmp_path: Path) -> None:
    report = load(store, tmp_path, "transfers.csv")
    assert report.balanced
    bad = quarantined(report)
    assert set(bad) == {"row 6", "row 7", "row 8", "row 9"}
    assert bad["row 6"].field == "amount"
    assert "negative" in bad["row 6"].reason
    assert bad["row 7"].field == "date"
    assert "not a date" in bad["row 7"].reason
    assert bad["row 7"].value == "05/01/2024"
    assert bad["row 8"].field == "currency"
    assert "ISO 4217" in bad["row 8"].reason
    assert bad["row 9"].field == "from_account"
    assert "needs a value" in bad["row 9"].reason
    assert all(e.file.endswith("transfers.csv") for e in bad.values())
    # Nothing of a quarantined row reached the graph.
    assert "T-005" not in paid(store)


def test_reloading_transfers_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    load(store, tmp_path, "transfers.csv")
    before, counts = snapshot(store), store.counts()
    report = load(store, tmp_path, "transfers.csv")
    assert report.loaded == 4
    assert store.counts() == counts
    assert snapshot(store) == before


def test_corrected_redelivery_updates_amount_and_keeps_both_sources(
    store: GraphStore, tmp_path: Path
) -> None:
    first = load(store, tmp_path, "transfers.csv")
    second = load(store, tmp_path, "transfers_v2.csv")
    t1 = paid(store)["T-001"]
    assert t1.properties["amount"] == 9550.0
    assert t1.provenance.sources == [
        f"fiu|transfers.csv|{first.load_id}",
        f"fiu|transfers_v2.csv|{second.load_id}",
    ]
    assert store.counts().relationships == {"PAID": 4}


def test_data_file_missing_a_mapped_column_loads_nothing(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="required columns missing: currency") as err:
        load(store, tmp_path, "transfers_no_currency.csv")
    assert err.value.file.endswith("transfers_no_currency.csv")
    assert store.counts().total_nodes == 0


def test_iban_detection_checks_the_check_digits() -> None:
    assert as_iban("gb29 nwbk 6016 1331 9268 19") == GB_IBAN
    assert as_iban("GB28NWBK60161331926819") is None  # one check digit off
    assert as_iban("12345678") is None


# --- company_officers ----------------------------------------------------------------------
def test_officers_become_people_directing_companies(store: GraphStore, tmp_path: Path) -> None:
    report = load(store, tmp_path, "officers.csv", "company_officers")
    assert (report.read, report.loaded, report.quarantined) == (6, 4, 2)
    bad = quarantined(report)
    assert bad["row 6"].field == "jurisdiction"
    assert "ISO 3166" in bad["row 6"].reason
    assert bad["row 7"].field == "role"

    # Keys are those the registry loader makes, so both meet on the same nodes.
    acme = keys.company_key("registry", name="x", registration_number="01234567", country="GB")
    beta = keys.company_key("registry", name="x", registration_number="B998", country="LU")
    jane = keys.person_key("registry", name="Jane Doe", birth_date="1970-02-03")
    jean = keys.person_key("registry", name="Jean Martin")
    assert store.require_node(acme).properties == {
        "name": "Acme Trading Ltd",
        "name_norm": "acme trading ltd",
        "registration_number": "01234567",
        "jurisdiction": "GB",
    }
    assert store.require_node(jane).properties["nationality"] == "GB"
    directing = {
        (r.start, r.end, r.properties["role"]): r
        for r in store.iter_relationships([RelType.DIRECTOR_OF])
    }
    assert set(directing) == {
        (jane, acme, "director"),
        (jane, acme, "secretary"),
        (jane, beta, "director"),
        (jean, beta, "director"),
    }
    assert directing[(jane, acme, "secretary")].properties["appointed"] == "2020-01-15"
    assert "appointed" not in directing[(jean, beta, "director")].properties
    gb = store.require_node(keys.country_key("GB"))
    assert gb.properties == {"code": "GB", "name": "United Kingdom"}
    in_country = {(r.start, r.end, r.key) for r in store.iter_relationships([RelType.IN_COUNTRY])}
    assert (acme, keys.country_key("GB"), "jurisdiction") in in_country
    assert (jean, keys.country_key("FR"), "nationality") in in_country
    assert store.counts().nodes == {"Company": 2, "Person": 2, "Country": 3}


# --- a custom mapping ----------------------------------------------------------------------
SEIZURES = """\
name: seizures
description: cash seized at the border
agency: customs
record_id: seizure_no
seen: seized_on
nodes:
  - id: seizure
    label: CashDeclaration
    key: {columns: [seizure_no]}
    required: true
    properties:
      declaration_id: seizure_no
      date: {column: seized_on, type: date, format: "%d/%m/%Y", required: true}
      port: port
      amount: {column: amount, type: float}
      currency: currency
      undeclared: {value: true}
      direction: {value: inbound}
  - id: carrier
    label: Person
    key: {kind: person, name: carrier, id_number: passport}
    properties:
      nationality: carrier_nationality
relationships:
  - {type: CARRIED, from: carrier, to: seizure}
"""


def write_mapping(tmp_path: Path, text: str, name: str = "mapping.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_custom_mapping_with_a_date_format(store: GraphStore, tmp_path: Path) -> None:
    mapping = write_mapping(tmp_path, SEIZURES)
    report = load(store, tmp_path, "seizures.csv", mapping)
    assert report.kind == "mapping:seizures"
    assert (report.read, report.loaded, report.quarantined) == (6, 3, 3)
    assert report.duplicates == 1  # S-1 delivered twice (record_id: seizure_no)
    bad = quarantined(report)
    assert bad["row 4"].field == "seized_on"
    assert "%d/%m/%Y" in bad["row 4"].reason  # 31 February
    assert bad["row 5"].field == "seized_on"
    assert "future" in bad["row 5"].reason
    assert bad["row 6"].field == "seized_on"
    assert bad["row 6"].reason == "a value is required (CashDeclaration.date)"

    s1 = store.require_node(keys.record_key(Label.CASH_DECLARATION, "customs", "S-1"))
    assert s1.properties == {
        "declaration_id": "S-1",
        "date": "2024-02-03",
        "port": "Dover",
        "amount": 48000.0,
        "currency": "EUR",
        "undeclared": True,
        "direction": "inbound",
    }
    assert s1.provenance.agencies == ["customs"]
    ivan = keys.person_key("customs", name="Ivan Petrov", id_number="P1234567")
    assert store.require_node(ivan).properties["nationality"] == "BG"
    carried = [(r.start, r.end) for r in store.iter_relationships([RelType.CARRIED])]
    assert carried == [(ivan, s1.key)]
    # S-2 has no carrier: the optional node is skipped, the seizure still loads.
    s2 = store.require_node(keys.record_key(Label.CASH_DECLARATION, "customs", "S-2"))
    assert s2.properties["date"] == "2024-02-17"
    assert store.counts().nodes == {"CashDeclaration": 2, "Person": 1}


def test_custom_mapping_reads_xlsx_date_cells(store: GraphStore, tmp_path: Path) -> None:
    from openpyxl import Workbook  # noqa: PLC0415 - only this test writes a workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with (FIXTURES / "seizures.csv").open(encoding="utf-8") as fh:
        header, first, *_ = list(csv.reader(fh))
    sheet.append(header)
    # A real date cell, whatever the sheet displays: it reaches the loader as ISO text.
    sheet.append(
        [date(2024, 2, 3) if c == "seized_on" else v for c, v in zip(header, first, strict=True)]
    )
    path = tmp_path / "seizures.xlsx"
    book.save(path)
    report = load(store, tmp_path, path, write_mapping(tmp_path, SEIZURES))
    assert (report.read, report.loaded) == (1, 1)
    s1 = store.require_node(keys.record_key(Label.CASH_DECLARATION, "customs", "S-1"))
    assert s1.properties["date"] == "2024-02-03"


# --- invalid mappings ----------------------------------------------------------------------
VALID_HEAD = "name: bad\nagency: fiu\n"
ACCOUNTS = """\
nodes:
  - {id: a, label: Account, key: {kind: account, number: from}}
  - {id: b, label: Account, key: {kind: account, number: to}}
"""
PAID_REL = """\
relationships:
  - type: PAID
    from: a
    to: b
    properties: {date: date, amount: amount}
"""


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        pytest.param(
            "nodes:\n  - {id: a, label: Compny, key: {columns: [id]}}\n",
            "nodes[0].label",
            "unknown label 'Compny'; did you mean 'Company'?",
            id="unknown-label",
        ),
        pytest.param(
            "nodes:\n  - {id: a, label: Judgement, key: {columns: [id]}}\n",
            "nodes[0].label",
            "Judgement nodes are made by iffgraph itself, not loaded",
            id="forged-judgement",
        ),
        pytest.param(
            "nodes:\n  - {id: a, label: Alert, key: {columns: [id]}}\n",
            "nodes[0].label",
            "Alert nodes are made by iffgraph itself, not loaded",
            id="forged-alert",
        ),
        pytest.param(
            ACCOUNTS + "  - {id: c, label: Country, key: {kind: country, code: cc}}\n"
            "relationships:\n"
            "  - {type: PAID, from: c, to: b, properties: {date: date, amount: amount}}\n",
            "relationships[0].from",
            "PAID cannot start at Country (node 'c'); the schema allows Account, Company, Person",
            id="relationship-end-not-allowed",
        ),
        pytest.param(
            ACCOUNTS + PAID_REL.replace("to: b", "to: nobody"),
            "relationships[0].to",
            "no node with id 'nobody' is declared (nodes: a, b)",
            id="undeclared-node-id",
        ),
        pytest.param(
            ACCOUNTS + PAID_REL.replace("type: PAID", "type: PAYED"),
            "relationships[0].type",
            "unknown relationship type 'PAYED'; did you mean 'PAID'?",
            id="unknown-relationship-type",
        ),
        pytest.param(
            ACCOUNTS + PAID_REL.replace("amount: amount", "amount: amount, colour: c"),
            "relationships[0].properties.colour",
            "PAID has no property 'colour'",
            id="unknown-property",
        ),
        pytest.param(
            ACCOUNTS + PAID_REL.replace("amount: amount", "currency: ccy"),
            "relationships[0].properties",
            "PAID requires the property 'amount' but the mapping does not fill it",
            id="required-property-unmapped",
        ),
        pytest.param(
            "nodes:\n  - {id: a, label: Account, key: {kind: acount, number: n}}\n",
            "nodes[0].key",
            "unknown key kind 'acount'",
            id="unknown-key-kind",
        ),
        pytest.param(
            "nodes:\n  - {id: a, label: Account, key: {kind: account, numbr: n}}\n",
            "nodes[0].key.numbr",
            "unknown key",
            id="unknown-key-field",
        ),
        pytest.param(
            "nodes:\n  - {id: a, label: Company, key: {kind: account, number: n}}\n",
            "nodes[0].key.kind",
            "key kind 'account' makes Account keys, but the node's label is Company",
            id="kind-of-another-label",
        ),
        pytest.param(
            "nodes:\n  - {id: a, label: Account, key: {columns: [n]}}\n",
            "nodes[0].key",
            "Account nodes are shared values: key them with {kind: account, ...}",
            id="shared-value-record-key",
        ),
        pytest.param(
            ACCOUNTS
            + PAID_REL.replace("amount: amount", "amount: amount, currency: {value: EURO}"),
            "relationships[0].properties.currency.value",
            "unknown ISO 4217 currency code 'EURO'",
            id="bad-constant",
        ),
        pytest.param(
            ACCOUNTS + PAID_REL.replace("amount: amount", "amount: date"),
            "relationships[0].properties.amount",
            "column 'date' is read as float here but as date at relationships[0].properties.date",
            id="column-read-two-ways",
        ),
        pytest.param(
            ACCOUNTS + PAID_REL.replace("date: date", "date: {column: date, type: int}"),
            "relationships[0].properties.date.type",
            "PAID.date is of type date, not int",
            id="type-disagrees-with-schema",
        ),
        pytest.param(
            ACCOUNTS + "colour: red\n",
            "colour",
            "unknown key",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "nodes:\n  - id: a\n   label: Account\n",  # label indented one space too far
            "line 5, column 4",
            "not valid YAML",
            id="broken-yaml",
        ),
    ],
)
def test_invalid_mapping_names_the_file_and_the_key(
    tmp_path: Path, body: str, where: str, message: str
) -> None:
    path = write_mapping(tmp_path, VALID_HEAD + body, "broken-mapping.yaml")
    with pytest.raises(MappingError) as err:
        MappedTable.from_file(path)
    assert isinstance(err.value, LoadError)
    assert err.value.file == str(path)
    assert err.value.location is not None
    assert err.value.location.startswith(where)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path} at {where}")


def test_shipped_mappings_are_valid() -> None:
    for name in ("money_transfers", "company_officers"):
        fmt = MappedTable.from_file(shipped_mapping(name))
        assert fmt.kind == f"mapping:{name}"
    with pytest.raises(MappingError, match="no shipped mapping 'nope'"):
        shipped_mapping("nope")
    with pytest.raises(TypeError, match="from_file"):
        MappedTable()


# --- property-based ------------------------------------------------------------------------
COLUMNS = [
    "transfer_id",
    "date",
    "from_account",
    "from_name",
    "to_account",
    "to_name",
    "amount",
    "currency",
]
ACCOUNT_VALUES = [GB_IBAN, DE_IBAN, "12345678", "87654321", "gb29 nwbk 6016 1331 9268 19"]
junk = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=12)
valid_cells: dict[str, st.SearchStrategy[str]] = {
    "transfer_id": st.from_regex(r"T-[0-9]{1,3}", fullmatch=True),
    "date": st.dates(min_value=date(2000, 1, 1), max_value=date(2024, 12, 31)).map(str),
    "from_account": st.sampled_from(ACCOUNT_VALUES),
    "from_name": st.text(max_size=8),
    "to_account": st.sampled_from(ACCOUNT_VALUES),
    "to_name": st.text(max_size=8),
    "amount": st.floats(min_value=0, max_value=1e7, allow_nan=False).map(lambda f: f"{f:.2f}"),
    "currency": st.sampled_from(["EUR", "USD", "GBP", "eur"]),
}
mutations = st.sampled_from(["", "-5", "2024-02-30", "2999-01-01", "ZZZ", "NaN", "1e400", " "])


@st.composite
def transfer_rows(draw: st.DrawFn) -> list[list[str]]:
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        row = [draw(valid_cells[c]) for c in COLUMNS]
        for _ in range(draw(st.integers(min_value=0, max_value=2))):  # mutate 0 to 2 cells
            row[draw(st.integers(0, len(COLUMNS) - 1))] = draw(st.one_of(mutations, junk))
        if draw(st.booleans()) and draw(st.booleans()):
            row.append("extra")  # one field too many
        rows.append(row)
    return rows


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=transfer_rows(), order=st.permutations(COLUMNS))
def test_random_transfers_never_crash_and_balance(
    embedded_store: EmbeddedStore, tmp_path: Path, rows: list[list[str]], order: list[str]
) -> None:
    path = tmp_path / "fuzz.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(order)
        for row in rows:
            cells = dict(zip(COLUMNS, row, strict=False))
            writer.writerow([cells[c] for c in order] + row[len(COLUMNS) :])
    expected = sum(1 for r in rows if any(c.strip() for c in r))
    try:
        report = load(embedded_store, tmp_path, path)
    except LoadError:
        return  # a file-level problem (a stray quote) is refused whole, never half-loaded
    assert report.read == expected
    assert report.read == report.loaded + report.quarantined
