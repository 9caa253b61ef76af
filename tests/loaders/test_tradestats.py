"""Trade statistics: mirror figures, country and HS checks, file-level errors, re-delivery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from loaders.base import LoadError, LoadOptions, load_file
from loaders.report import LoadReport, read_quarantine
from loaders.tradestats import TradeStatistics

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tradestats"
GB_CN = "tradestat:GB:CN:import:850440:2024"
CN_GB = "tradestat:CN:GB:export:850440:2024"


def _load(store: GraphStore, tmp_path: Path, name: str, encoding: str = "utf-8") -> LoadReport:
    options = LoadOptions(quarantine_dir=tmp_path / "quarantine", reports_dir=None, quiet=True)
    return load_file(TradeStatistics(encoding=encoding), FIXTURES / name, store, options)


def _snapshot(store: GraphStore) -> tuple[Any, ...]:
    nodes = [n.model_dump() for n in store.iter_nodes()]
    rels = sorted(r.model_dump_json() for r in store.iter_relationships())
    return store.counts(), nodes, rels


def test_valid_file_builds_statistics_classified_by_commodity(
    store: GraphStore, tmp_path: Path
) -> None:
    report = _load(store, tmp_path, "stats.csv")
    assert (report.read, report.loaded, report.quarantined) == (4, 4, 0)
    assert store.counts().nodes == {"TradeStatistic": 4, "Commodity": 2}
    assert store.counts().relationships == {"CLASSIFIED_AS": 4}
    # Both sides of the GB-CN mirror pair meet at one HS 6 commodity.
    classified = store.expand(["hs:850440"], rel_types=[RelType.CLASSIFIED_AS], direction="in")
    assert sorted(r.start for r in classified) == [CN_GB, GB_CN]
    assert store.require_node("hs:850440").properties == {
        "hs_code": "850440",
        "description": "Electrical static converters",
    }


def test_statistic_node_carries_the_row(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "stats.csv")
    stat = store.require_node(GB_CN)
    assert stat.properties == {
        "reporter": "GB",
        "partner": "CN",
        "flow": "import",
        "hs_code": "850440",
        "period": "2024",
        "value": 1500000.5,
        "quantity": 12000.0,
        "unit": "u",
    }
    # seen is the first day of the period.
    assert (stat.provenance.first_seen, stat.provenance.last_seen) == ("2024-01-01", "2024-01-01")


def test_codes_are_normalised_and_national_digits_kept(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "stats.csv")
    # "7108.12" loses its dot; "Import" and "ae"/"gb" are case-insensitive.
    gb_ae = store.require_node("tradestat:GB:AE:import:710812:2024-03")
    assert gb_ae.provenance.first_seen == "2024-03-01"
    # An 8-digit national code keeps its digits on the statistic, its HS 6 on the commodity.
    ae_gb = store.require_node("tradestat:AE:GB:export:71081200:2024-03")
    assert ae_gb.properties["hs_code"] == "71081200"
    classified = store.expand([ae_gb.key], rel_types=[RelType.CLASSIFIED_AS], direction="out")
    assert [r.end for r in classified] == ["hs:710812"]


def test_malformed_rows_are_quarantined_with_field_and_reason(
    store: GraphStore, tmp_path: Path
) -> None:
    report = _load(store, tmp_path, "stats_malformed.csv")
    assert report.read == report.loaded + report.quarantined
    assert (report.loaded, report.quarantined) == (1, 13)
    assert report.quarantine_file is not None
    entries = {e.record: e for e in read_quarantine(Path(report.quarantine_file))}
    expected = {
        "row 3": ("partner", "'W00' is a world or area aggregate, not a country"),
        "row 4": ("reporter", "'WORLD' is a world or area aggregate"),
        "row 5": ("reporter", "'GBR' is ISO alpha-3; use the alpha-2 code 'GB'"),
        "row 6": ("partner", "unknown ISO 3166 country code 'QQ'"),
        "row 7": ("flow", "'import' or 'export'"),
        "row 8": ("hs_code", "not in the HS 2022 nomenclature"),
        "row 9": ("hs_code", "5 digits"),
        "row 10": ("period", "YYYY or YYYY-MM"),
        "row 11": ("period", "not started"),
        "row 12": ("value", "negative"),
        "row 13": ("value", "required"),
        "row 14": ("quantity", "negative"),
        "row 15": (None, "row has 4 fields, the header has 8"),
    }
    assert set(entries) == set(expected)
    for record, (field, reason) in expected.items():
        assert entries[record].field == field, record
        assert reason in entries[record].reason, record
    # Nodes come in (label, key) order: the commodity, then the one good statistic.
    assert [n.key for n in store.iter_nodes()] == ["hs:850440", GB_CN]


def test_missing_required_columns_are_all_named(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        _load(store, tmp_path, "stats_missing_columns.csv")
    assert "required columns missing: flow, period " in str(err.value)
    assert store.counts().total_nodes == 0


def test_latin1_file_is_refused_naming_the_line(store: GraphStore, tmp_path: Path) -> None:
    with pytest.raises(LoadError) as err:
        _load(store, tmp_path, "stats_latin1.csv")
    assert err.value.location == "line 3"
    assert store.counts().total_nodes == 0
    report = _load(store, tmp_path, "stats_latin1.csv", encoding="latin-1")
    assert report.loaded == 2
    assert store.require_node("tradestat:GB:AE:import:271019:2024").properties["unit"] == "m³"


def test_reloading_the_same_file_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path, "stats.csv")
    before = _snapshot(store)
    _load(store, tmp_path, "stats.csv")
    assert _snapshot(store) == before


def test_corrected_redelivery_updates_and_keeps_both_sources(
    store: GraphStore, tmp_path: Path
) -> None:
    first = _load(store, tmp_path, "stats.csv")
    second = _load(store, tmp_path, "stats_corrected.csv")
    stat = store.require_node(GB_CN)
    assert stat.properties["value"] == 1525000.0
    assert stat.provenance.sources == [
        f"external|stats.csv|{first.load_id}",
        f"external|stats_corrected.csv|{second.load_id}",
    ]
    assert store.counts().nodes["TradeStatistic"] == 4
