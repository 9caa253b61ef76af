"""Precision and recall of the detectors against a generated delivery's truth.json.

An alert *hits* a planted scheme of its own typology when the parties it names share at least
one source record with the scheme's parties. Alerts name parties in whatever form the
detector works with (a source record, a resolved entity, an account), so every name is lifted
to source records first: a resolved entity to its SAME_AS members, an account to its holders.
Precision is the share of a typology's alerts that hit some scheme; recall the share of its
schemes that some alert hits. Precision and recall are reported separately, never as F1.

An alert that names no party at all once lifted (no company, person or account: the partner
statistics of two countries, say) can neither hit nor miss a scheme defined by its parties,
so it is left out of precision and counted apart as ``aggregate``. Scoring it as a false
alarm would measure country figures against party truth; scoring it as a hit would let a
national total claim every scheme in it.
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
    aggregate: int = 0  # alerts naming no party: not in precision (module docstring)

    @property
    def precision(self) -> float | None:
        judged = self.alerts - self.aggregate
        return self.true_alerts / judged if judged else None

    @property
    def recall(self) -> float | None:
        return self.found_schemes / self.schemes if self.schemes else None


_PARTY_LABELS = frozenset({Label.COMPANY, Label.PERSON, Label.ACCOUNT})


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
        true_alerts = aggregate = 0
        for alert in mine:
            parties = _source_records(store, alert.entities)
            if not any(SCHEMA.label_of_key(k) in _PARTY_LABELS for k in parties):
                aggregate += 1
                continue
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
                aggregate=aggregate,
            )
        )
    return scores
