from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("IFFGRAPH_STORE", "embedded")
    monkeypatch.setenv("IFFGRAPH_EMBEDDED_PATH", str(tmp_path / "cli.sqlite"))
    get_settings.cache_clear()
    return CliRunner()


def test_demo_builds_the_sample_graph_and_reports_it(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    result = runner.invoke(cli, ["demo", "--no-serve", "--path", str(path)])
    assert result.exit_code == 0, result.output
    assert "Nodes per label" in result.output
    # Re-running the demo rebuilds the same graph rather than doubling it.
    again = runner.invoke(cli, ["demo", "--no-serve", "--path", str(path)])
    assert again.exit_code == 0
    assert result.output == again.output


def test_init_db_then_stats_json(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["init-db"]).exit_code == 0
    result = runner.invoke(cli, ["stats", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["nodes"] == {}
