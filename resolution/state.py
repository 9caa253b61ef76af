"""Resolution's output in the graph: what is stored, what should be, and the writes between.

Resolution writes three things, all derived and all retractable:

- a ``ResolvedEntity`` node per cluster (key ``entity:<digest of the smallest member key>``,
  name, kind), observed once per agency of its members;
- a ``SAME_AS`` relationship from each member record to its entity, with ``score`` and
  ``method``. Its relationship key is the record's **fingerprint** (a digest of the record's
  features and of the configuration): a SAME_AS says "this record, as it looked then, belongs
  here", so the next run knows which records changed without storing anything else. Its
  provenance is the member's own agency, so an FIU record's link stays in the FIU compartment;
- ``Judgement`` nodes with verdict ``pending`` for the review queue.

:func:`apply` compares the desired state with the stored one and writes only the difference:
stale SAME_AS relationships and entities are deleted (``delete_relationships`` /
``delete_nodes``), new or changed ones written, so a re-run on unchanged input writes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from graph_models.errors import SchemaError
from graph_models.merge import NodeMap, Observed, RelMap
from graph_models.records import Agency, NodeWrite, Provenance, Relationship
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from loaders.writer import BatchWriter
from resolution.judgement import (
    Judgement,
    Verdict,
    judgement_key,
    judgements_touching,
    read_judgements,
)

SOURCE = "resolution"
_SCORE_TOLERANCE = 1e-9
_ENTITY = Label.RESOLVED_ENTITY


@dataclass(frozen=True, slots=True)
class Membership:
    """A record's SAME_AS: its entity, the fingerprint it was resolved with, score, method."""

    record: str
    entity: str
    fingerprint: str
    score: float
    method: str
    agency: str = Agency.EXTERNAL.value

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (RelType.SAME_AS.value, self.record, self.entity, self.fingerprint)

    def same_as(self, other: Membership) -> bool:
        return (
            self.identity == other.identity
            and abs(self.score - other.score) < _SCORE_TOLERANCE
            and self.method == other.method
        )

    def observation(self, load_id: str) -> tuple[RelMap, Observed]:
        """The SAME_AS as the batch writer takes it, checked against the schema."""
        props: dict[str, Any] = {"score": self.score, "method": self.method}
        SCHEMA.check_ends(RelType.SAME_AS, SCHEMA.label_of_key(self.record), _ENTITY)
        SCHEMA.check_properties(RelType.SAME_AS, props, rel=True)
        rel = (RelType.SAME_AS, self.record, self.entity, self.fingerprint, props)
        return rel, observed(self.agency, self.record, load_id)


@dataclass(frozen=True, slots=True)
class Entity:
    """A ResolvedEntity as it is (or should be) stored."""

    key: str
    name: str
    kind: str
    agencies: tuple[str, ...]

    def observations(
        self, load_id: str, agencies: Iterable[str] | None = None
    ) -> Iterator[tuple[NodeMap, Observed]]:
        """The entity node as the batch writer takes it: one observation per agency."""
        props: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if SCHEMA.label_of_key(self.key) != _ENTITY:
            raise SchemaError(f"{self.key!r} is not a ResolvedEntity key")
        SCHEMA.check_properties(_ENTITY, props, rel=False)
        for agency in self.agencies if agencies is None else agencies:
            yield (_ENTITY, self.key, dict(props)), observed(agency, self.key, load_id)


def observed(agency: str, record_id: str, load_id: str) -> Observed:
    """The provenance of one of resolution's observations: the agency whose record it is
    about, file "resolution", the record (or entity) key, the configuration's digest."""
    template = _template(agency, load_id)
    return replace(template, record=f"{SOURCE}|{record_id}")


@lru_cache(maxsize=64)
def _template(agency: str, load_id: str) -> Observed:
    return Observed.of(
        Provenance(agency=Agency(agency), source_file=SOURCE, record_id="-", load_id=load_id)
    )


@dataclass
class Stored:
    """Resolution's output as the store holds it (all of it, or around a few records)."""

    memberships: dict[str, list[Membership]] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    judgements: dict[tuple[str, str], Judgement] = field(default_factory=dict)

    def members_of(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for record, links in self.memberships.items():
            for link in links:
                out.setdefault(link.entity, []).append(record)
        return out

    def current(self, record: str) -> Membership | None:
        links = self.memberships.get(record)
        return links[0] if links and len(links) == 1 else None


def _membership(rel: Relationship) -> Membership:
    score = rel.properties.get("score")
    method = rel.properties.get("method")
    return Membership(
        record=rel.start,
        entity=rel.end,
        fingerprint=rel.key,
        score=float(score) if isinstance(score, int | float) else 0.0,
        method=method if isinstance(method, str) else "",
        agency=rel.provenance.agencies[0] if rel.provenance.agencies else Agency.EXTERNAL.value,
    )


def _entity(node_key: str, props: Mapping[str, object], agencies: list[str]) -> Entity:
    return Entity(
        key=node_key,
        name=str(props.get("name", "")),
        kind=str(props.get("kind", "")),
        agencies=tuple(sorted(agencies)),
    )


def read_stored(store: GraphStore) -> Stored:
    """All of resolution's output (streamed)."""
    stored = Stored()
    for rel in store.iter_relationships([RelType.SAME_AS]):
        stored.memberships.setdefault(rel.start, []).append(_membership(rel))
    for node in store.iter_nodes([Label.RESOLVED_ENTITY]):
        stored.entities[node.key] = _entity(node.key, node.properties, node.provenance.agencies)
    stored.judgements = read_judgements(store)
    return stored


def read_stored_around(store: GraphStore, records: Collection[str]) -> Stored:
    """Resolution's output for ``records``: their SAME_AS, their entities, every member of
    those entities, and the judgements naming any of them."""
    stored = Stored()
    rels = store.expand(records, rel_types=[RelType.SAME_AS], direction="out")
    entity_keys = {r.end for r in rels}
    rels = store.expand(entity_keys, rel_types=[RelType.SAME_AS], direction="in") + rels
    for rel in {r.identity: r for r in rels}.values():
        stored.memberships.setdefault(rel.start, []).append(_membership(rel))
    for key, node in store.get_nodes(entity_keys).items():
        stored.entities[key] = _entity(key, node.properties, node.provenance.agencies)
    stored.judgements = judgements_touching(store, set(stored.memberships) | set(records))
    return stored


@dataclass
class Desired:
    """Resolution's output as it should be after a run (or around a judged pair)."""

    memberships: dict[str, Membership] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    pending: dict[tuple[str, str], float] = field(default_factory=dict)


@dataclass
class Changes:
    """What :func:`apply` wrote and deleted."""

    entities_written: int = 0
    entities_deleted: int = 0
    links_written: int = 0
    links_deleted: int = 0
    pending_written: int = 0
    pending_deleted: int = 0

    @property
    def total(self) -> int:
        return (
            self.entities_written
            + self.entities_deleted
            + self.links_written
            + self.links_deleted
            + self.pending_written
            + self.pending_deleted
        )


@dataclass
class Plan:
    """The writes and deletions that take the store from ``stored`` to ``desired``."""

    # What to write is kept as small specs; the NodeWrite / RelWrite rows are made while
    # writing, so a million-record run never holds a million validated rows at once.
    delete_entities: set[str] = field(default_factory=set)
    rewritten: set[str] = field(default_factory=set)
    write_entities: list[tuple[Entity, tuple[str, ...] | None]] = field(default_factory=list)
    delete_links: list[tuple[str, str, str, str]] = field(default_factory=list)
    links_with_entities: int = 0
    write_links: list[Membership] = field(default_factory=list)
    delete_pending: list[str] = field(default_factory=list)
    write_pending: list[tuple[tuple[str, str], float, tuple[str, ...]]] = field(
        default_factory=list
    )

    def pending_rows(self, load_id: str) -> Iterator[NodeWrite]:
        for pair, score, agencies in self.write_pending:
            yield from Judgement.of(*pair, Verdict.PENDING, score=score).writes(agencies, load_id)


def _plan_entities(plan: Plan, stored: Stored, desired: Desired) -> None:
    """Gone entities are deleted; one whose agencies must shrink is deleted and written again
    (provenance only grows by merging); others are written only when something is new."""
    plan.delete_entities = set(stored.entities) - set(desired.entities)
    for key, entity in desired.entities.items():
        old = stored.entities.get(key)
        if old is not None and not set(old.agencies) <= set(entity.agencies):
            plan.delete_entities.add(key)
            plan.rewritten.add(key)
            plan.write_entities.append((entity, None))
        elif old is None or (old.name, old.kind) != (entity.name, entity.kind):
            plan.write_entities.append((entity, None))
        elif set(entity.agencies) - set(old.agencies):
            added = tuple(sorted(set(entity.agencies) - set(old.agencies)))
            plan.write_entities.append((entity, added))


def _plan_links(plan: Plan, stored: Stored, desired: Desired) -> None:
    """Any stored SAME_AS that is not exactly the desired one goes; the desired one is
    written unless stored as it is (and its entity stays)."""
    for record, links in stored.memberships.items():
        want = desired.memberships.get(record)
        for link in links:
            if want is not None and link.identity == want.identity:
                continue
            if link.entity in plan.delete_entities:
                plan.links_with_entities += 1  # deleted with its entity
            else:
                plan.delete_links.append(link.identity)
    for record, want in desired.memberships.items():
        have = stored.memberships.get(record, [])
        current = next((lk for lk in have if lk.identity == want.identity), None)
        if current is None or want.entity in plan.rewritten or not current.same_as(want):
            plan.write_links.append(want)


def _plan_pending(
    plan: Plan,
    stored: Stored,
    desired: Desired,
    *,
    record_agencies: Mapping[str, tuple[str, ...]],
    scope: Collection[tuple[str, str]] | None,
) -> None:
    """Review requests no longer wanted are deleted; new ones (or new scores) written; an
    analyst's verdict is never replaced by a request."""
    judgements = stored.judgements
    for pair, judgement in judgements.items():
        in_scope = scope is None or pair in scope
        if judgement.verdict == Verdict.PENDING and in_scope and pair not in desired.pending:
            plan.delete_pending.append(judgement_key(*pair))
    for pair, score in desired.pending.items():
        old = judgements.get(pair)
        if old is not None and old.verdict != Verdict.PENDING:
            continue
        if old is not None and old.score is not None and abs(old.score - score) < _SCORE_TOLERANCE:
            continue
        agencies = record_agencies.get(pair[0], ()) + record_agencies.get(pair[1], ())
        plan.write_pending.append((pair, score, agencies))


def apply(
    store: GraphStore,
    stored: Stored,
    desired: Desired,
    *,
    load_id: str,
    record_agencies: Mapping[str, tuple[str, ...]],
    pending_scope: Collection[tuple[str, str]] | None = None,
    batch_size: int = 5_000,
) -> Changes:
    """Write the difference between ``stored`` and ``desired``.

    Every stored membership and entity is in scope (``stored`` is exactly what the run is
    responsible for). Stored pending judgements are in scope when ``pending_scope`` is None,
    else only those pairs.
    """
    plan = Plan()
    _plan_entities(plan, stored, desired)
    _plan_links(plan, stored, desired)
    _plan_pending(plan, stored, desired, record_agencies=record_agencies, scope=pending_scope)
    changes = Changes(
        entities_written=len(plan.write_entities),
        entities_deleted=len(plan.delete_entities),
        links_written=len(plan.write_links),
        links_deleted=plan.links_with_entities,
        pending_written=len(plan.write_pending),
        pending_deleted=len(plan.delete_pending),
    )
    if plan.delete_links:
        changes.links_deleted += store.delete_relationships(plan.delete_links)
    if plan.delete_entities or plan.delete_pending:
        store.delete_nodes(sorted(plan.delete_entities) + plan.delete_pending)
    # Nodes first: the batch writer flushes nodes before the relationships that need them.
    with BatchWriter(store, batch_size=batch_size) as writer:
        for entity, agencies in plan.write_entities:
            for node, obs in entity.observations(load_id, agencies):
                writer.observe([node], [], obs)
        for row in plan.pending_rows(load_id):
            writer.add_node(row)
        for link in plan.write_links:
            rel, obs = link.observation(load_id)
            writer.observe([], [rel], obs)
    return changes


def retract(store: GraphStore, *, judgements: bool = False) -> Changes:
    """Remove everything resolution wrote: entities (and with them every SAME_AS) and pending
    review requests; analysts' judgements too when ``judgements``."""
    entities = [n.key for n in store.iter_nodes([Label.RESOLVED_ENTITY])]
    links = sum(1 for _ in store.iter_relationships([RelType.SAME_AS]))
    pending = [
        j.key for j in read_judgements(store).values() if judgements or j.verdict == Verdict.PENDING
    ]
    store.delete_nodes(entities + pending)
    return Changes(
        entities_deleted=len(entities), links_deleted=links, pending_deleted=len(pending)
    )
