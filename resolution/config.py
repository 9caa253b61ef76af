"""The resolution configuration: match weights, thresholds and blocking limits, as JSON.

Weights follow Fellegi and Sunter, as splink writes them: for each comparison level,
``m`` is the probability of the level among pairs that are the same entity and ``u`` among
pairs that are not; the level's match weight is ``log2(m / u)`` bits. A pair's total weight
is the prior's weight ``log2(p / (1 - p))`` plus the weights of its levels, and its match
probability is ``2**w / (1 + 2**w)``. A level the configuration does not list weighs nothing
(``missing`` never does).

The defaults were set by hand, in bits, from what each agency's records look like, and
checked on the generator's truth and on FEBRL (see ``benchmarks/resolution.py``); they are
documented per level below (:func:`levels_from_bits` stores each as an m/u pair with that
ratio). Estimating m and u from data (EM, or labelled pairs) is not done yet.
``ResolutionConfig.model_validate_json(config.model_dump_json())`` round-trips.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Level(BaseModel):
    """The m and u probabilities of one comparison level."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    m: float = Field(gt=0, le=1, description="probability of the level among true matches")
    u: float = Field(gt=0, le=1, description="probability of the level among non-matches")

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


class KindModel(BaseModel):
    """The model of one record kind (companies or persons)."""

    model_config = ConfigDict(extra="forbid")

    prior: float = Field(
        gt=0, lt=1, description="match probability of a compared pair before any evidence"
    )
    levels: dict[str, dict[str, Level]] = Field(
        description="comparator name -> level -> m/u; unlisted levels weigh nothing"
    )

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    separate: list[str] = Field(
        default_factory=list,
        description=(
            "identifier levels that keep two records out of one entity, as a negative"
            " judgement would (an analyst's positive judgement overrides)"
        ),
    )

    keep_apart: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "comparator name -> levels that keep two records out of one entity unless an"
            " identifier agrees (two birth dates years apart are two persons, two"
            " jurisdictions two companies); an analyst's positive judgement overrides"
        ),
    )

    def weight(self, comparator: str, level: str) -> float:
        spec = self.levels.get(comparator, {}).get(level)
        return 0.0 if spec is None else spec.weight

    def bits(self) -> dict[str, dict[str, float]]:
        """Every listed level's weight in bits."""
        return {
            c: {lv: spec.weight for lv, spec in levels.items()} for c, levels in self.levels.items()
        }

    @classmethod
    def from_bits(
        cls,
        *,
        prior: float,
        bits: dict[str, dict[str, float]],
        separate: Iterable[str] = (),
        keep_apart: dict[str, list[str]] | None = None,
    ) -> KindModel:
        """A model from weights in bits (see :func:`levels_from_bits`)."""
        return cls(
            prior=prior,
            levels=levels_from_bits(bits),
            separate=list(separate),
            keep_apart=keep_apart or {},
        )


class Blocking(BaseModel):
    """Which candidate pairs are compared at all."""

    model_config = ConfigDict(extra="forbid")

    def limit(self, key_type: str) -> int:
        return min(self.limits.get(key_type, self.max_block_size), self.max_block_size)

    max_block_size: int = Field(
        default=40,
        ge=2,
        description=(
            "a blocking key shared by more records is split by the records' name initials;"
            " a part still larger is skipped (a formation agent's address must not make n² pairs)"
        ),
    )
    limits: dict[str, int] = Field(
        default_factory=lambda: {
            "person|n": 8,
            "company|n": 30,
            "company|d": 20,
            "company|a": 20,
        },
        description=(
            "maximum block size per key type (kind|type: n name, d name but one word, id,"
            " a address, p phone, e e-mail, b account, td word and birth date, di birth date"
            " and initial), where smaller than max_block_size: a person's name alone is"
            " shared by many (name pools are small), and so are a country's name words"
        ),
    )
    min_identifier_length: int = Field(
        default=4, ge=1, description="shorter identifier values do not block"
    )


class ResolutionConfig(BaseModel):
    """Everything that decides what resolution links; its digest names a resolution run."""

    model_config = ConfigDict(extra="forbid")

    link_threshold: float = Field(
        default=0.99, gt=0, lt=1, description="match probability at and above which pairs link"
    )
    review_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="match probability at and above which (below link) pairs go to review",
    )
    review_per_record: int = Field(
        default=3,
        ge=1,
        description=(
            "a pair is queued for review only when it is among the best-scored review pairs"
            " of both its records: a common name without a birth date does not queue one"
            " request per namesake"
        ),
    )
    identifier_rule: bool = Field(
        default=True,
        description=(
            "link pairs that share an identifier and whose names are at least similar, whatever"
            " the model says (method rule:identifier)"
        ),
    )
    veto_conflicts: bool = Field(
        default=True,
        description="two different validated identifiers of one kind: never an automatic link",
    )
    noisy_schemes: list[str] = Field(
        default_factory=list,
        description=(
            "identifier schemes typed by hand with typos expected: near-equal values are close,"
            " different values never veto"
        ),
    )
    company: KindModel
    person: KindModel
    blocking: Blocking = Field(default_factory=Blocking)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> ResolutionConfig:
        if self.review_threshold > self.link_threshold:
            raise ValueError("review_threshold must not exceed link_threshold")
        return self

    def model_for(self, kind: str) -> KindModel:
        return self.company if kind == "company" else self.person

    def digest(self) -> str:
        """A short content hash: the load id of resolution's observations."""
        text = self.model_dump_json()
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @classmethod
    def read(cls, path: Path) -> ResolutionConfig:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


def levels_from_bits(spec: dict[str, dict[str, float]]) -> dict[str, dict[str, Level]]:
    """Levels from weights in bits: a positive weight keeps ``m`` at 0.5 and sets ``u``, a
    negative one keeps ``u`` at 0.5 and sets ``m``, so that ``log2(m / u)`` is the weight."""
    out: dict[str, dict[str, Level]] = {}
    for comparator, levels in spec.items():
        out[comparator] = {}
        for level, bits in levels.items():
            if bits >= 0:
                m, u = 0.5, 0.5 / 2.0**bits
            else:
                m, u = 0.5 * 2.0**bits, 0.5
            out[comparator][level] = Level(m=m, u=u)
    return out


# Why these weights (bits, log2 m/u). Identifiers decide when present: an equal one is all
# but proof (the identifier rule links such pairs anyway), a different one of the same kind
# nearly disproves. Without identifiers the name, the country and the legal form decide: an
# exact name core in the same country links even without a legal form; a name one typo away
# needs the same country and form; a different name is never made up for by contacts.
# Country and legal-form disagreement weigh heavily: "Harris Fashion Trading Ltd" (GB) and
# "Harris Fashion Trading Sp. z o.o." (PL) are two companies. Contacts are correlated (a
# formation agent gives its shells one address, phone, e-mail and nominee director), so each
# weighs little for companies. Persons: name pools are small (many John Smiths), so a name
# needs a birth date, an identifier or a shared contact or company to link.
_COMPANY_BITS: dict[str, dict[str, float]] = {
    "name": {"exact": 10.0, "close": 8.5, "similar": 2.0, "different": -8.0},
    "legal_form": {"same": 1.5, "compatible": -1.0, "different": -6.0},
    "identifiers": {
        "strong_agree": 19.0,
        "weak_agree": 14.0,
        "close": 4.0,
        "weak_conflict": -7.0,  # two register entries of one name are two companies
        "strong_conflict": -8.0,
    },
    "country": {"same": 1.0, "different": -7.0},
    "date": {"exact": 6.0, "close": 2.0, "year": -1.0, "different": -3.0},
    "address": {"exact": 3.0, "close": 2.5, "similar": 0.5, "different": -0.5},
    "phone": {"same": 2.0, "different": -0.3},
    "email": {"same": 2.5, "different": -0.3},
    "account": {"shared": 5.0},
    "associates": {"shared": 2.0},
}
_PERSON_BITS: dict[str, dict[str, float]] = {
    "name": {
        "exact": 5.5,
        "close": 4.0,
        "initials": 2.0,
        "partial": 1.0,
        "similar": -1.0,
        "different": -8.0,
    },
    "date": {"exact": 10.0, "close": 4.0, "year": -2.0, "different": -8.0},
    "identifiers": {
        "strong_agree": 19.0,
        "weak_agree": 14.0,
        "close": 5.0,
        "weak_conflict": -3.0,  # people hold several documents
        "strong_conflict": -6.0,
    },
    "country": {"same": 1.0, "different": -4.0},  # dual nationals exist
    "address": {"exact": 4.0, "close": 3.0, "similar": 1.0, "different": -1.0},
    "phone": {"same": 4.0, "different": -0.5},
    "email": {"same": 5.0, "different": -0.5},
    "account": {"shared": 5.0},
    "associates": {"shared": 5.0},
}


def default_config() -> ResolutionConfig:
    """The configured defaults: priors of 0.05 (-4.25 bits), the weights above, link at
    0.99 and review from 0.75. Identifier conflicts keep companies apart (weak or validated)
    and persons only when validated. Unless an identifier agrees, companies are also kept
    apart by different jurisdictions, and persons by birth dates that differ by more than a
    typo: a record that could be either of two namesakes (a customs or FIU key of a name
    without a country or a birth date) then links to neither automatically, instead of
    joining them into one."""
    return ResolutionConfig(
        link_threshold=0.99,
        review_threshold=0.75,
        company=KindModel.from_bits(
            prior=0.05,
            bits=_COMPANY_BITS,
            separate=["strong_conflict", "weak_conflict"],
            keep_apart={"country": ["different"]},
        ),
        person=KindModel.from_bits(
            prior=0.05,
            bits=_PERSON_BITS,
            separate=["strong_conflict"],
            keep_apart={"date": ["different"]},
        ),
    )
