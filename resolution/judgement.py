"""Judgements: what analysts decided about pairs of records, kept in the graph.

A judgement is a ``Judgement`` node keyed ``judgement:<left>|<right>`` (the two record keys in
sorted order), so it lives in whichever store is used, survives every re-run, and carries who
decided and when. Verdicts:

- ``positive``: the same entity. The pair is linked whatever the model says.
- ``negative``: different entities. No cluster ever holds both (see :mod:`resolution.cluster`).
- ``unsure``: looked at, undecided. The model's decision stands; the pair leaves the queue.
- ``pending``: not a decision but the model's request for one: a pair scored between the
  review and link thresholds. Pending nodes are maintained by resolution runs; a verdict on
  the pair replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_models.records import Agency, Node, NodeWrite, Provenance
from graph_models.schema import SCHEMA, Label
from graph_models.store.base import GraphStore

SOURCE = "resolution"


class Verdict(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNSURE = "unsure"
    PENDING = "pending"


DECISIONS = (Verdict.POSITIVE, Verdict.NEGATIVE, Verdict.UNSURE)


def ordered(a: str, b: str) -> tuple[str, str]:
    """A pair of record keys in the order judgements store them."""
    return (a, b) if a <= b else (b, a)


def judgement_key(a: str, b: str) -> str:
    left, right = ordered(a, b)
    return SCHEMA.make_key(Label.JUDGEMENT, f"{left}|{right}")


class Judgement(BaseModel):
    """One judgement (or pending review request) about a pair of records."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    left: str = Field(min_length=1)
    right: str = Field(min_length=1)
    verdict: Verdict
    user: str | None = None
    decided_at: str | None = None
    note: str | None = None
    score: float | None = None

    @model_validator(mode="after")
    def _valid_pair(self) -> Judgement:
        if self.left == self.right:
            raise ValueError("a judgement needs two different records")
        if self.left > self.right:
            raise ValueError("left must be the smaller key (use Judgement.of)")
        if self.verdict in DECISIONS and not self.user:
            raise ValueError("a verdict needs the user who decided it")
        return self

    @classmethod
    def of(
        cls,
        a: str,
        b: str,
        verdict: Verdict,
        *,
        user: str | None = None,
        note: str | None = None,
        score: float | None = None,
        decided_at: str | None = None,
    ) -> Judgement:
        left, right = ordered(a, b)
        if verdict in DECISIONS and decided_at is None:
            decided_at = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(
            left=left,
            right=right,
            verdict=verdict,
            user=user,
            note=note,
            score=score,
            decided_at=decided_at,
        )

    @property
    def key(self) -> str:
        return judgement_key(self.left, self.right)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.left, self.right)

    @classmethod
    def from_node(cls, node: Node) -> Judgement:
        props = node.properties
        score = props.get("score")
        return cls(
            left=str(props["left"]),
            right=str(props["right"]),
            verdict=Verdict(str(props["verdict"])),
            user=_opt(props.get("user")),
            decided_at=_opt(props.get("decided_at")),
            note=_opt(props.get("note")),
            score=float(score) if isinstance(score, int | float) else None,
        )

    def writes(self, agencies: Iterable[str], load_id: str) -> list[NodeWrite]:
        """One observation per agency of the two records, so the judgement is visible in
        each compartment that holds one of them."""
        props: dict[str, str | float | None] = {
            "left": self.left,
            "right": self.right,
            "verdict": self.verdict.value,
            "user": self.user,
            "decided_at": self.decided_at,
            "note": self.note,
            "score": self.score,
        }
        out = []
        for agency in sorted(set(agencies)) or [Agency.EXTERNAL.value]:
            provenance = Provenance(
                agency=Agency(agency), source_file=SOURCE, record_id=self.key, load_id=load_id
            )
            out.append(
                NodeWrite.model_validate(
                    {
                        "label": Label.JUDGEMENT,
                        "key": self.key,
                        "properties": props,
                        "provenance": provenance,
                    }
                )
            )
        return out


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None


def read_judgements(store: GraphStore) -> dict[tuple[str, str], Judgement]:
    """Every judgement and pending review request in the store, by pair."""
    out = {}
    for node in store.iter_nodes([Label.JUDGEMENT]):
        judgement = Judgement.from_node(node)
        out[judgement.pair] = judgement
    return out


def judgements_touching(store: GraphStore, keys: Iterable[str]) -> dict[tuple[str, str], Judgement]:
    """The judgements that name any of ``keys``, by pair (indexed look-ups, not a scan)."""
    out = {}
    for key in sorted(set(keys)):
        for prop in ("left", "right"):
            for node in store.find_nodes(Label.JUDGEMENT, prop, key, limit=1_000_000):
                judgement = Judgement.from_node(node)
                out[judgement.pair] = judgement
    return out
