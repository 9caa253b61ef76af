"""What users do with resolution, as plain typed functions over a store (the CLI wraps them).

- :func:`resolve` runs the pipeline (incremental unless ``full``) and returns a summary;
- :func:`explain` says why two records are or are not linked;
- :func:`export` writes record -> entity (CSV or JSON lines);
- :func:`review_queue` lists the pairs waiting for an analyst;
- :func:`judge` records a verdict on a pair and re-resolves the entities it touches;
  :func:`unjudge` takes a verdict back;
- :func:`split` separates records from their entity;
- :func:`members` lists an entity's source records, per agency;
- :func:`retract` removes everything resolution wrote.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from graph_models.errors import NotFoundError
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from resolution.config import ResolutionConfig, default_config
from resolution.explain import Explanation
from resolution.explain import explain as _explain
from resolution.features import Progress
from resolution.judgement import Judgement, Verdict, judgement_key, read_judgements
from resolution.pipeline import (
    ReclusterResult,
    ResolutionSummary,
    recluster,
    write_judgement,
)
from resolution.pipeline import resolve as _resolve
from resolution.state import Changes
from resolution.state import retract as _retract

EXPORT_COLUMNS = ("record", "entity", "score", "method", "agency")


def resolve(
    store: GraphStore,
    *,
    config: ResolutionConfig | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> ResolutionSummary:
    """Resolve Company and Person records into ResolvedEntity nodes (see ``render()``)."""
    return _resolve(store, config=config, progress=progress, full=full)


def explain(
    store: GraphStore, key_a: str, key_b: str, *, config: ResolutionConfig | None = None
) -> Explanation:
    """Every feature of the pair, its level and weight, the total and the decision."""
    return _explain(store, key_a, key_b, config)


class ExportSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    format: str
    records: int
    entities: int


def _rows(store: GraphStore) -> Iterator[dict[str, str | float]]:
    for rel in store.iter_relationships([RelType.SAME_AS]):
        score = rel.properties.get("score")
        yield {
            "record": rel.start,
            "entity": rel.end,
            "score": float(score) if isinstance(score, int | float) else 0.0,
            "method": str(rel.properties.get("method", "")),
            "agency": rel.provenance.agencies[0] if rel.provenance.agencies else "",
        }


def export(store: GraphStore, path: Path) -> ExportSummary:
    """Write source record -> resolved entity, score, method and agency: JSON lines when the
    file name ends in ``.jsonl`` (or ``.json``), CSV otherwise."""
    path = Path(path)
    as_json = path.suffix.lower() in (".jsonl", ".json")
    rows = sorted(_rows(store), key=lambda r: str(r["record"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        if as_json:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return ExportSummary(
        path=str(path),
        format="jsonl" if as_json else "csv",
        records=len(rows),
        entities=len({r["entity"] for r in rows}),
    )


class ReviewItem(BaseModel):
    """A pair waiting for an analyst."""

    model_config = ConfigDict(extra="forbid")

    left: str
    right: str
    score: float
    left_name: str
    right_name: str
    left_entity: str | None
    right_entity: str | None


def review_queue(store: GraphStore, limit: int = 50) -> list[ReviewItem]:
    """Pending review requests, highest score first (then by keys)."""
    pending = [j for j in read_judgements(store).values() if j.verdict == Verdict.PENDING]
    pending.sort(key=lambda j: (-(j.score or 0.0), j.left, j.right))
    chosen = pending[:limit]
    keys = {k for j in chosen for k in j.pair}
    nodes = store.get_nodes(keys)
    entity = {
        r.start: r.end for r in store.expand(keys, rel_types=[RelType.SAME_AS], direction="out")
    }

    def name(key: str) -> str:
        node = nodes.get(key)
        return str(node.properties.get("name", "")) if node else ""

    return [
        ReviewItem(
            left=j.left,
            right=j.right,
            score=j.score or 0.0,
            left_name=name(j.left),
            right_name=name(j.right),
            left_entity=entity.get(j.left),
            right_entity=entity.get(j.right),
        )
        for j in chosen
    ]


def format_review(items: list[ReviewItem]) -> str:
    """The review queue as text, one pair per line."""
    return "\n".join(
        f"{i.score:.4f}  {i.left}  ({i.left_name})\n        {i.right}  ({i.right_name})"
        for i in items
    )


def _check_pair(store: GraphStore, left: str, right: str) -> None:
    nodes = store.get_nodes([left, right])
    for key in (left, right):
        if key not in nodes or nodes[key].label not in (Label.COMPANY, Label.PERSON):
            raise NotFoundError(f"no Company or Person record with key {key!r}")
    if nodes[left].label != nodes[right].label:
        raise ValueError(f"{left} and {right} are of different kinds: they are never linked")


def judge(
    store: GraphStore,
    left: str,
    right: str,
    verdict: Verdict | str,
    user: str,
    *,
    note: str | None = None,
    config: ResolutionConfig | None = None,
) -> ReclusterResult:
    """Record an analyst's verdict (positive, negative or unsure) on a pair of records and
    re-resolve the entities the pair touches; the verdict wins over the model from now on."""
    verdict = Verdict(verdict)
    if verdict == Verdict.PENDING:
        raise ValueError("pending is the model's request for a verdict, not a verdict")
    if not user.strip():
        raise ValueError("a verdict needs the user who decided it")
    _check_pair(store, left, right)
    config = config or default_config()
    score = _explain(store, left, right, config).probability
    write_judgement(store, Judgement.of(left, right, verdict, user=user, note=note, score=score))
    return recluster(store, [left, right], config)


def unjudge(
    store: GraphStore, left: str, right: str, *, config: ResolutionConfig | None = None
) -> ReclusterResult:
    """Take back the verdict on a pair; the model decides the pair again."""
    _check_pair(store, left, right)
    store.delete_nodes([judgement_key(left, right)])
    return recluster(store, [left, right], config)


def split(
    store: GraphStore,
    entity_id: str,
    keys: Collection[str],
    user: str,
    *,
    note: str | None = None,
    config: ResolutionConfig | None = None,
) -> ReclusterResult:
    """Separate ``keys`` from the rest of an entity: negative judgements between each of them
    and each other member, then the entity's members are resolved again (the separated part
    stays together where its own links hold it; the rest too)."""
    entity = _entity_key(entity_id)
    members = sorted(
        r.start for r in store.expand([entity], rel_types=[RelType.SAME_AS], direction="in")
    )
    if not members:
        raise NotFoundError(f"no resolved entity {entity!r}")
    part = set(keys)
    strangers = part - set(members)
    if strangers:
        raise ValueError(f"{sorted(strangers)[0]} is not a member of {entity}")
    rest = [m for m in members if m not in part]
    if not part or not rest:
        raise ValueError("a split needs some members on each side")
    if not user.strip():
        raise ValueError("a split needs the user who decided it")
    for a in sorted(part):
        for b in rest:
            write_judgement(
                store, Judgement.of(a, b, Verdict.NEGATIVE, user=user, note=note or "split")
            )
    return recluster(store, members, config)


def _entity_key(entity_id: str) -> str:
    prefix = SCHEMA.nodes[Label.RESOLVED_ENTITY].prefix
    return entity_id if entity_id.startswith(f"{prefix}:") else f"{prefix}:{entity_id}"


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    name: str
    score: float
    method: str


class EntityMembers(BaseModel):
    """An entity's source records, grouped by the agency that holds them."""

    model_config = ConfigDict(extra="forbid")

    entity: str
    name: str
    kind: str
    by_agency: dict[str, list[Member]] = Field(default_factory=dict)

    def render(self) -> str:
        lines = [f"{self.entity}  {self.name}  ({self.kind})"]
        for agency, members in sorted(self.by_agency.items()):
            lines.append(f"  {agency}:")
            lines.extend(f"    {m.key}  {m.name}  [{m.method} {m.score:.4f}]" for m in members)
        return "\n".join(lines)


def members(store: GraphStore, entity_id: str) -> EntityMembers:
    """The source records of a resolved entity, grouped by agency."""
    entity = _entity_key(entity_id)
    node = store.get_node(entity)
    if node is None or node.label != Label.RESOLVED_ENTITY:
        raise NotFoundError(f"no resolved entity {entity!r}")
    rels = store.expand([entity], rel_types=[RelType.SAME_AS], direction="in")
    nodes = store.get_nodes([r.start for r in rels])
    out = EntityMembers(
        entity=entity, name=str(node.properties["name"]), kind=str(node.properties["kind"])
    )
    for rel in rels:
        record = nodes[rel.start]
        agency = record.provenance.agencies[0] if record.provenance.agencies else "external"
        score = rel.properties.get("score")
        out.by_agency.setdefault(agency, []).append(
            Member(
                key=rel.start,
                label=record.label.value,
                name=str(record.properties.get("name", "")),
                score=float(score) if isinstance(score, int | float) else 0.0,
                method=str(rel.properties.get("method", "")),
            )
        )
    for group in out.by_agency.values():
        group.sort(key=lambda m: m.key)
    return out


def retract(store: GraphStore, *, judgements: bool = False) -> Changes:
    """Remove every ResolvedEntity, SAME_AS and pending review request (and the analysts'
    judgements too when ``judgements``): resolution undone."""
    return _retract(store, judgements=judgements)


def load_config(path: Path | None) -> ResolutionConfig:
    """The configuration in a JSON file, or the defaults."""
    return default_config() if path is None else ResolutionConfig.read(path)
