"""goAML XML: parsed back with lxml, and loaded back through our own goAML loader."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from app.exports.goaml import NO_CURRENCY, write_goaml
from app.exports.model import ExportMaterial
from graph_models.records import StoredProvenance
from graph_models.schema import Label, RelType
from graph_models.store.embedded import EmbeddedStore
from loaders.base import LoadOptions, load_file
from loaders.goaml import GoamlReports
from queries.models import NodeView
from tests.exports.conftest import (
    DE_ACCOUNT,
    FORMULA_NAME,
    NL_ACCOUNT,
    NORDWIND,
    SCRIPT_NAME,
    TXN,
    material,
)


def _parse(m: ExportMaterial) -> etree._Element:
    body = write_goaml(m)["report.goaml.xml"]
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


def test_transactions_and_other_parties_are_goaml_reports(material: ExportMaterial) -> None:
    root = _parse(material)
    assert root.tag == "reports"
    money, activity = root.findall("report")
    assert money.findtext("report_code") == "AIF"
    assert money.findtext("currency_code_local") == "EUR"
    assert money.findtext("submission_date") == "2026-01-15T10:30:00"
    assert "AMLD art. 53" in str(money.findtext("reason"))
    (txn,) = money.findall("transaction")
    assert txn.findtext("transactionnumber") == "T1"
    assert txn.findtext("amount_local") == "9500.00"
    assert txn.findtext("date_transaction") == "2024-03-01T00:00:00"
    source = txn.find("t_from/from_account")
    assert source is not None
    assert source.findtext("iban") == "DE89370400440532013000"
    assert source.findtext("t_entity/name") == "Nordwind Trading GmbH"
    assert source.findtext("t_entity/director_id/last_name") == "Schmidt"
    assert source.findtext("signatory/t_person/passport_number") == "C01X00T47"
    assert txn.findtext("t_to/to_account/t_entity/name") == "Blue Harbour Ltd"
    assert [i.text for i in money.findall("report_indicators/indicator")] == ["structuring"]
    # Parties the transaction already spells out (holders, directors) are not listed again.
    names = [p.findtext("entity/name") for p in activity.iterfind(".//report_party")]
    assert names == [SCRIPT_NAME, FORMULA_NAME, "Bell Imports"]  # the control char is gone
    assert activity.find("transaction") is None


def test_a_transaction_missing_a_side_is_told_on_the_side_it_has() -> None:
    m = material()
    m.relationships = [r for r in m.relationships if r.type not in (RelType.RECEIVED, RelType.PAID)]
    root = _parse(m)
    assert root.tag == "report"  # one report: a single root, as goAML uploads have
    assert root.find("transaction") is None
    accounts = root.findall("activity/report_parties/report_party/account")
    sender = next(a for a in accounts if a.findtext("iban") == "DE89370400440532013000")
    assert "sent transaction T1" in str(sender.findtext("comments"))


def test_one_report_per_currency_and_xxx_when_none_is_recorded() -> None:
    m = material()
    usd = m.nodes.index(next(n for n in m.nodes if n.key == TXN))
    second = "transaction:1001:STR-1:T2"
    m.nodes.append(
        NodeView(
            label=Label.TRANSACTION,
            key=second,
            properties={"transaction_number": "T2", "date": "2024-03-02", "amount": 10.0},
            provenance=StoredProvenance(agencies=["fiu"], compartments=["fiu"]),
        )
    )
    m.relationships += [
        r.model_copy(update={"end": second}) for r in m.relationships if r.type == RelType.SENT
    ] + [
        r.model_copy(update={"start": second})
        for r in m.relationships
        if r.type == RelType.RECEIVED
    ]
    m.nodes[usd].properties["currency"] = "USD"
    m.relationships = [r for r in m.relationships if r.type != RelType.PAID]
    reports = _parse(m).findall("report")
    currencies = [
        r.findtext("currency_code_local") for r in reports if r.find("transaction") is not None
    ]
    assert sorted(str(c) for c in currencies) == sorted(["USD", NO_CURRENCY])


def test_the_export_loads_back_through_the_goaml_loader(
    material: ExportMaterial, tmp_path: Path
) -> None:
    path = tmp_path / "report.goaml.xml"
    path.write_bytes(write_goaml(material)["report.goaml.xml"])
    store = EmbeddedStore(tmp_path / "graph.sqlite")
    store.init_schema()
    try:
        options = LoadOptions(quarantine_dir=tmp_path / "q", reports_dir=None, quiet=True)
        report = load_file(GoamlReports(), path, store, options)
        assert report.quarantined == 0
        assert report.loaded == report.read == 3  # the transaction and two report headers
        (txn,) = list(store.iter_nodes([Label.TRANSACTION]))
        assert (txn.properties["amount"], txn.properties["currency"]) == (9500.0, "EUR")
        assert txn.properties["date"] == "2024-03-01"
        # Account keys do not depend on the agency: the loader lands on our accounts' keys.
        paid = store.expand([DE_ACCOUNT], rel_types=[RelType.PAID], direction="out")
        assert [r.end for r in paid] == [NL_ACCOUNT]
        holders = store.expand([DE_ACCOUNT], rel_types=[RelType.HOLDS], direction="in")
        names = {n.properties["name"] for n in store.get_nodes([r.start for r in holders]).values()}
        assert names == {"Nordwind Trading GmbH", "Anna Schmidt"}
        companies = {str(n.properties["name"]) for n in store.iter_nodes([Label.COMPANY])}
        # Our loader reads transactions and headers; activity report parties are not loaded.
        assert companies == {"Nordwind Trading GmbH", "Blue Harbour Ltd"}
        nordwind = next(n for n in store.iter_nodes([Label.COMPANY]) if n.properties.get("tax_id"))
        assert nordwind.properties["tax_id"] == NORDWIND.rsplit(":", 1)[1]
        reports = {str(n.properties["report_id"]) for n in store.iter_nodes([Label.REPORT])}
        assert reports == {"case-2026-000001-1", "case-2026-000001-2"}
    finally:
        store.close()
