from __future__ import annotations

from datagen.truth import TYPOLOGIES
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from queries.alerts import (
    Alert,
    EvidenceRecord,
    Indicator,
    Typology,
    alert_id,
    load_alerts,
    save_alerts,
)
from tests.factories import node, prov

A, B, C = "company:customs:tax:A", "company:customs:tax:B", "company:fiu:tax:C"


def _alert(score: float = 3.0) -> Alert:
    return Alert(
        id=alert_id(Typology.CIRCULAR_TRADE, [B, C, A]),
        typology=Typology.CIRCULAR_TRADE,
        detector="cycles",
        score=score,
        summary="goods went round A -> B -> C -> A in 40 days",
        entities=[A, B, C],
        indicators=[Indicator(name="cycle_days", value=40, threshold=90)],
        records=[
            EvidenceRecord(
                key="declaration:GB:1:1",
                label="Declaration",
                date="2024-01-02",
                amount=1000.0,
                provenance={"agencies": ["customs"], "sources": ["customs|d.csv|l1"]},
            ),
            EvidenceRecord(
                key="transaction:r:1",
                label="Transaction",
                provenance={"agencies": ["fiu"]},
            ),
        ],
        detected_on="2024-02-11",
    )


def test_alert_id_is_stable_across_member_order() -> None:
    assert alert_id(Typology.CIRCULAR_TRADE, [A, B, C]) == alert_id(
        Typology.CIRCULAR_TRADE, [C, A, B]
    )
    assert alert_id(Typology.CIRCULAR_TRADE, [A, B]) != alert_id(Typology.ROUND_TRIPPING, [A, B])
    assert alert_id(Typology.STRUCTURING, [A], "2024-01") != alert_id(Typology.STRUCTURING, [A])


def test_saved_alerts_round_trip_and_rerun_does_not_duplicate(store: GraphStore) -> None:
    store.write_nodes([node(A, name="A"), node(B, name="B"), node(C, prov("fiu"), name="C")])
    save_alerts(store, [_alert()])
    save_alerts(store, [_alert(score=4.0)])
    (got,) = load_alerts(store)
    assert got == _alert(score=4.0)
    assert store.counts().nodes[Label.ALERT.value] == 1
    flagged = store.expand([got.id], rel_types=[RelType.FLAGS])
    assert sorted(r.end for r in flagged) == [A, B, C]
    # The alert rests on customs and FIU records, so it lives in both compartments.
    assert store.require_node(got.id).provenance.compartments == ["customs", "fiu"]


def test_generator_truth_and_alerts_speak_the_same_typologies() -> None:
    # evaluation matches alerts to planted schemes by typology name: a drift would score 0.
    assert set(TYPOLOGIES) == {t.value for t in Typology}
