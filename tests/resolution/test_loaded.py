"""End to end: a small multi-agency delivery loaded by the real loaders, then resolved."""

from __future__ import annotations

from pathlib import Path

from graph_models.store.base import GraphStore
from loaders.base import LoadOptions
from loaders.catalog import load_dir
from resolution import commands
from tests.resolution.scenario import entity_of, snapshot

DELIVERY = Path(__file__).resolve().parent.parent / "fixtures" / "resolution"
ACME = {
    "company:registry:reg:GB:0987654",  # Acme Trading Limited, the register
    "company:tax:tax:GB980780684",  # ACME TRADING LIMITED, a VAT return
    "company:customs:tax:GB980780684000",  # ACME TRADING LTD, EORI on a declaration
    "company:customs:name:GB:acme trdg",  # ACME TRDG, no identifier
}
NUNEZ = {"person:registry:name:jose nunez:1980-01-01", "person:customs:id:X1234567"}


def test_a_loaded_delivery_resolves_across_agencies(store: GraphStore, tmp_path: Path) -> None:
    store.init_schema()
    reports = load_dir(
        DELIVERY, store, LoadOptions(quiet=True, reports_dir=None, quarantine_dir=tmp_path)
    )
    assert all(r.quarantined == 0 for r in reports)
    summary = commands.resolve(store)
    entities = entity_of(store)
    assert len({entities[k] for k in ACME}) == 1
    assert len({entities[k] for k in NUNEZ}) == 1
    acme = entities["company:registry:reg:GB:0987654"]
    assert entities["company:registry:reg:DE:HRB1234"] != acme  # the German namesake
    assert store.require_node(acme).properties["name"] == "Acme Trading Limited"
    assert summary.records == {
        "customs": {"company": 4, "person": 1},
        "registry": {"company": 2, "person": 1},
        "tax": {"company": 1},
    }
    # The cash declaration's owner "Akme Trading" has no country, form or identifier: review.
    queue = {(i.left, i.right) for i in commands.review_queue(store)}
    assert ("company:customs:name:-:akme trading", "company:registry:reg:GB:0987654") in queue
    before = snapshot(store)
    assert set(commands.resolve(store).changes.values()) == {0}
    assert snapshot(store) == before
