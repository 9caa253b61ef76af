"""Scoring alerts against a generated truth: what counts as a hit, what is left out."""

from __future__ import annotations

from datagen.truth import SchemeTruth, Truth
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Alert, Typology, alert_id
from queries.evaluation import evaluate
from tests.factories import node, rel

_PLANTED = "company:customs:tax:GB1"
_OTHER = "company:customs:tax:GB2"
_STAT = "tradestat:GB:CN:import:851713:2023"


def _truth() -> Truth:
    scheme = SchemeTruth(
        id="S001",
        typology="mirror_discrepancy",
        entities=["C1"],
        node_keys=[_PLANTED],
        records=[],
    )
    return Truth(seed=0, scale=1.0, files={}, entities=[], schemes=[scheme])


def _alert(*entities: str) -> Alert:
    return Alert(
        id=alert_id(Typology.MIRROR_DISCREPANCY, entities),
        typology=Typology.MIRROR_DISCREPANCY,
        detector="test",
        score=1.0,
        summary="",
        entities=list(entities),
        indicators=[],
    )


def _score(store: GraphStore, alerts: list[Alert]) -> tuple[float | None, float | None, int]:
    (score,) = [
        s for s in evaluate(store, alerts, _truth()) if s.typology is Typology.MIRROR_DISCREPANCY
    ]
    return score.precision, score.recall, score.aggregate


def test_alerts_hit_through_resolved_entities_and_miss_on_other_parties(
    store: GraphStore,
) -> None:
    entity = "entity:e1"
    store.write_nodes([node(_PLANTED), node(_OTHER), node(entity)])
    store.write_relationships([rel(RelType.SAME_AS, _PLANTED, entity)])

    assert _score(store, [_alert(entity)]) == (1.0, 1.0, 0)
    assert _score(store, [_alert(entity), _alert(_OTHER)]) == (0.5, 1.0, 0)


def test_alerts_naming_no_party_are_counted_apart_from_precision(store: GraphStore) -> None:
    store.write_nodes([node(_PLANTED), node(_STAT)])

    # Country figures can neither hit nor miss a scheme of parties.
    assert _score(store, [_alert(_STAT)]) == (None, 0.0, 1)
    assert _score(store, [_alert(_STAT), _alert(_PLANTED)]) == (1.0, 1.0, 1)
