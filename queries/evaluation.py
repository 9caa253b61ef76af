"""Precision and recall of the detectors against a generated delivery's truth.json.

An alert *hits* a planted scheme of its own typology when the parties it names share at least
one source record with the scheme's parties. Alerts name parties in whatever form the
detector works with (a source record, a resolved entity, an account), so every name is lifted
to source records first: a resolved entity to its SAME_AS members, an account to its holders.
Precision is the share of a typology's alerts that hit some scheme; recall the share of its
schemes that some alert hits. Precision and recall are reported separately, never as F1.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from datagen.truth import Truth
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from queries.alerts import Alert, Typology


class TypologyScore(BaseModel):
    typology: Typology
    alerts: int
    schemes: int
    true_alerts: int
    found_schemes: int

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None

    @property
    def recall(self) -> float | None:
        return self.found_schemes / self.schemes if self.schemes else None


def _source_records(store: GraphStore, keys: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for key in keys:
        label = SCHEMA.label_of_key(key)
        if label is Label.RESOLVED_ENTITY:
            members = store.expand([key], rel_types=[RelType.SAME_AS], direction="in")
            out.update(r.start for r in members)
        elif label is Label.ACCOUNT:
            holders = store.expand([key], rel_types=[RelType.HOLDS], direction="in")
            out.update(r.start for r in holders)
            out.add(key)
        else:
            out.add(key)
    return out


def evaluate(store: GraphStore, alerts: Sequence[Alert], truth: Truth) -> list[TypologyScore]:
    """Per typology: how many alerts hit a planted scheme, and how many schemes were hit."""
    scores = []
    for typology in Typology:
        schemes = [set(s.node_keys) for s in truth.schemes if s.typology == typology.value]
        mine = [a for a in alerts if a.typology == typology]
        hit_schemes: set[int] = set()
        true_alerts = 0
        for alert in mine:
            parties = _source_records(store, alert.entities)
            hits = [i for i, keys in enumerate(schemes) if keys & parties]
            true_alerts += bool(hits)
            hit_schemes.update(hits)
        scores.append(
            TypologyScore(
                typology=typology,
                alerts=len(mine),
                schemes=len(schemes),
                true_alerts=true_alerts,
                found_schemes=len(hit_schemes),
            )
        )
    return scores
