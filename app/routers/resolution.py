"""Entity resolution for analysts: the review queue, judgements, an entity's members, and why
two records are (or are not) one entity.

A pair is shown, judged or explained only when the caller may read **both** records (rule 1
of :mod:`queries.access`): a verdict on a record one cannot read would be a blind one, and an
explanation would print its features. Pairs and members outside the scope are counted in
``withheld`` markers. Judgements are stored in the graph with the caller as judge
(:mod:`resolution.judgement`) and re-resolve the entities they touch at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Literal, ParamSpec, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from app.deps import AuditDep, PurposeDep, ScopeDep, StoreDep, require
from app.pagination import Page, PageDep
from app.problems import PROBLEM_RESPONSES, ServiceError
from app.routers.alerts import holders
from app.users import Principal, Role
from graph_models.errors import IffgraphError, NotFoundError
from graph_models.store.base import GraphStore
from queries.access import Scope, Tally, entity_members, entity_name, resolved_entities
from queries.models import Withheld
from resolution import commands
from resolution.explain import Explanation
from resolution.judgement import Judgement, Verdict, judgement_key

router = APIRouter(prefix="/api/v1/resolution", tags=["resolution"], responses=PROBLEM_RESPONSES)

# Who decides that two records are one entity (or not): analysts and their supervisors.
JudgeDep = Annotated[Principal, Depends(require(Role.ANALYST, Role.SUPERVISOR))]
Key = Annotated[str, Query(min_length=3, max_length=300)]
P = ParamSpec("P")
R = TypeVar("R")


class ReviewPage(Page[commands.ReviewItem]):
    """Pairs waiting for a verdict that the caller may read whole; the rest as markers."""

    withheld: list[Withheld] = Field(default_factory=list)


class JudgementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    left: str = Field(min_length=3, max_length=300)
    right: str = Field(min_length=3, max_length=300)
    judgement: Literal["positive", "negative", "unsure"]
    note: str | None = Field(default=None, max_length=2_000, examples=["different directors"])


class JudgementOut(BaseModel):
    """The verdict as stored, and the entities the two records belong to after it."""

    model_config = ConfigDict(extra="forbid")

    left: str
    right: str
    verdict: Verdict
    user: str | None
    decided_at: str | None
    note: str | None
    score: float | None = Field(description="the model's probability for the pair")
    left_entity: str | None
    right_entity: str | None


class MemberView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str
    key: str
    label: str
    name: str
    score: float = Field(description="the link's score (1.0 for rules and judgements)")
    method: str


class MembersPage(Page[MemberView]):
    """The members of a resolved entity the caller may read, by agency then key."""

    entity: str
    name: str | None = Field(description="the entity's name as the caller's scope may see it")
    kind: str
    withheld: list[Withheld] = Field(default_factory=list)


def _readable_pair(store: GraphStore, scope: Scope, left: str, right: str) -> None:
    """404 when a record is missing; 403 naming whom to ask when one may not be read."""
    if left == right:
        raise ServiceError(422, "a pair needs two different records")
    nodes = store.get_nodes([left, right])
    for key in (left, right):
        if key not in nodes:
            raise NotFoundError(f"no record with key {key!r}")
    unread = [n.provenance for n in nodes.values() if not scope.sees(n.provenance)]
    if unread:
        raise ServiceError(403, holders(sorted({c for p in unread for c in scope.hidden(p)})))


def _resolution_errors(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call into resolution, whose refusals of a pair (two kinds of record, one record twice)
    are plain ValueErrors: answer them as 422 like every domain refusal."""
    try:
        return fn(*args, **kwargs)
    except IffgraphError:
        raise
    except ValueError as e:
        raise ServiceError(422, str(e)) from e


@router.get("/review", response_model=ReviewPage)
def review(
    store: StoreDep, scope: ScopeDep, purpose: PurposeDep, audit: AuditDep, page: PageDep
) -> ReviewPage:
    """Pairs the model could not decide, highest score first, both records readable."""
    # The whole queue is read so the page and its total count only readable pairs; the queue
    # is the band between two thresholds, small next to the records it is drawn from.
    queue = commands.review_queue(store, limit=sys.maxsize)
    nodes = store.get_nodes({k for item in queue for k in (item.left, item.right)})
    tally = Tally(scope)
    readable = []
    for item in queue:
        if item.left not in nodes or item.right not in nodes:
            continue  # a request left behind by a deleted record: nothing to judge
        hidden = [nodes[k] for k in (item.left, item.right) if not scope.sees(nodes[k].provenance)]
        for node in hidden:
            tally.add("review pairs", f"{item.left}|{item.right}", node.provenance)
        if not hidden:
            readable.append(item)
    result = ReviewPage(
        **dict(Page[commands.ReviewItem].slice(readable, page)), withheld=tally.markers()
    )
    audit.log(
        "read",
        entities=[k for i in result.items for k in (i.left, i.right)],
        purpose=purpose,
        total=result.total,
    )
    return result


@router.post("/judgements", response_model=JudgementOut, status_code=201)
def judge(
    body: JudgementCreate, caller: JudgeDep, store: StoreDep, audit: AuditDep
) -> JudgementOut:
    """Record your verdict on a pair (replacing any earlier one) and re-resolve its entities."""
    pair = [body.left, body.right]
    try:
        _readable_pair(store, caller.scope, body.left, body.right)
        _resolution_errors(
            commands.judge,
            store,
            body.left,
            body.right,
            body.judgement,
            caller.username,
            note=body.note,
        )
    except Exception:
        audit.log("change", entities=pair, outcome="refused", verdict=body.judgement)
        raise
    stored = store.require_node(judgement_key(body.left, body.right))
    verdict = Judgement.from_node(stored)
    entities = resolved_entities(store, pair)
    audit.log("change", entities=pair, verdict=verdict.verdict.value)
    return JudgementOut(
        **verdict.model_dump(),
        left_entity=entities.get(verdict.left),
        right_entity=entities.get(verdict.right),
    )


@router.delete("/judgements", status_code=204, response_class=Response)
def unjudge(left: Key, right: Key, caller: JudgeDep, store: StoreDep, audit: AuditDep) -> Response:
    """Take back the verdict on a pair: the model decides it again. Only the analyst who gave
    the verdict or a supervisor may take it back."""
    pair = [left, right]
    try:
        _readable_pair(store, caller.scope, left, right)
        node = store.get_node(judgement_key(left, right))
        verdict = Judgement.from_node(node) if node is not None else None
        if verdict is None or verdict.verdict == Verdict.PENDING:
            raise NotFoundError(f"no verdict on {left} and {right}")
        if verdict.user != caller.username and not caller.has(Role.SUPERVISOR):
            raise ServiceError(403, f"only {verdict.user} or a supervisor may take it back")
        commands.unjudge(store, left, right)
    except Exception:
        audit.log("change", entities=pair, outcome="refused", op="unjudge")
        raise
    audit.log("change", entities=pair, op="unjudge", verdict=verdict.verdict.value)
    return Response(status_code=204)


@router.get("/entities/{entity_id:path}/members", response_model=MembersPage)
def members(
    entity_id: str,
    store: StoreDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
    page: PageDep,
) -> MembersPage:
    """The source records of a resolved entity that you may read; the rest as markers."""
    try:
        everything = commands.members(store, entity_id)
    except NotFoundError:
        audit.log("read", entities=[entity_id], purpose=purpose, outcome="not found")
        raise
    tally = Tally(scope)
    visible = entity_members(store, everything.entity, scope=scope, tally=tally)
    readable = {n.key for n in visible}
    items = [
        MemberView(agency=agency, **m.model_dump())
        for agency, group in sorted(everything.by_agency.items())
        for m in group
        if m.key in readable
    ]
    entity = store.require_node(everything.entity)
    result = MembersPage(
        **dict(Page[MemberView].slice(items, page)),
        entity=everything.entity,
        name=entity_name(entity, visible, scope=scope),
        kind=everything.kind,
        withheld=tally.markers(),
    )
    audit.log(
        "read",
        entities=[everything.entity, *(m.key for m in result.items)],
        purpose=purpose,
    )
    return result


@router.get("/explain", response_model=Explanation)
def explain(
    left: Key, right: Key, store: StoreDep, scope: ScopeDep, purpose: PurposeDep, audit: AuditDep
) -> Explanation:
    """Every feature of the pair, its level and weight, the total, and what resolution does."""
    try:
        _readable_pair(store, scope, left, right)
        result = _resolution_errors(commands.explain, store, left, right)
    except Exception:
        audit.log("read", entities=[left, right], purpose=purpose, outcome="refused")
        raise
    audit.log("read", entities=[left, right], purpose=purpose)
    return result
