"""Scoring a compared pair and deciding what to do with it.

The total match weight is the prior's weight plus the weight of each comparator's level; the
probability follows from it (see :mod:`resolution.config`). Then, in this order:

1. **Veto.** Two different *validated* identifiers of the same kind and country
   (``identifiers = strong_conflict``) mean two different legal persons, or a data error an
   analyst must see: such a pair is never linked automatically, at most sent to review.
2. **Identifier rule.** A pair that shares an identifier (validated or not) and whose names
   are at least similar is linked (method ``rule:identifier``) whatever the other features
   say: agencies that quote the same tax id or passport mean the same party.
3. **Model.** At or above ``link_threshold`` the pair links (method ``model``); at or above
   ``review_threshold`` it becomes a candidate for review; below, nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from resolution.compare import MISSING, Comparator, comparators, identifier_level
from resolution.config import ResolutionConfig
from resolution.features import COMPANY, PERSON, Record

LINK = "link"
REVIEW = "review"
NONE = "none"
RULE = "rule:identifier"
MODEL = "model"
JUDGEMENT = "judgement"
_AGREE = ("strong_agree", "weak_agree")
_NAME_OK = ("exact", "close", "similar", "initials", "partial")
_MAX_BITS = 60.0
# The record field each comparator reads.
_FIELD_OF = {
    "name": "tokens",
    "legal_form": "form",
    "identifiers": "ids",
    "country": "country",
    "date": "date",
    "address": "addresses",
    "phone": "phones",
    "email": "emails",
    "account": "accounts",
    "associates": "associates",
}


def probability(weight: float) -> float:
    """The match probability of a total weight in bits."""
    w = max(-_MAX_BITS, min(_MAX_BITS, weight))
    odds: float = 2.0**w
    return odds / (1.0 + odds)


@dataclass(slots=True, frozen=True)
class Score:
    """A scored pair: every comparator's level, the total weight and what it means."""

    levels: tuple[str, ...]
    weight: float
    probability: float
    decision: str
    method: str
    vetoed: bool


class _KindScorer:
    def __init__(self, config: ResolutionConfig, kind: str) -> None:
        model = config.model_for(kind)
        self.comparators = comparators(kind, frozenset(config.noisy_schemes))
        self.prior = model.prior_weight
        self.tables = [
            {level: model.weight(c.name, level) for level in c.levels} for c in self.comparators
        ]
        names = [c.name for c in self.comparators]
        self.separate = frozenset(model.separate)
        by_name = {c.name: c for c in self.comparators}
        unknown = sorted(set(model.keep_apart) - set(by_name))
        if unknown:
            raise ValueError(f"keep_apart names no {kind} comparator {unknown[0]!r}")
        self.keep_apart = [
            (by_name[name].compare, frozenset(levels))
            for name, levels in sorted(model.keep_apart.items())
            if levels
        ]
        # The record fields keep_apart looks at: a record without any cannot be kept apart.
        self.apart_fields = tuple(
            _FIELD_OF[name] for name, levels in sorted(model.keep_apart.items()) if levels
        )
        self.name_at = names.index("name")
        self.ids_at = names.index("identifiers")


class Scorer:
    """Scores pairs of records of the same kind under one configuration."""

    def __init__(self, config: ResolutionConfig) -> None:
        self.config = config
        self._kinds = {kind: _KindScorer(config, kind) for kind in (COMPANY, PERSON)}
        self._noisy = frozenset(config.noisy_schemes)

    def separates(self, a: Record, b: Record) -> bool:
        """Whether the pair is kept apart: its identifiers conflict as configured
        (``separate``), or, no identifier agreeing, a ``keep_apart`` comparator says so
        (persons born years apart, companies of two jurisdictions)."""
        kind = self._kinds[a.kind]
        ids = identifier_level(a.ids, b.ids, self._noisy) if a.ids and b.ids else MISSING
        if ids in kind.separate:
            return True
        if ids in _AGREE:
            return False
        return any(compare(a, b) in levels for compare, levels in kind.keep_apart)

    def may_separate(self, record: Record) -> bool:
        """Whether ``record`` carries anything :meth:`separates` looks at."""
        if record.ids:
            return True
        return any(getattr(record, f) for f in self._kinds[record.kind].apart_fields)

    def comparators(self, kind: str) -> tuple[Comparator, ...]:
        return self._kinds[kind].comparators

    def weights(self, kind: str, levels: tuple[str, ...]) -> list[float]:
        """The weight of each level, in comparator order."""
        tables = self._kinds[kind].tables
        return [tables[i].get(level, 0.0) for i, level in enumerate(levels)]

    def prior_weight(self, kind: str) -> float:
        return self._kinds[kind].prior

    def score(self, a: Record, b: Record) -> Score:
        if a.kind != b.kind:
            raise ValueError(f"cannot compare a {a.kind} with a {b.kind}")
        scorer = self._kinds[a.kind]
        levels = []
        weight = scorer.prior
        for comparator, table in zip(scorer.comparators, scorer.tables, strict=True):
            level = comparator.compare(a, b)
            levels.append(level)
            weight += table.get(level, 0.0)
        return self.decide(a.kind, tuple(levels), weight)

    def decide(self, kind: str, levels: tuple[str, ...], weight: float) -> Score:
        config = self.config
        scorer = self._kinds[kind]
        p = probability(weight)
        ids = levels[scorer.ids_at]
        vetoed = config.veto_conflicts and ids == "strong_conflict"
        if vetoed:
            decision = REVIEW if p >= config.review_threshold else NONE
            return Score(levels, weight, p, decision, MODEL, True)
        if config.identifier_rule and ids in _AGREE and levels[scorer.name_at] in _NAME_OK:
            return Score(levels, weight, p, LINK, RULE, False)
        if p >= config.link_threshold:
            decision = LINK
        elif p >= config.review_threshold:
            decision = REVIEW
        else:
            decision = NONE
        return Score(levels, weight, p, decision, MODEL, False)


def rounded(p: float) -> float:
    """Scores as stored: four decimals, so re-runs compare equal."""
    return math.floor(p * 10_000 + 0.5) / 10_000
