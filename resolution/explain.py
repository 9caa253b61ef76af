"""Why two records are (or are not) the same entity, feature by feature."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from graph_models.errors import NotFoundError
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from resolution.config import ResolutionConfig, default_config
from resolution.features import read_some
from resolution.judgement import Verdict, judgements_touching, ordered
from resolution.model import Scorer, probability


class FeatureRow(BaseModel):
    """One comparator's view of the pair."""

    model_config = ConfigDict(extra="forbid")

    feature: str
    left: str
    right: str
    level: str
    weight: float
    explanation: str


class Explanation(BaseModel):
    """Every feature, its value on each side, its level and weight; the total and decision."""

    model_config = ConfigDict(extra="forbid")

    left: str
    right: str
    kind: str
    prior_weight: float
    rows: list[FeatureRow]
    total_weight: float
    probability: float
    model_decision: str = Field(description="link, review or none, by the model and rules")
    method: str
    vetoed: bool
    judgement: str | None = Field(default=None, description="an analyst's verdict, if any")
    decision: str = Field(description="what resolution does: a verdict wins over the model")
    left_entity: str | None = None
    right_entity: str | None = None
    link_threshold: float
    review_threshold: float

    def render(self) -> str:
        width = max(len(r.feature) for r in self.rows)
        lines = [f"{self.left}\n  vs {self.right}  ({self.kind})", ""]
        lines.append(f"{'prior':<{width}}  {self.prior_weight:+7.2f}")
        for r in self.rows:
            lines.append(
                f"{r.feature:<{width}}  {r.weight:+7.2f}  {r.level:<16} "
                f"{r.left or '-'}  |  {r.right or '-'}"
            )
        lines.append(
            f"{'total':<{width}}  {self.total_weight:+7.2f}  probability {self.probability:.4f}"
            f" (link >= {self.link_threshold}, review >= {self.review_threshold})"
        )
        veto = " (vetoed: conflicting validated identifiers)" if self.vetoed else ""
        lines.append(f"model: {self.model_decision} by {self.method}{veto}")
        if self.judgement:
            lines.append(f"judgement: {self.judgement}")
        lines.append(f"decision: {self.decision}")
        same = self.left_entity is not None and self.left_entity == self.right_entity
        lines.append(
            f"entities now: {self.left_entity or '-'} / {self.right_entity or '-'}"
            f"{' (same entity)' if same else ''}"
        )
        if self.decision == "link" and not same and self.left_entity is not None:
            lines.append(
                "  (the pair would link but is apart: the link was ambiguous (one record"
                " matching two that must stay apart: see the review queue) or was cut so"
                " that no entity holds conflicting identifiers or a negative judgement)"
            )
        lines.append("")
        lines.extend(f"{r.feature}: {r.explanation}" for r in self.rows)
        return "\n".join(lines)


def explain(
    store: GraphStore, key_a: str, key_b: str, config: ResolutionConfig | None = None
) -> Explanation:
    """Compare two records as resolution does and say why it decides what it decides."""
    config = config or default_config()
    records = read_some(store, [key_a, key_b], config.digest())
    a, b = records.get(key_a), records.get(key_b)
    if a is None or b is None:
        missing = key_a if a is None else key_b
        raise NotFoundError(f"no Company or Person record with key {missing!r}")
    if a.kind != b.kind:
        raise ValueError(f"{key_a} is a {a.kind} and {key_b} a {b.kind}: never compared")
    scorer = Scorer(config)
    score = scorer.score(a, b)
    weights = scorer.weights(a.kind, score.levels)
    rows = [
        FeatureRow(
            feature=c.name,
            left=c.show(a),
            right=c.show(b),
            level=level,
            weight=round(w, 3),
            explanation=c.explanation,
        )
        for c, level, w in zip(scorer.comparators(a.kind), score.levels, weights, strict=True)
    ]
    verdict = judgements_touching(store, [key_a]).get(ordered(key_a, key_b))
    judged = verdict.verdict if verdict is not None and verdict.verdict != Verdict.PENDING else None
    if judged == Verdict.POSITIVE:
        decision = "link (positive judgement)"
    elif judged == Verdict.NEGATIVE:
        decision = "never together (negative judgement)"
    else:
        decision = score.decision
    entities = {
        r.start: r.end
        for r in store.expand([key_a, key_b], rel_types=[RelType.SAME_AS], direction="out")
    }
    return Explanation(
        left=key_a,
        right=key_b,
        kind=a.kind,
        prior_weight=round(scorer.prior_weight(a.kind), 3),
        rows=rows,
        total_weight=round(score.weight, 3),
        probability=round(probability(score.weight), 6),
        model_decision=score.decision,
        method=score.method,
        vetoed=score.vetoed,
        judgement=(
            f"{judged.value} by {verdict.user} at {verdict.decided_at}"
            + (f": {verdict.note}" if verdict.note else "")
            if judged is not None and verdict is not None
            else None
        ),
        decision=decision,
        left_entity=entities.get(key_a),
        right_entity=entities.get(key_b),
        link_threshold=config.link_threshold,
        review_threshold=config.review_threshold,
    )
