"""goAML XML reports: the graph, quarantine by element path, hostile and broken files."""

from __future__ import annotations

import copy
import random
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from loaders import goaml_xml
from loaders.base import LoadError, LoadOptions, load_file
from loaders.goaml import GoamlReports
from loaders.goaml_xml import XmlLimits
from loaders.report import LoadReport, read_quarantine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "goaml"

REPORT_1 = "report:1001:STR-2024-0001"
REPORT_2 = "report:1002:2024-04-10#2"  # no entity_reference: submission date # position
T1 = "transaction:1001:STR-2024-0001:T1"
T2 = "transaction:1001:STR-2024-0001:T2"
R2_T1 = "transaction:1002:2024-04-10#2:1"
R2_T2 = "transaction:1002:2024-04-10#2:2"
ALPHA_ACCOUNT = "account:DE89370400440532013000"
BETA_ACCOUNT = "account:NL91ABNA0417164300"
GAMMA_ACCOUNT = "account:bank gamma:5501992"
NORDWIND = "company:fiu:tax:DE123456789"
BLUE_HARBOUR = "company:fiu:reg:GB:12345678"
ANNA = "person:fiu:id:C01X00T47"
JAN = "person:fiu:id:EA1234567"
MARIA = "person:fiu:id:RSSMRA80A41H501U"


def _options(tmp_path: Path) -> LoadOptions:
    return LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)


def _load(
    store: GraphStore, tmp_path: Path, file: str | Path, fmt: GoamlReports | None = None
) -> LoadReport:
    path = file if isinstance(file, Path) else FIXTURES / file
    return load_file(fmt or GoamlReports(), path, store, _options(tmp_path))


def _quarantine(report: LoadReport) -> list[tuple[str, str | None, str]]:
    assert report.quarantine_file is not None
    return [(q.record, q.field, q.reason) for q in read_quarantine(Path(report.quarantine_file))]


def _out(store: GraphStore, key: str, rel_type: RelType) -> dict[str, list[dict[str, Any]]]:
    """Relationships of one type leaving ``key``: end key -> their properties."""
    found: dict[str, list[dict[str, Any]]] = {}
    for r in store.expand([key], rel_types=[rel_type], direction="out"):
        if r.start == key:
            found.setdefault(r.end, []).append(r.properties)
    return found


def _roles(store: GraphStore, key: str, report: str) -> set[str]:
    return {str(p["role"]) for p in _out(store, key, RelType.REPORTED_IN).get(report, [])}


def _snapshot(store: GraphStore) -> tuple[Any, ...]:
    nodes = [n.model_dump() for n in store.iter_nodes()]
    rels = sorted(r.model_dump_json() for r in store.iter_relationships())
    return store.counts(), nodes, rels


def _assert_empty(store: GraphStore, tmp_path: Path) -> None:
    assert store.counts().total_nodes == 0
    assert store.counts().total_relationships == 0
    assert not (tmp_path / "quarantine").exists() or not any((tmp_path / "quarantine").iterdir())


# --- a valid file ------------------------------------------------------------------------------
def test_valid_file_loads_every_report_and_transaction(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "str_valid.xml")
    # 2 report headers + 4 transactions.
    assert (report.read, report.loaded, report.quarantined, report.duplicates) == (6, 6, 0, 0)
    counts = store.counts()
    assert counts.nodes == {
        "Report": 2,
        "Transaction": 4,
        "Account": 3,  # Alpha (IBAN), Beta (IBAN), Gamma (institution + number)
        "Company": 2,  # Nordwind (account holder and to_entity: one tax id), Blue Harbour
        "Person": 3,  # Anna (director and signatory: one passport), Jan, Maria (3 mentions)
        "Address": 2,
        "Phone": 3,  # Nordwind's, Jan's two
        "Email": 2,
        "Country": 5,  # DE, NL, PL, GB, IT
    }
    assert counts.relationships == {
        "PART_OF": 4,
        "SENT": 4,
        "RECEIVED": 4,
        "PAID": 4,
        "HOLDS": 2,  # Nordwind holds and Anna signs for the Alpha account
        "DIRECTOR_OF": 2,  # Anna of Nordwind, Maria of Blue Harbour
        "REGISTERED_AT": 2,
        "HAS_PHONE": 3,
        "HAS_EMAIL": 2,
        # jurisdiction x2, address location x2, nationality x3, passport x2,
        # from_country x2 (Alpha DE, Blue Harbour GB), to_country x1 (Beta NL)
        "IN_COUNTRY": 12,
        # report 1: Alpha from+subject, Nordwind holder, Anna director+signatory, Beta to,
        #   Jan from, Nordwind to+subject (9); report 2: Blue Harbour from, Maria
        #   director+to+from+subject, Gamma to+subject (7)
        "REPORTED_IN": 16,
    }
    assert all(n.provenance.agencies == ["fiu"] for n in store.iter_nodes())


def test_report_header_becomes_a_report_node(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "str_valid.xml")
    # Indicators come after the transactions in report 1 (goAML order) and still count.
    assert store.require_node(REPORT_1).properties == {
        "report_id": "STR-2024-0001",
        "report_code": "STR",
        "reporting_entity": "1001",
        "submission_date": "2024-03-05",
        "reason": "Repeated transfers just under the reporting threshold",
        "action": "Account under review",
        "indicators": ["STR-STRUCT", "STR-THIRDPARTY"],
    }
    second = store.require_node(REPORT_2)
    assert second.properties["report_id"] == "2024-04-10#2"
    assert second.properties["report_code"] == "SAR"  # "sar" in the file
    assert second.properties["indicators"] == ["SAR-SHELL"]
    # Its transactions mention the report too, so it is seen from the first transaction's
    # date to its own submission date.
    assert (second.provenance.first_seen, second.provenance.last_seen) == (
        "2024-04-01",
        "2024-04-10",
    )
    assert "str_valid.xml|/reports/report[2]" in second.provenance.record_ids


def test_transactions_link_their_sides(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "str_valid.xml")
    t1 = store.require_node(T1)
    assert t1.properties == {
        "transaction_number": "T1",
        "date": "2024-03-01",
        "amount": 9500.0,
        "currency": "EUR",  # the report's currency_code_local
        "transmode": "K",
        "description": "Invoice 2024/17",
    }
    assert t1.provenance.first_seen == "2024-03-01"
    assert "str_valid.xml|/reports/report[1]/transaction[1]" in t1.provenance.record_ids
    assert REPORT_1 in _out(store, T1, RelType.PART_OF)
    # account -> account
    assert T1 in _out(store, ALPHA_ACCOUNT, RelType.SENT)
    assert BETA_ACCOUNT in _out(store, T1, RelType.RECEIVED)
    assert _out(store, ALPHA_ACCOUNT, RelType.PAID)[BETA_ACCOUNT] == [
        {"date": "2024-03-01", "amount": 9500.0, "currency": "EUR", "transaction": T1}
    ]
    # person -> entity, entity -> person, person -> account
    assert NORDWIND in _out(store, JAN, RelType.PAID)
    assert MARIA in _out(store, BLUE_HARBOUR, RelType.PAID)
    paid = _out(store, MARIA, RelType.PAID)[GAMMA_ACCOUNT]
    assert paid == [
        {"date": "2024-04-02", "amount": 24000.0, "currency": "GBP", "transaction": R2_T2}
    ]


def test_parties_are_reported_in_with_their_roles(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "str_valid.xml")
    # my_client sides make their party a subject of the report.
    assert _roles(store, ALPHA_ACCOUNT, REPORT_1) == {"from", "subject"}
    assert _roles(store, BETA_ACCOUNT, REPORT_1) == {"to"}
    assert _roles(store, NORDWIND, REPORT_1) == {"holder", "to", "subject"}
    assert _roles(store, ANNA, REPORT_1) == {"director", "signatory"}
    assert _roles(store, JAN, REPORT_1) == {"from"}
    assert _roles(store, MARIA, REPORT_2) == {"director", "to", "from", "subject"}
    assert _roles(store, GAMMA_ACCOUNT, REPORT_2) == {"to", "subject"}
    assert _roles(store, BLUE_HARBOUR, REPORT_2) == {"from"}


def test_account_holders_directors_and_contacts(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "str_valid.xml")
    assert _out(store, NORDWIND, RelType.HOLDS) == {ALPHA_ACCOUNT: [{"role": "holder"}]}
    assert _out(store, ANNA, RelType.HOLDS) == {ALPHA_ACCOUNT: [{"role": "signatory"}]}
    # director_id typed as t_person (goAML) and nesting a t_person (docs/formats.md).
    assert _out(store, ANNA, RelType.DIRECTOR_OF) == {NORDWIND: [{"role": "MD"}]}
    assert _out(store, MARIA, RelType.DIRECTOR_OF) == {BLUE_HARBOUR: [{"role": "director"}]}
    assert store.require_node(ANNA).properties == {
        "name": "Anna Schmidt",
        "name_norm": "anna schmidt",
        "birth_date": "1975-02-14",
        "nationality": "DE",
        "id_number": "C01X00T47",
        "id_type": "passport",
    }
    assert set(_out(store, ANNA, RelType.IN_COUNTRY)) == {"country:DE"}
    assert {p["role"] for p in _out(store, ANNA, RelType.IN_COUNTRY)["country:DE"]} == {
        "nationality",
        "passport",
    }
    nordwind = store.require_node(NORDWIND).properties
    assert (nordwind["name"], nordwind["legal_form"], nordwind["jurisdiction"]) == (
        "Nordwind Trading GmbH",
        "GmbH",
        "DE",
    )
    assert set(_out(store, NORDWIND, RelType.HAS_PHONE)) == {"phone:+49301234567"}
    assert set(_out(store, NORDWIND, RelType.HAS_EMAIL)) == {"email:info@nordwind.example"}
    (address,) = _out(store, NORDWIND, RelType.REGISTERED_AT)
    assert store.require_node(address).properties == {
        "full": "Hafenstrasse 1, 20457 Hamburg",
        "street": "Hafenstrasse 1",
        "city": "Hamburg",
        "postal_code": "20457",
        "country": "DE",
    }
    assert set(_out(store, JAN, RelType.HAS_PHONE)) == {"phone:+48601200300", "phone:+48225550101"}
    account = store.require_node(ALPHA_ACCOUNT).properties
    assert (account["institution"], account["currency"], account["country"]) == (
        "Bank Alpha",
        "EUR",
        "DE",
    )
    assert store.require_node(GAMMA_ACCOUNT).properties["account_number"] == "55-0199-2"


# --- record-level problems ---------------------------------------------------------------------
def test_invalid_transactions_are_quarantined_alone(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "str_invalid_transactions.xml")
    assert (report.read, report.loaded, report.quarantined) == (6, 3, 3)
    entries = _quarantine(report)
    assert [(record, field) for record, field, _ in entries] == [
        ("/reports/report[1]/transaction[2]", "amount_local"),
        ("/reports/report[1]/transaction[3]", "t_from.from_account.currency_code"),
        ("/reports/report[1]/transaction[4]", "date_transaction"),
    ]
    reasons = [reason for _, _, reason in entries]
    assert "negative" in reasons[0]
    assert "unknown ISO 4217 currency code 'XYZ'" in reasons[1]
    assert "in the future" in reasons[2]
    values = [q.value for q in read_quarantine(Path(str(report.quarantine_file)))]
    assert values == ["-50.00", "XYZ", "2999-01-01T00:00:00"]
    loaded = {n.properties["transaction_number"] for n in store.iter_nodes([Label.TRANSACTION])}
    assert loaded == {"OK-1", "OK-2"}
    assert store.get_node("report:2001:STR-2024-0099") is not None
    assert store.get_node("account:bank alpha:222") is None  # only in the bad transaction


def test_an_invalid_header_quarantines_its_transactions(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "str_bad_header.xml")
    # 3 headers + 4 transactions; only the first report and its transaction load.
    assert (report.read, report.loaded, report.quarantined) == (7, 2, 5)
    entries = _quarantine(report)
    assert {(r, f) for r, f, _ in entries} == {
        ("/reports/report[2]", "submission_date"),
        ("/reports/report[2]/transaction[1]", None),
        ("/reports/report[2]/transaction[2]", None),
        ("/reports/report[3]", "reason"),
        ("/reports/report[3]/transaction[1]", None),
    }
    for record, _, reason in entries:
        if "/transaction[" in record:
            assert reason.startswith("its report was quarantined")
    assert "after the report's transactions" in {r: x for r, _, x in entries}["/reports/report[3]"]
    assert store.counts().nodes["Report"] == 1
    assert store.counts().nodes["Transaction"] == 1
    names = {n.properties["name"] for n in store.iter_nodes() if n.key.startswith("person:")}
    assert names == {"Alpha", "Beta"}


# --- file-level problems: nothing is written -------------------------------------------------
def test_malformed_xml_names_line_and_column(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="malformed XML") as caught:
        _load(store, tmp_path, "malformed.xml")
    # <reason> opens on line 12 and </report> closes on line 13 before it.
    assert caught.value.location == "line 13, column 12"
    assert "line 13, column 12" in str(caught.value)
    # The first report's transaction precedes the error and is well-formed: still not loaded.
    _assert_empty(store, tmp_path)


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe_file.xml", "xxe_network.xml"])
def test_entity_declarations_are_refused(store: GraphStore, tmp_path: Path, name: str) -> None:
    with pytest.raises(LoadError, match="DOCTYPE declares entities"):
        _load(store, tmp_path, name)
    _assert_empty(store, tmp_path)


@pytest.mark.parametrize("name", ["external_dtd.xml", "external_local_dtd.xml"])
def test_external_dtd_is_refused(store: GraphStore, tmp_path: Path, name: str) -> None:
    with pytest.raises(LoadError, match="external DTD"):
        _load(store, tmp_path, name)
    _assert_empty(store, tmp_path)


@pytest.mark.parametrize("name", ["xxe_network.xml", "external_dtd.xml"])
def test_hostile_files_make_no_network_connection(tmp_path: Path, name: str) -> None:
    # libxml2 opens sockets in C, so watch the other end: a listener the file points at.
    # (Recent libxml2 builds have no HTTP client at all; this guards builds that do.)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        text = (FIXTURES / name).read_text(encoding="utf-8")
        hostile = tmp_path / name
        hostile.write_text(text.replace("127.0.0.1:9/", f"127.0.0.1:{port}/"), encoding="utf-8")
        with (
            EmbeddedStore(tmp_path / "g.sqlite") as store,
            pytest.raises(LoadError, match="refused"),
        ):
            load_file(GoamlReports(), hostile, store, _options(tmp_path))
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_the_parser_itself_never_expands_entities(
    embedded_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defence in depth: with the DOCTYPE refusal switched off, the parser settings alone keep
    # entity references as they are (no file or external DTD is read) and libxml2's
    # amplification guard stops the billion laughs.
    monkeypatch.setattr(goaml_xml, "_check_root", lambda path, elem, name: name)
    _load(embedded_store, tmp_path, "xxe_file.xml")
    _load(embedded_store, tmp_path, "external_local_dtd.xml")
    with pytest.raises(LoadError, match="amplification"):
        _load(embedded_store, tmp_path, "billion_laughs.xml")
    reasons = {
        n.properties["report_id"]: n.properties["reason"]
        for n in embedded_store.iter_nodes([Label.REPORT])
    }
    assert reasons == {"XXE": "&secret;", "EXT-LOCAL": "&leak;"}


def test_csv_given_as_goaml_is_refused(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="not a goAML XML file: it looks like a CSV"):
        _load(store, tmp_path, "not_goaml.csv")
    _assert_empty(store, tmp_path)


def test_wrong_root_and_empty_files_are_refused(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"root element is <declarations>"):
        _load(store, tmp_path, "wrong_root.xml")
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"\n")
    with pytest.raises(LoadError, match="not a goAML XML file: it looks like an empty file"):
        _load(store, tmp_path, empty)
    _assert_empty(store, tmp_path)


def test_undeclared_encoding_errors_name_line_and_column(store: GraphStore, tmp_path: Path) -> None:
    text = (FIXTURES / "str_valid.xml").read_text(encoding="utf-8")
    latin = tmp_path / "latin.xml"
    # Declared UTF-8, written latin-1: the é on line 8 is not UTF-8.
    latin.write_bytes(text.replace("Hafenstrasse", "Hafenstraße").encode("latin-1"))
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "Hafenstrasse" in s)
    with pytest.raises(LoadError, match="malformed XML") as caught:
        _load(store, tmp_path, latin)
    assert str(caught.value.location).startswith(f"line {line}, column ")
    _assert_empty(store, tmp_path)


def test_size_limits_refuse_the_file_before_writing(store: GraphStore, tmp_path: Path) -> None:
    # T1 of report 1 has over 40 elements; a report with more than one transaction breaks
    # max_transactions=1. Limits bound memory, so they are file-level: nothing loads.
    with pytest.raises(LoadError, match=r"/reports/report\[1\]/transaction\[1\] has more than 20"):
        _load(store, tmp_path, "str_valid.xml", GoamlReports(limits=XmlLimits(max_elements=20)))
    with pytest.raises(LoadError, match=r"/reports/report\[1\] has more than 1 transactions"):
        _load(store, tmp_path, "str_valid.xml", GoamlReports(limits=XmlLimits(max_transactions=1)))
    with pytest.raises(LoadError, match="max_text"):
        _load(store, tmp_path, "str_valid.xml", GoamlReports(limits=XmlLimits(max_text=100)))
    _assert_empty(store, tmp_path)
    with pytest.raises(ValidationError):
        XmlLimits(max_elements=0)


def test_stray_elements_in_reports_are_quarantined(store: GraphStore, tmp_path: Path) -> None:
    text = (FIXTURES / "str_valid.xml").read_text(encoding="utf-8")
    odd = tmp_path / "odd.xml"
    odd.write_text(text.replace("<reports>", "<reports><note>hello</note>"), encoding="utf-8")
    report = _load(store, tmp_path, odd)
    assert (report.read, report.loaded, report.quarantined) == (7, 6, 1)
    assert _quarantine(report)[0][0] == "/reports/note[1]"


# --- re-loads ----------------------------------------------------------------------------------
def test_reloading_the_same_file_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "str_valid.xml")
    before = _snapshot(store)
    again = _load(store, tmp_path, "str_valid.xml")
    assert again.loaded == 6
    assert _snapshot(store) == before


def test_corrected_redelivery_updates_and_keeps_both_sources(
    store: GraphStore, tmp_path: Path
) -> None:
    first = _load(store, tmp_path, "str_valid.xml")
    second = _load(store, tmp_path, "str_corrected.xml")
    assert (second.read, second.loaded) == (2, 2)
    t1 = store.require_node(T1)
    assert t1.properties["amount"] == 9750.0
    assert t1.properties["description"] == "Invoice 2024/17"  # absent in the correction: kept
    sources = {f"fiu|str_valid.xml|{first.load_id}", f"fiu|str_corrected.xml|{second.load_id}"}
    assert set(t1.provenance.sources) == sources
    assert "str_corrected.xml|/report/transaction[1]" in t1.provenance.record_ids
    assert set(store.require_node(REPORT_1).provenance.sources) == sources
    assert str(store.require_node(REPORT_1).properties["reason"]).startswith("Corrected:")
    assert _out(store, ALPHA_ACCOUNT, RelType.PAID)[BETA_ACCOUNT][0]["amount"] == 9750.0
    # T2 was not re-delivered.
    assert store.require_node(T2).provenance.sources == [f"fiu|str_valid.xml|{first.load_id}"]


# --- property-based: any well-formed mutation is loaded or quarantined, never lost ----------
_VALID = etree.parse(str(FIXTURES / "str_valid.xml"))  # a trusted fixture
_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=12)
_NAMES = ["amount_local", "transaction", "from_person", "t_to", "indicator", "phone", "extra"]
_VALUES = st.one_of(
    _TEXT,
    st.sampled_from(["", "-1", "1e309", "NaN", "XYZ", "2999-01-01T00:00:00", "2024-02-30", "0"]),
)


def _mutate(seed: int, values: list[str]) -> bytes:
    tree = copy.deepcopy(_VALID)
    elements = [e for e in tree.getroot().iter() if isinstance(e.tag, str)][1:]
    rng = random.Random(seed)  # picks mutations, not secrets
    for value in values:
        target = rng.choice(elements)
        parent = target.getparent()
        action = rng.randrange(5)
        if action == 0 or len(target) == 0:
            for child in list(target):
                target.remove(child)
            target.text = value
        elif action == 1 and parent is not None:
            parent.remove(target)
            elements = [e for e in tree.getroot().iter() if isinstance(e.tag, str)][1:]
        elif action == 2 and parent is not None:
            target.addnext(copy.deepcopy(target))
        elif action == 3 and parent is not None:
            parent.append(target)  # moved last: reorders header fields and sides
        else:
            etree.SubElement(target, rng.choice(_NAMES)).text = value
        if not elements:
            break
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32), values=st.lists(_VALUES, min_size=1, max_size=4))
def test_mutated_elements_never_lose_a_record(
    embedded_store: EmbeddedStore, tmp_path: Path, seed: int, values: list[str]
) -> None:
    path = tmp_path / "mutated.xml"
    path.write_bytes(_mutate(seed, values))
    report = _load(embedded_store, tmp_path, path)
    assert report.read == report.loaded + report.quarantined
    assert report.read >= 1
    entries = _quarantine(report) if report.quarantined else []
    assert len(entries) == report.quarantined


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_corrupted_bytes_load_balanced_or_fail_whole(
    embedded_store: EmbeddedStore, tmp_path: Path, data: st.DataObject
) -> None:
    raw = bytearray((FIXTURES / "str_valid.xml").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at : at + 1] = data.draw(st.binary(min_size=0, max_size=3))
    path = tmp_path / "corrupt.xml"
    path.write_bytes(bytes(raw))
    before = embedded_store.counts()
    try:
        report = _load(embedded_store, tmp_path, path)
    except LoadError:
        assert embedded_store.counts() == before  # refused whole: nothing written
        return
    assert report.read == report.loaded + report.quarantined
