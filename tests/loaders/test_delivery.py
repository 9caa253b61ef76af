"""A whole generated delivery loads into each store: every record, every truth key."""

from __future__ import annotations

from pathlib import Path

import pytest

from datagen import generate
from datagen.truth import Truth
from graph_models.store.base import GraphStore
from loaders.base import LoadOptions
from loaders.catalog import load_dir, plan_dir


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("delivery")
    generate(out, scale=0.05, seed=3)
    return out


def test_delivery_plan_recognises_every_file_and_loads_the_register_first(delivery: Path) -> None:
    plan = plan_dir(delivery)
    kinds = [kind for kind, _ in plan]
    assert kinds == [
        "registry-companies",
        "registry-officers",
        "tax",
        "customs",
        "cash",
        "tradestats",
        "goaml",
        "ctr",
    ]


def test_generated_delivery_loads_whole_and_twice_changes_nothing(
    store: GraphStore, delivery: Path, tmp_path: Path
) -> None:
    options = LoadOptions(quiet=True, quarantine_dir=tmp_path / "q", reports_dir=None)
    reports = load_dir(delivery, store, options)
    truth = Truth.read(delivery / "truth.json")
    read = {Path(r.file).relative_to(delivery).as_posix(): r.read for r in reports}
    # truth counts goAML reports; the loader counts report headers and transactions.
    assert read.pop("fiu/str_reports.xml") > truth.files.pop("fiu/str_reports.xml")
    assert read == truth.files
    assert all(r.quarantined == 0 and r.loaded == r.read for r in reports)
    keys = {k for entity in truth.entities for k in entity.node_keys}
    assert len(store.get_nodes(keys)) == len(keys)
    before = store.counts()
    load_dir(delivery, store, options)
    assert store.counts() == before
