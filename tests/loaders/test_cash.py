"""Cash declarations: the graph a file builds, quarantine, file-level errors, re-delivery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.cash import CashDeclarations
from loaders.report import LoadReport, read_quarantine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "cash"
IVAN = "person:customs:id:P1234567"
BALKAN = "company:customs:tax:BG201234567"


def _load(store: GraphStore, tmp_path: Path, name: str, encoding: str = "utf-8") -> LoadReport:
    options = LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)
    return load_file(CashDeclarations(encoding=encoding), FIXTURES / name, store, options)


def _snapshot(store: GraphStore) -> tuple[Any, ...]:
    nodes = [n.model_dump() for n in store.iter_nodes()]
    rels = sorted(r.model_dump_json() for r in store.iter_relationships())
    return store.counts(), nodes, rels


def _rels(store: GraphStore, key: str, rel_type: RelType) -> dict[str, dict[str, Any]]:
    """Relationships of one type leaving ``key``: end key -> properties."""
    return {
        r.end: r.properties
        for r in store.expand([key], rel_types=[rel_type], direction="out")
        if r.start == key
    }


def test_valid_file_loads_every_row(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "declarations.csv")
    assert (report.read, report.loaded, report.quarantined) == (4, 4, 0)
    counts = store.counts()
    # Ivan Petrov carries CD-001 and CD-003 under one passport: one Person. Anna Novak owns her
    # own cash (no owner node); Georgi Ivanov owns CD-003's.
    assert counts.nodes == {
        "CashDeclaration": 4,
        "Person": 4,
        "Company": 1,
        "Country": 6,  # BG, SI (nationalities), FR, GB, AE, BE (departure / destination)
    }
    assert counts.relationships == {"CARRIED": 4, "OWNS_FUNDS": 2, "IN_COUNTRY": 8}


def test_declaration_node_carries_the_row(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "declarations.csv")
    first = store.require_node("cashdecl:CD-001").properties
    assert first == {
        "declaration_id": "CD-001",
        "date": "2024-03-01",
        "direction": "inbound",
        "port": "Dover",
        "amount": 25000.0,
        "currency": "EUR",
        "instrument": "cash",
        "origin_of_funds": "business proceeds",
        "intended_use": "purchase of goods",
        "undeclared": False,
    }
    # Codes are case-insensitive in the file and normalised in the graph.
    second = store.require_node("cashdecl:CD-002").properties
    assert (second["direction"], second["instrument"], second["undeclared"]) == (
        "outbound",
        "bni",
        True,
    )
    assert store.require_node("cashdecl:CD-003").properties["currency"] == "EUR"


def test_traveller_carried_the_cash_and_has_a_nationality(
    store: GraphStore, tmp_path: Path
) -> None:
    _load(store, tmp_path, "declarations.csv")
    ivan = store.require_node(IVAN)
    assert ivan.properties["name"] == "Ivan Petrov"
    assert ivan.properties["id_type"] == "passport"
    assert ivan.properties["nationality"] == "BG"
    assert set(_rels(store, IVAN, RelType.CARRIED)) == {"cashdecl:CD-001", "cashdecl:CD-003"}
    assert _rels(store, IVAN, RelType.IN_COUNTRY) == {"country:BG": {"role": "nationality"}}
    # first/last seen are the declaration dates, not the load time.
    assert (ivan.provenance.first_seen, ivan.provenance.last_seen) == ("2024-03-01", "2024-03-05")
    # Without a passport the traveller is keyed by name and (unknown) birth date.
    li = store.require_node("person:customs:name:li wei:-")
    assert set(_rels(store, li.key, RelType.CARRIED)) == {"cashdecl:CD-004"}


def test_owner_other_than_traveller_owns_the_funds(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "declarations.csv")
    assert store.require_node(BALKAN).properties["name"] == "Balkan Trade OOD"
    assert set(_rels(store, BALKAN, RelType.OWNS_FUNDS)) == {"cashdecl:CD-001"}
    # A blank owner_type is a person; the owner's tax id keys them.
    georgi = store.require_node("person:customs:id:BG8001011234")
    assert georgi.properties["id_type"] == "tax_id"
    assert set(_rels(store, georgi.key, RelType.OWNS_FUNDS)) == {"cashdecl:CD-003"}
    # Anna Novak declared her own money: no OWNS_FUNDS into CD-002.
    into_cd2 = store.expand(["cashdecl:CD-002"], rel_types=[RelType.OWNS_FUNDS], direction="in")
    assert into_cd2 == []


def test_departure_and_destination_countries(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "declarations.csv")
    assert _rels(store, "cashdecl:CD-001", RelType.IN_COUNTRY) == {
        "country:FR": {"role": "departure"},
        "country:GB": {"role": "destination"},
    }
    assert store.require_node("country:FR").properties == {"code": "FR", "name": "France"}
    assert _rels(store, "cashdecl:CD-004", RelType.IN_COUNTRY) == {}


def test_malformed_rows_are_quarantined_with_field_and_reason(
    store: GraphStore, tmp_path: Path
) -> None:
    report = _load(store, tmp_path, "malformed.csv")
    assert report.read == report.loaded + report.quarantined
    assert (report.loaded, report.quarantined) == (1, 14)
    assert report.quarantine_file is not None
    entries = {e.record: e for e in read_quarantine(Path(report.quarantine_file))}
    expected = {
        "row 3": ("direction", "inbound"),
        "row 4": ("instrument_type", "cash"),
        "row 5": ("amount", "negative"),
        "row 6": ("currency", "ISO 4217"),
        "row 7": ("declaration_date", "future"),
        "row 8": ("traveller_nationality", "ISO 3166"),
        "row 9": ("undeclared", "yes/no"),
        "row 10": (None, "row has 10 fields, the header has 19"),
        "row 11": ("owner_name", "tax id but no name"),
        "row 12": ("amount", "not a number"),
        "row 13": ("traveller_birth_date", "after the declaration date"),
        "row 14": ("port", "required"),
        "row 15": ("declaration_date", "YYYY-MM-DD"),
        "row 16": ("owner_type", "person"),
    }
    assert set(entries) == set(expected)
    for record, (field, reason) in expected.items():
        assert entries[record].field == field, record
        assert reason in entries[record].reason, record
    assert all(e.file.endswith("malformed.csv") for e in entries.values())
    # Only the good row reached the graph.
    assert store.counts().nodes["CashDeclaration"] == 1
    assert store.get_node("cashdecl:CD-102") is None


def test_missing_required_columns_are_all_named_and_nothing_is_written(
    store: GraphStore, tmp_path: Path
) -> None:
    with pytest.raises(LoadError) as err:
        _load(store, tmp_path, "missing_columns.csv")
    message = str(err.value)
    assert "required columns missing: amount, currency" in message
    assert store.counts().total_nodes == 0


def test_latin1_file_is_refused_naming_the_line(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        _load(store, tmp_path, "latin1.csv")
    assert err.value.location == "line 3"
    assert "line 3" in str(err.value)
    assert store.counts().total_nodes == 0


def test_latin1_file_loads_with_its_encoding(store: GraphStore, tmp_path: Path) -> None:
    report = _load(store, tmp_path, "latin1.csv", encoding="latin-1")
    assert (report.loaded, report.quarantined) == (2, 0)
    node = store.require_node("person:customs:name:jose muller:-")
    assert node.properties["name"] == "José Müller"


def test_reloading_the_same_file_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "declarations.csv")
    before = _snapshot(store)
    _load(store, tmp_path, "declarations.csv")
    assert _snapshot(store) == before


def test_corrected_redelivery_updates_and_keeps_both_sources(
    store: GraphStore, tmp_path: Path
) -> None:
    first = _load(store, tmp_path, "declarations.csv")
    second = _load(store, tmp_path, "declarations_corrected.csv")
    decl = store.require_node("cashdecl:CD-001")
    assert decl.properties["amount"] == 26500.0
    assert decl.properties["undeclared"] is True
    assert decl.properties["port"] == "Dover"
    assert decl.provenance.sources == [
        f"customs|declarations.csv|{first.load_id}",
        f"customs|declarations_corrected.csv|{second.load_id}",
    ]
    # Declarations the correction does not mention are untouched.
    other = store.require_node("cashdecl:CD-002")
    assert other.provenance.sources == [f"customs|declarations.csv|{first.load_id}"]
