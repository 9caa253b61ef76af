"""The resolution pipeline: read, block, compare, score, cluster, write; and re-runs of it.

Stages, each with explicit inputs and outputs:

1. **Read** every Company and Person record with its features (:mod:`resolution.features`);
   each record carries a fingerprint of its features and of the configuration.
2. **What changed.** A record whose stored SAME_AS carries its current fingerprint is *clean*;
   a new record, a changed one (new fingerprint) and every member of a changed record's
   entity are *dirty*. A full run (``full=True``) makes every record dirty.
3. **Block** (:mod:`resolution.blocking`): candidate pairs sharing a blocking key, only those
   with a dirty member.
4. **Compare and score** (:mod:`resolution.compare`, :mod:`resolution.model`): links, review
   candidates, nothing.
5. **Cluster** (:mod:`resolution.cluster`): the new links, the analysts' positive judgements
   and the clean records' existing clusters (kept as they are), never bridging a negative
   judgement.
6. **Write** the difference (:mod:`resolution.state`).

A re-run on unchanged input finds every record clean, compares nothing and writes nothing.
Records loaded later are dirty, so only pairs involving them are compared and they join
(or extend) the existing entities.

Judgements (:func:`judge`, :func:`split`) re-resolve the entities they touch at once, from all
pairs among the entities' members, and later runs keep the result because those records stay
clean.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations, pairwise

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from graph_models.collector import cyclic_gc_paused
from graph_models.errors import NotFoundError
from graph_models.store.base import GraphStore
from resolution.blocking import Candidates, candidates
from resolution.cluster import JUDGEMENT, KEPT, Clustering, Link, cluster, entity_key
from resolution.config import ResolutionConfig, default_config
from resolution.features import (
    NAME_PRIORITY,
    Progress,
    Record,
    RecordSet,
    read_all,
    read_some,
)
from resolution.judgement import Judgement, Verdict, judgement_key, ordered
from resolution.model import LINK, MODEL, REVIEW, RULE, Scorer, rounded
from resolution.state import (
    Changes,
    Desired,
    Entity,
    Membership,
    Stored,
    apply,
    read_stored,
    read_stored_around,
)

SINGLETON = "singleton"


# --- the store-independent core ------------------------------------------------------------
@dataclass
class LinkOutcome:
    """What linking a set of records produced."""

    clustering: Clustering
    compared: int
    links: int
    rule_links: int
    review: dict[tuple[int, int], float]
    member_score: list[tuple[float, str]]
    candidates: Candidates | None = None
    vetoed: int = 0


@dataclass
class Prior:
    """What a run starts from: clean records' clusters and the analysts' judgements."""

    kept_groups: list[list[int]] = field(default_factory=list)
    kept_scores: dict[int, tuple[float, str]] = field(default_factory=dict)
    positives: list[tuple[int, int]] = field(default_factory=list)
    negatives: list[tuple[int, int]] = field(default_factory=list)
    judged: set[tuple[int, int]] = field(default_factory=set)


def link(
    records: Sequence[Record],
    scorer: Scorer,
    *,
    dirty: np.ndarray | None = None,
    prior: Prior | None = None,
    pairs: Sequence[tuple[int, int]] | None = None,
    progress: Progress | None = None,
) -> LinkOutcome:
    """Compare candidate pairs (blocked, or ``pairs``), score them and cluster the records."""
    prior = prior or Prior()
    blocked: Candidates | None = None
    if pairs is None:
        blocked = candidates(records, scorer.config.blocking, dirty=dirty)
        total = len(blocked)
        if progress is not None:
            progress(f"compare {total:,} candidate pairs")
        pair_iter: Iterable[tuple[int, int]] = _chunked_pairs(blocked, progress)
    else:
        total = len(pairs)
        pair_iter = pairs
    links: list[Link] = []
    weights: list[float] = []
    review: dict[tuple[int, int], float] = {}
    rule_links = vetoed = 0
    for i, j in pair_iter:
        a, b = records[i], records[j]
        if a.kind != b.kind:
            continue
        score = scorer.score(a, b)
        vetoed += score.vetoed
        if score.decision == LINK:
            links.append(Link(i, j, rounded(score.probability), score.method))
            weights.append(score.weight)
            rule_links += score.method == RULE
        elif score.decision == REVIEW and (i, j) not in prior.judged:
            review[(i, j)] = rounded(score.probability)
    ambiguous = _ambiguous(records, scorer, links, weights)
    for k in sorted(ambiguous):
        lk = links[k]
        if (min(lk.left, lk.right), max(lk.left, lk.right)) not in prior.judged:
            review[(lk.left, lk.right)] = lk.score
    links = [lk for k, lk in enumerate(links) if k not in ambiguous]
    model_links = len(links)
    links.extend(Link(i, j, 1.0, JUDGEMENT) for i, j in prior.positives)
    for group in prior.kept_groups:
        links.extend(Link(a, b, 1.0, KEPT) for a, b in pairwise(group))
    clustering = _cluster_apart(records, scorer, links, prior)
    review = {p: s for p, s in review.items() if not _together(clustering, p)}
    return LinkOutcome(
        clustering=clustering,
        compared=total,
        links=model_links,
        rule_links=rule_links,
        review=_best_reviews(records, clustering, review, scorer.config.review_per_record),
        member_score=_member_scores(len(records), clustering, prior.kept_scores),
        candidates=blocked,
        vetoed=vetoed,
    )


def _best_reviews(
    records: Sequence[Record],
    clustering: Clustering,
    review: dict[tuple[int, int], float],
    per_record: int,
) -> dict[tuple[int, int], float]:
    """The review pairs an analyst needs: for each record, one pair per other entity (the
    best-scored; ties: the register's record, then key order) and only its ``per_record``
    best entities; a pair stays when both its records keep it. A common name without a birth
    date thus queues a few requests, not one per namesake or per member of an entity."""

    def rank(other: int, score: float) -> tuple[float, int, int]:
        agency = records[other].agency
        priority = NAME_PRIORITY.index(agency) if agency in NAME_PRIORITY else 9
        return (-score, priority, other)

    ranked: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for (i, j), score in review.items():
        ranked[i].append(rank(j, score))
        ranked[j].append(rank(i, score))
    best: dict[int, set[int]] = {}
    for x, entries in ranked.items():
        chosen: set[int] = set()
        groups: set[int] = set()
        for _, _, other in sorted(entries):
            group = clustering.group_of[other]
            if group in groups:
                continue
            groups.add(group)
            chosen.add(other)
            if len(groups) == per_record:
                break
        best[x] = chosen
    return {(i, j): s for (i, j), s in review.items() if j in best[i] and i in best[j]}


_MAX_PASSES = 4
AMBIGUITY_MARGIN = 2.0


def _ambiguous(
    records: Sequence[Record], scorer: Scorer, links: list[Link], weights: list[float]
) -> set[int]:
    """Model links that cannot be trusted because they are ambiguous: a record linked by the
    model to two records that are kept apart (:meth:`Scorer.separates`: a name-only customs
    record matching two registered companies of the same name, an FIU key of a name alone
    that two namesakes born years apart share) is sent to review with both, unless
    one link outweighs the other by ``AMBIGUITY_MARGIN`` bits (then only the weaker goes)."""
    by_record: dict[int, list[int]] = defaultdict(list)
    for k, lk in enumerate(links):
        if lk.method == MODEL:
            by_record[lk.left].append(k)
            by_record[lk.right].append(k)
    out: set[int] = set()
    for x, ks in by_record.items():
        if len(ks) < 2:
            continue
        for k1, k2 in combinations(ks, 2):
            a = links[k1].left if links[k1].right == x else links[k1].right
            b = links[k2].left if links[k2].right == x else links[k2].right
            if not scorer.separates(records[a], records[b]):
                continue
            w1, w2 = weights[k1], weights[k2]
            if abs(w1 - w2) < AMBIGUITY_MARGIN:
                out.update((k1, k2))
            else:
                out.add(k2 if w1 > w2 else k1)
    return out


def _cluster_apart(
    records: Sequence[Record], scorer: Scorer, links: list[Link], prior: Prior
) -> Clustering:
    """Cluster, then keep apart members that :meth:`Scorer.separates` (conflicting
    identifiers, or persons' birth dates, as configured): each conflicting pair found inside
    a cluster becomes a negative constraint and the records are clustered again, until no
    cluster holds a conflict. An analyst's positive judgement on the pair overrides."""
    negatives = set(prior.negatives)
    overridden = set(prior.positives)
    clustering = cluster(len(records), links, sorted(negatives))
    for _ in range(_MAX_PASSES):
        found: set[tuple[int, int]] = set()
        for group in clustering.groups:
            telling = [i for i in group if scorer.may_separate(records[i])]
            for i, j in combinations(telling, 2):
                if (i, j) not in overridden and scorer.separates(records[i], records[j]):
                    found.add((i, j))
        found -= negatives
        if not found:
            break
        negatives |= found
        clustering = cluster(len(records), links, sorted(negatives))
    return clustering


_PAIR_CHUNK = 1_000_000


def _chunked_pairs(blocked: Candidates, progress: Progress | None) -> Iterator[tuple[int, int]]:
    """The candidate pairs as Python ints, a million at a time (never all as objects)."""
    lefts, rights = blocked.pairs()
    for start in range(0, len(lefts), _PAIR_CHUNK):
        stop = start + _PAIR_CHUNK
        yield from zip(lefts[start:stop].tolist(), rights[start:stop].tolist(), strict=True)
        if progress is not None and stop < len(lefts):
            progress(f"compared {stop:,} pairs")


def _together(clustering: Clustering, pair: tuple[int, int]) -> bool:
    return clustering.group_of[pair[0]] == clustering.group_of[pair[1]]


_RANK = {JUDGEMENT: 0, "rule:identifier": 1, "model": 2}


def _member_scores(
    n: int, clustering: Clustering, kept: dict[int, tuple[float, str]]
) -> list[tuple[float, str]]:
    """Each record's score and method: its strongest link inside its cluster (a judgement
    counts 1.0); a clean record keeps what it had when nothing stronger arrived; a record
    alone is a singleton with score 1.0."""
    best: list[tuple[float, str] | None] = [kept.get(i) for i in range(n)]
    for lk in clustering.accepted:
        if lk.method == KEPT:
            continue
        for i in (lk.left, lk.right):
            current = best[i]
            if current is None or (lk.score, -_RANK[lk.method]) > (
                current[0],
                -_RANK.get(current[1], 9),
            ):
                best[i] = (lk.score, lk.method)
    out = []
    for i in range(n):
        alone = len(clustering.groups[clustering.group_of[i]]) == 1
        value = best[i]
        out.append((1.0, SINGLETON) if alone or value is None else value)
    return out


def best_name(records: Sequence[Record]) -> str:
    """The name an entity goes by: the register's if it has one, else the name most of its
    records use (ties: the agency order registry, tax, customs, FIU; then the shortest)."""
    counts = Counter(r.name for r in records if r.name)
    if not counts:
        return records[0].key

    def rank(r: Record) -> tuple[int, int, int, str]:
        agency = NAME_PRIORITY.index(r.agency) if r.agency in NAME_PRIORITY else 9
        return (agency, -counts[r.name], len(r.name), r.name)

    return min((r for r in records if r.name), key=rank).name


def desired_state(
    records: Sequence[Record], outcome: LinkOutcome, positions: Collection[int] | None = None
) -> Desired:
    """Entities, memberships and pending review pairs for the records at ``positions``."""
    desired = Desired()
    chosen = range(len(records)) if positions is None else sorted(positions)
    groups_done: set[int] = set()
    clustering = outcome.clustering
    for i in chosen:
        g = clustering.group_of[i]
        if g in groups_done:
            continue
        groups_done.add(g)
        members = [records[m] for m in clustering.groups[g]]
        key = entity_key([m.key for m in members])
        agencies = tuple(sorted({a for m in members for a in (m.agencies or ("external",))}))
        desired.entities[key] = Entity(key, best_name(members), members[0].kind, agencies)
        for m, record in zip(clustering.groups[g], members, strict=True):
            score, method = outcome.member_score[m]
            desired.memberships[record.key] = Membership(
                record=record.key,
                entity=key,
                fingerprint=record.fingerprint,
                score=score,
                method=method,
                agency=record.agency,
            )
    for (i, j), score in outcome.review.items():
        desired.pending[ordered(records[i].key, records[j].key)] = score
    return desired


# --- runs on a store -----------------------------------------------------------------------
class ResolutionSummary(BaseModel):
    """What a resolution run found and wrote."""

    model_config = ConfigDict(extra="forbid")

    config_digest: str
    records: dict[str, dict[str, int]] = Field(description="agency -> kind -> source records")
    entities: dict[str, int] = Field(description="kind -> resolved entities")
    entities_by_agency: dict[str, dict[str, int]] = Field(
        description="agency -> kind -> entities with a record from that agency"
    )
    merged_entities: dict[str, int] = Field(description="kind -> entities of several records")
    dirty_records: int
    pairs_compared: int
    all_pairs: int = Field(description="pairs of the same kind: what comparing all would cost")
    blocks: int
    oversized_blocks: int
    skipped_blocks: int
    auto_links: int
    rule_links: int
    vetoed: int
    review_candidates: int = Field(description="pending review requests after the run")
    judgements: dict[str, int]
    refused_links: int = Field(
        description="links dropped so as not to join a negative judgement's or conflicting pair"
    )
    changes: dict[str, int]
    seconds: float

    @property
    def comparison_ratio(self) -> float:
        return self.pairs_compared / self.all_pairs if self.all_pairs else 0.0

    def render(self) -> str:
        lines = [f"resolution {self.config_digest}: {self.seconds:.1f} s"]
        lines.append("source records -> resolved entities, per agency:")
        for agency in sorted(self.records):
            for kind, n in sorted(self.records[agency].items()):
                e = self.entities_by_agency.get(agency, {}).get(kind, 0)
                lines.append(f"  {agency:<9} {kind:<8} {n:>10,} -> {e:>10,}")
        for kind, n in sorted(self.entities.items()):
            merged = self.merged_entities.get(kind, 0)
            lines.append(f"  all       {kind:<8} {n:>10,} entities ({merged:,} of several records)")
        lines.append(
            f"pairs compared {self.pairs_compared:,} of {self.all_pairs:,}"
            f" (ratio {self.comparison_ratio:.2e}); {self.dirty_records:,} records new or changed"
        )
        lines.append(
            f"blocks {self.blocks:,}, oversized {self.oversized_blocks:,} (split by initials),"
            f" skipped {self.skipped_blocks:,}"
        )
        lines.append(
            f"auto-links {self.auto_links:,} ({self.rule_links:,} by identifier rule),"
            f" vetoed {self.vetoed:,}, review candidates {self.review_candidates:,},"
            f" links cut to keep records apart {self.refused_links:,}"
        )
        if self.judgements:
            verdicts = ", ".join(f"{v} {n:,}" for v, n in sorted(self.judgements.items()))
            lines.append(f"judgements: {verdicts}")
        lines.append("writes: " + ", ".join(f"{k} {v:,}" for k, v in self.changes.items()))
        return "\n".join(lines)


def _prior(
    records: RecordSet,
    stored: Stored,
    clean: np.ndarray,
) -> Prior:
    prior = Prior()
    index = records.index
    for (a, b), j in stored.judgements.items():
        i1, i2 = index.get(a), index.get(b)
        if i1 is None or i2 is None or j.verdict == Verdict.PENDING:
            continue
        pair = (min(i1, i2), max(i1, i2))
        prior.judged.add(pair)
        if j.verdict == Verdict.POSITIVE:
            prior.positives.append(pair)
        elif j.verdict == Verdict.NEGATIVE:
            prior.negatives.append(pair)
    for members in stored.members_of().values():
        positions = [index[m] for m in members if m in index]
        if positions and len(positions) == len(members) and all(clean[p] for p in positions):
            prior.kept_groups.append(sorted(positions))
            for p in positions:
                current = stored.current(records.records[p].key)
                if current is not None and current.method != SINGLETON:
                    prior.kept_scores[p] = (current.score, current.method)
    return prior


def _dirty(records: RecordSet, stored: Stored, full: bool) -> np.ndarray:
    """Which records must be compared again (see the module docstring)."""
    n = len(records)
    if full:
        return np.ones(n, dtype=bool)
    dirty = np.zeros(n, dtype=bool)
    members = stored.members_of()
    touched: set[str] = set()
    for i, record in enumerate(records.records):
        current = stored.current(record.key)
        if (
            current is None
            or current.fingerprint != record.fingerprint
            or current.entity not in stored.entities
        ):
            dirty[i] = True
            for link in stored.memberships.get(record.key, []):
                touched.add(link.entity)
    for entity, keys in members.items():
        # An entity with a changed member, or with a member that is gone, is resolved again.
        if entity in touched or any(k not in records.index for k in keys):
            for k in keys:
                if k in records.index:
                    dirty[records.index[k]] = True
    return dirty


def resolve(
    store: GraphStore,
    *,
    config: ResolutionConfig | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> ResolutionSummary:
    """Resolve the graph's Company and Person records into ResolvedEntity nodes.

    Incremental by default: only records new or changed since the last run (and the members
    of their entities) are compared; ``full`` compares everything again. Analysts'
    judgements are always honoured.
    """
    # Millions of long-lived objects are built here, and they hold no cycles.
    with cyclic_gc_paused():
        return _resolve(store, config=config, progress=progress, full=full)


def _resolve(
    store: GraphStore,
    *,
    config: ResolutionConfig | None,
    progress: Progress | None,
    full: bool,
) -> ResolutionSummary:
    started = time.perf_counter()
    config = config or default_config()
    salt = config.digest()
    say = progress or (lambda _msg: None)
    say("reading records")
    records = read_all(store, salt, progress)
    say(f"read {len(records):,} records; reading resolution state")
    stored = read_stored(store)
    dirty = _dirty(records, stored, full)
    prior = _prior(records, stored, ~dirty)
    say(f"{int(dirty.sum()):,} records new or changed; blocking")
    scorer = Scorer(config)
    outcome = link(records.records, scorer, dirty=dirty, prior=prior, progress=progress)
    say("writing")
    desired = desired_state(records.records, outcome)
    # Pending pairs between clean records were not compared again: keep them unless the
    # run put them into one entity.
    for pair, judgement in stored.judgements.items():
        if judgement.verdict != Verdict.PENDING or judgement.score is None:
            continue
        i1, i2 = records.index.get(pair[0]), records.index.get(pair[1])
        if i1 is None or i2 is None or dirty[i1] or dirty[i2]:
            continue
        if outcome.clustering.group_of[i1] != outcome.clustering.group_of[i2]:
            desired.pending.setdefault(pair, judgement.score)
    changes = apply(
        store,
        stored,
        desired,
        load_id=salt,
        record_agencies={r.key: r.agencies for r in records.records},
    )
    return _summary(
        records=records,
        outcome=outcome,
        stored=stored,
        desired=desired,
        changes=changes,
        dirty=dirty,
        started=started,
        salt=salt,
    )


def _summary(
    *,
    records: RecordSet,
    outcome: LinkOutcome,
    stored: Stored,
    desired: Desired,
    changes: Changes,
    dirty: np.ndarray,
    started: float,
    salt: str,
) -> ResolutionSummary:
    per_agency: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: Counter[str] = Counter()
    for record in records.records:
        per_agency[record.agency][record.kind] += 1
        kinds[record.kind] += 1
    entities: Counter[str] = Counter()
    merged: Counter[str] = Counter()
    by_agency: dict[str, Counter[str]] = defaultdict(Counter)
    for group in outcome.clustering.groups:
        kind = records.records[group[0]].kind
        entities[kind] += 1
        merged[kind] += len(group) > 1
        for agency in {records.records[i].agency for i in group}:
            by_agency[agency][kind] += 1
    verdicts = Counter(j.verdict.value for j in stored.judgements.values())
    verdicts.pop(Verdict.PENDING.value, None)
    blocked = outcome.candidates
    return ResolutionSummary(
        config_digest=salt,
        records={a: dict(c) for a, c in per_agency.items()},
        entities=dict(entities),
        entities_by_agency={a: dict(c) for a, c in by_agency.items()},
        merged_entities=dict(merged),
        dirty_records=int(dirty.sum()),
        pairs_compared=outcome.compared,
        all_pairs=sum(n * (n - 1) // 2 for n in kinds.values()),
        blocks=blocked.blocks if blocked else 0,
        oversized_blocks=blocked.oversized if blocked else 0,
        skipped_blocks=blocked.skipped if blocked else 0,
        auto_links=outcome.links,
        rule_links=outcome.rule_links,
        vetoed=outcome.vetoed,
        review_candidates=len(desired.pending),
        judgements=dict(verdicts),
        refused_links=len(outcome.clustering.refused),
        changes={
            "entities written": changes.entities_written,
            "entities deleted": changes.entities_deleted,
            "links written": changes.links_written,
            "links deleted": changes.links_deleted,
            "review requests written": changes.pending_written,
            "review requests deleted": changes.pending_deleted,
        },
        seconds=round(time.perf_counter() - started, 3),
    )


# --- judgements: re-resolve the entities they touch ----------------------------------------
class ReclusterResult(BaseModel):
    """The entities a judgement or split left behind."""

    model_config = ConfigDict(extra="forbid")

    entities: dict[str, list[str]] = Field(description="entity key -> member record keys")
    refused: list[tuple[str, str]] = Field(
        default_factory=list, description="positive links not made: a negative judgement forbids"
    )
    changes: dict[str, int] = Field(default_factory=dict)


def recluster(
    store: GraphStore, keys: Collection[str], config: ResolutionConfig | None = None
) -> ReclusterResult:
    """Re-resolve the entities of ``keys`` (all their members) from all pairs among the
    members and the judgements that name them."""
    config = config or default_config()
    salt = config.digest()
    stored = read_stored_around(store, keys)
    scope = set(keys) | set(stored.memberships)
    records = read_some(store, scope, salt)
    missing = set(keys) - set(records.index)
    if missing:
        raise NotFoundError(f"no Company or Person record with key {sorted(missing)[0]!r}")
    prior = Prior()
    index = records.index
    for (a, b), j in stored.judgements.items():
        if a in index and b in index and j.verdict != Verdict.PENDING:
            pair = (min(index[a], index[b]), max(index[a], index[b]))
            prior.judged.add(pair)
            if j.verdict == Verdict.POSITIVE:
                prior.positives.append(pair)
            elif j.verdict == Verdict.NEGATIVE:
                prior.negatives.append(pair)
    pairs = [
        (i, j)
        for i, j in combinations(range(len(records)), 2)
        if records.records[i].kind == records.records[j].kind
    ]
    outcome = link(records.records, Scorer(config), prior=prior, pairs=pairs)
    desired = desired_state(records.records, outcome)
    pending_scope = {p for p in stored.judgements if p[0] in index and p[1] in index}
    changes = apply(
        store,
        stored,
        desired,
        load_id=salt,
        record_agencies={r.key: r.agencies for r in records.records},
        pending_scope=pending_scope,
    )
    entities: dict[str, list[str]] = defaultdict(list)
    for membership in desired.memberships.values():
        entities[membership.entity].append(membership.record)
    refused = [
        ordered(records.records[lk.left].key, records.records[lk.right].key)
        for lk in outcome.clustering.refused
        if lk.method == JUDGEMENT
    ]
    return ReclusterResult(
        entities={k: sorted(v) for k, v in sorted(entities.items())},
        refused=refused,
        changes={
            "entities written": changes.entities_written,
            "entities deleted": changes.entities_deleted,
            "links written": changes.links_written,
            "links deleted": changes.links_deleted,
        },
    )


def write_judgement(store: GraphStore, judgement: Judgement, load_id: str = "judgement") -> None:
    """Store a judgement, replacing what was stored for the pair (a re-judgement must not
    inherit the old note)."""
    nodes = store.get_nodes(judgement.pair)
    agencies = [a for node in nodes.values() for a in node.provenance.agencies]
    store.delete_nodes([judgement_key(*judgement.pair)])
    store.write_nodes(judgement.writes(agencies, load_id))
