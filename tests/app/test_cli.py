from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from graph_models.store.embedded import EmbeddedStore


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("IFFGRAPH_STORE", "embedded")
    monkeypatch.setenv("IFFGRAPH_EMBEDDED_PATH", str(tmp_path / "cli.sqlite"))
    get_settings.cache_clear()
    return CliRunner()


def test_demo_generates_loads_and_reports(runner: CliRunner, tmp_path: Path) -> None:
    path, data = tmp_path / "demo.sqlite", tmp_path / "delivery"
    args = ["demo", "--no-serve", "--path", str(path), "--data", str(data), "--scale", "0.05"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Load report" in result.output
    assert "Nodes per label" in result.output
    with EmbeddedStore(path) as store:
        first = store.counts()
    assert first.nodes["Declaration"] > 0
    assert set(first.nodes_by_agency) >= {"customs", "fiu", "tax", "registry"}
    # Re-running the demo rebuilds the same graph rather than doubling it.
    assert runner.invoke(cli, args).exit_code == 0
    with EmbeddedStore(path) as store:
        assert store.counts() == first


def test_generate_then_load_dir_loads_every_record(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "delivery"
    assert runner.invoke(cli, ["generate", "--out", str(data), "--scale", "0.05"]).exit_code == 0
    result = runner.invoke(
        cli, ["load-dir", str(data), "--quiet", "--quarantine-dir", str(tmp_path / "q")]
    )
    assert result.exit_code == 0, result.output
    reports = sorted((tmp_path / "reports").glob("*.report.json"))
    assert len(reports) == 8
    totals = [json.loads(r.read_text()) for r in reports]
    assert all(t["quarantined"] == 0 and t["read"] == t["loaded"] > 0 for t in totals)


def test_init_db_then_stats_json(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["init-db"]).exit_code == 0
    result = runner.invoke(cli, ["stats", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["nodes"] == {}
