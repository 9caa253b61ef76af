"""The pipeline on both stores: resolve, re-run, increments, judgements, splits, parity."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest

from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from resolution import commands
from resolution.config import default_config
from resolution.features import Record
from resolution.judgement import Verdict, judgement_key
from resolution.model import RULE, Score, Scorer
from tests.factories import node, prov
from tests.resolution.scenario import (
    ACME_DE,
    CASH_AKME,
    CUSTOMS_ACME,
    FIU_ACME,
    NUNEZ_CASH,
    NUNEZ_FIU,
    NUNEZ_OTHER,
    NUNEZ_REGISTRY,
    ORION_A,
    ORION_B,
    REGISTRY_ACME,
    VAT_ACME,
    build_acme,
    entity_of,
    snapshot,
)

ACME = {REGISTRY_ACME, CUSTOMS_ACME, FIU_ACME}
NUNEZ = {NUNEZ_REGISTRY, NUNEZ_FIU, NUNEZ_CASH}


def groups(store: GraphStore) -> list[set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for record, entity in entity_of(store).items():
        out[entity].add(record)
    return sorted(out.values(), key=min)


def together(store: GraphStore, *keys: str) -> bool:
    entities = entity_of(store)
    return len({entities[k] for k in keys}) == 1


def queued(store: GraphStore) -> set[tuple[str, str]]:
    return {(i.left, i.right) for i in commands.review_queue(store, limit=1000)}


@pytest.fixture
def acme(store: GraphStore) -> GraphStore:
    build_acme(store)
    commands.resolve(store)
    return store


def test_records_resolve_across_agencies(acme: GraphStore) -> None:
    found = groups(acme)
    assert ACME in found
    assert NUNEZ in found
    # A German namesake, a namesake born another year and two companies with different valid
    # VAT numbers stay apart; so does the misspelt cash record, which waits for review.
    for alone in (ACME_DE, NUNEZ_OTHER, ORION_A, ORION_B, CASH_AKME):
        assert {alone} in found
    assert len(entity_of(acme)) == 11  # every source record has its entity
    assert (CASH_AKME, REGISTRY_ACME) in queued(acme)
    assert (ORION_A, ORION_B) in queued(acme)  # vetoed: review at most


def test_entities_and_links_carry_names_methods_and_agency_provenance(acme: GraphStore) -> None:
    entity = entity_of(acme)[REGISTRY_ACME]
    node_ = acme.require_node(entity)
    assert node_.properties == {"name": "Acme Trading Limited", "kind": "company"}
    assert node_.provenance.agencies == ["customs", "fiu", "registry"]
    links = {r.start: r for r in acme.expand([entity], rel_types=[RelType.SAME_AS])}
    assert links[CUSTOMS_ACME].properties["method"] == RULE
    assert links[FIU_ACME].properties["method"] == "model"
    score = links[FIU_ACME].properties["score"]
    assert isinstance(score, float)
    assert score >= 0.99
    # An FIU record's link stays in the FIU compartment.
    assert links[FIU_ACME].provenance.agencies == ["fiu"]
    assert links[FIU_ACME].provenance.compartments == ["fiu"]
    assert links[FIU_ACME].provenance.record_ids == [f"resolution|{FIU_ACME}"]
    assert links[FIU_ACME].provenance.sources == [f"fiu|resolution|{default_config().digest()}"]
    assert links[CUSTOMS_ACME].provenance.agencies == ["customs"]


def test_rerun_on_unchanged_input_writes_nothing(acme: GraphStore) -> None:
    before = snapshot(acme)
    again = commands.resolve(acme)
    assert again.pairs_compared == 0
    assert again.dirty_records == 0
    assert set(again.changes.values()) == {0}
    assert snapshot(acme) == before
    # A full re-run compares everything again and still finds nothing to change.
    full = commands.resolve(acme, full=True)
    assert full.pairs_compared > 0
    assert set(full.changes.values()) == {0}
    assert snapshot(acme) == before


def test_records_loaded_later_resolve_incrementally(
    acme: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {r.start: r for r in acme.iter_relationships([RelType.SAME_AS])}
    acme_entity = entity_of(acme)[REGISTRY_ACME]
    tax_acme = f"company:tax:tax:{VAT_ACME}"
    newcomer = "person:fiu:name:keiko tanaka:1970-02-02"
    acme.write_nodes(
        [
            node(
                tax_acme, prov("tax", "returns.csv"), name="ACME TRADING LIMITED", tax_id=VAT_ACME
            ),
            node(newcomer, prov("fiu"), name="Keiko Tanaka", birth_date="1970-02-02"),
        ]
    )
    compared: list[tuple[str, str]] = []
    original = Scorer.score

    def spy(self: Scorer, a: Record, b: Record) -> Score:
        compared.append((a.key, b.key))
        return original(self, a, b)

    monkeypatch.setattr(Scorer, "score", spy)
    summary = commands.resolve(acme)
    assert summary.dirty_records == 2
    assert compared
    assert all(tax_acme in pair or newcomer in pair for pair in compared)
    # The existing entity is extended (same key), the newcomer gets its own, nothing else moves.
    after = {r.start: r for r in acme.iter_relationships([RelType.SAME_AS])}
    assert after[tax_acme].end == acme_entity
    assert {k for k, r in after.items() if r.end == acme_entity} == ACME | {tax_acme}
    assert after[newcomer].end not in {r.end for r in before.values()}
    assert {k: r for k, r in after.items() if k in before} == before


def test_positive_judgement_wins_and_survives_reruns(acme: GraphStore) -> None:
    assert not together(acme, CASH_AKME, REGISTRY_ACME)
    result = commands.judge(acme, CASH_AKME, REGISTRY_ACME, "positive", "analyst1", note="same")
    assert not result.refused
    assert together(acme, CASH_AKME, *ACME)
    stored = acme.require_node(judgement_key(CASH_AKME, REGISTRY_ACME))
    assert stored.properties["verdict"] == "positive"
    assert stored.properties["user"] == "analyst1"
    assert str(stored.properties["decided_at"]).startswith("20")
    assert (CASH_AKME, REGISTRY_ACME) not in queued(acme)
    links = {r.start: r for r in acme.iter_relationships([RelType.SAME_AS])}
    assert links[CASH_AKME].properties["method"] == "judgement"
    for full in (False, True):
        commands.resolve(acme, full=full)
        assert together(acme, CASH_AKME, *ACME)


def test_negative_judgement_wins_and_survives_reruns(acme: GraphStore) -> None:
    commands.judge(acme, FIU_ACME, REGISTRY_ACME, Verdict.NEGATIVE, "analyst2")
    # The FIU record also matches the customs record by name, and the customs record the
    # register by tax id: the weakest link of that chain (FIU - customs) is cut.
    assert together(acme, CUSTOMS_ACME, REGISTRY_ACME)
    assert not together(acme, FIU_ACME, REGISTRY_ACME)
    for full in (False, True):
        summary = commands.resolve(acme, full=full)
        assert not together(acme, FIU_ACME, REGISTRY_ACME)
        assert together(acme, CUSTOMS_ACME, REGISTRY_ACME)
    assert summary.refused_links >= 1
    assert summary.judgements == {"negative": 1}


def test_unsure_leaves_the_model_in_charge_and_empties_the_queue(acme: GraphStore) -> None:
    commands.judge(acme, CASH_AKME, REGISTRY_ACME, "unsure", "analyst1")
    assert (CASH_AKME, REGISTRY_ACME) not in queued(acme)
    assert not together(acme, CASH_AKME, REGISTRY_ACME)
    commands.resolve(acme, full=True)
    assert (CASH_AKME, REGISTRY_ACME) not in queued(acme)


def test_split_separates_part_of_an_entity_for_good(acme: GraphStore) -> None:
    entity = entity_of(acme)[NUNEZ_CASH]
    result = commands.split(acme, entity, [NUNEZ_CASH], "analyst3")
    assert not together(acme, NUNEZ_CASH, NUNEZ_REGISTRY)
    assert together(acme, NUNEZ_FIU, NUNEZ_REGISTRY)
    assert len(result.entities) == 2
    for other in (NUNEZ_FIU, NUNEZ_REGISTRY):
        verdict = acme.require_node(judgement_key(NUNEZ_CASH, other)).properties["verdict"]
        assert verdict == "negative"
    commands.resolve(acme, full=True)
    assert not together(acme, NUNEZ_CASH, NUNEZ_FIU)
    with pytest.raises(ValueError, match="not a member"):
        commands.split(acme, entity_of(acme)[NUNEZ_FIU], [ORION_A], "analyst3")


def test_unjudge_gives_the_pair_back_to_the_model(acme: GraphStore) -> None:
    commands.judge(acme, FIU_ACME, REGISTRY_ACME, "negative", "analyst2")
    commands.unjudge(acme, FIU_ACME, REGISTRY_ACME)
    assert acme.get_node(judgement_key(FIU_ACME, REGISTRY_ACME)) is None
    assert together(acme, *ACME)


def test_explain_lists_every_feature_weight_and_the_decision(acme: GraphStore) -> None:
    why = commands.explain(acme, FIU_ACME, REGISTRY_ACME)
    assert [r.feature for r in why.rows][:4] == ["name", "legal_form", "identifiers", "country"]
    name = why.rows[0]
    assert (name.left, name.right, name.level) == (
        "ACME TRDG [acme trading]",
        "Acme Trading Limited [acme trading]",
        "exact",
    )
    assert why.total_weight == pytest.approx(
        why.prior_weight + sum(r.weight for r in why.rows), abs=1e-2
    )
    assert why.decision == "link"
    assert why.left_entity == why.right_entity
    assert "exact" in why.render()
    commands.judge(acme, FIU_ACME, REGISTRY_ACME, "negative", "analyst2", note="other firm")
    after = commands.explain(acme, FIU_ACME, REGISTRY_ACME)
    assert after.judgement is not None
    assert "analyst2" in after.judgement
    assert after.decision.startswith("never together")
    with pytest.raises(ValueError, match="never compared"):
        commands.explain(acme, FIU_ACME, NUNEZ_FIU)


def test_export_writes_every_record_with_its_entity(acme: GraphStore, tmp_path: Path) -> None:
    as_csv = commands.export(acme, tmp_path / "entities.csv")
    as_json = commands.export(acme, tmp_path / "entities.jsonl")
    assert (as_csv.records, as_json.records) == (11, 11)
    with (tmp_path / "entities.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lines = [json.loads(x) for x in (tmp_path / "entities.jsonl").read_text().splitlines()]
    assert [r["record"] for r in rows] == [x["record"] for x in lines]
    by_record = {r["record"]: r for r in rows}
    assert by_record[FIU_ACME]["entity"] == by_record[REGISTRY_ACME]["entity"]
    assert by_record[FIU_ACME]["agency"] == "fiu"
    assert as_csv.entities == len(groups(acme))


def test_members_are_grouped_by_agency(acme: GraphStore) -> None:
    view = commands.members(acme, entity_of(acme)[REGISTRY_ACME])
    assert view.name == "Acme Trading Limited"
    assert {a: [m.key for m in ms] for a, ms in view.by_agency.items()} == {
        "customs": [CUSTOMS_ACME],
        "fiu": [FIU_ACME],
        "registry": [REGISTRY_ACME],
    }
    assert "registry:" in view.render()


def test_retract_undoes_resolution_and_resolving_again_restores_it(acme: GraphStore) -> None:
    before = snapshot(acme)
    commands.retract(acme)
    assert not list(acme.iter_nodes([Label.RESOLVED_ENTITY]))
    assert not list(acme.iter_relationships([RelType.SAME_AS]))
    assert not list(acme.iter_nodes([Label.JUDGEMENT]))
    commands.resolve(acme)
    after = snapshot(acme)
    assert after["same_as"] == before["same_as"]
    assert after["entities"] == before["entities"]


def test_both_stores_resolve_the_same_input_the_same_way(store: GraphStore, tmp_path: Path) -> None:
    reference = EmbeddedStore(tmp_path / "reference.sqlite")
    reference.init_schema()
    try:
        for s in (store, reference):
            build_acme(s)
            commands.resolve(s)
            commands.judge(s, CASH_AKME, REGISTRY_ACME, "positive", "analyst1")
        for name in ("a.csv", "b.csv"):
            commands.export(store if name == "a.csv" else reference, tmp_path / name)
        assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
        assert queued(store) == queued(reference)
    finally:
        reference.close()
