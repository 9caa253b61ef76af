"""Alerts: the list, one alert with its evidence, and triage (status, assignee, notes).

An alert rests on records of every compartment it carries, so it is visible only when the
caller's scope covers all of them (rule 3 of :mod:`queries.access`); the others are counted in
``withheld`` markers and never named. Triage state lives in the service DB (:mod:`app.triage`),
so re-running detection, which rewrites the Alert nodes, never loses it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from app.audit import Action
from app.deps import (
    AuditDep,
    Auditor,
    Purpose,
    PurposeDep,
    ScopeDep,
    ServicesDep,
    StoreDep,
    require,
)
from app.pagination import Page, PageDep
from app.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem, ServiceError
from app.services import Services
from app.triage import (
    NoteCreate,
    ReopenForbiddenError,
    TransitionConflictError,
    TriageChange,
    TriageError,
    TriageState,
    TriageStatus,
)
from app.users import Principal, Role
from graph_models.errors import NotFoundError
from graph_models.records import Node
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from queries.access import HOLDERS, Scope, Tally, resolved_entities
from queries.alerts import EvidenceRecord, Indicator, Typology, alert_from_node
from queries.models import Withheld

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=PROBLEM_RESPONSES)

# Who works alerts: analysts, liaison officers (analysts who also export) and supervisors.
# An admin manages users and does not triage intelligence (separation of duties).
TRIAGERS = (Role.ANALYST, Role.LIAISON, Role.SUPERVISOR)
TriagerDep = Annotated[Principal, Depends(require(*TRIAGERS))]


class AlertSummary(BaseModel):
    """An alert as the list shows it (no evidence: ask for the alert)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    typology: Typology
    detector: str
    score: float
    summary: str
    entities: list[str]
    detected_on: str | None
    agencies: list[str] = Field(description="agencies whose records the alert rests on")
    status: TriageStatus
    assignee: str | None


class AlertPage(Page[AlertSummary]):
    """A page of visible alerts, and hit / no-hit markers for the alerts the caller may not see."""

    withheld: list[Withheld] = Field(
        default_factory=list,
        description="hidden alerts per compartment (on the entity asked for, if any), whatever"
        " the other filters say: filtering hidden alerts by score or typology would measure them",
    )


class AlertDetail(BaseModel):
    """One alert: why it fired, the records it rests on, and where its triage stands."""

    model_config = ConfigDict(extra="forbid")

    id: str
    typology: Typology
    detector: str
    score: float
    summary: str
    entities: list[str]
    detected_on: str | None
    agencies: list[str]
    indicators: list[Indicator]
    records: list[EvidenceRecord] = Field(description="evidence, provenance redacted to scope")
    details: dict[str, Any]
    triage: TriageState


def holders(compartments: list[str]) -> str:
    """The hit / no-hit wording for what the caller may not read: whom to ask, nothing else."""
    return "; ".join(HOLDERS.get(c, "held outside your scope") for c in compartments)


def _summary(node: Node, status: TriageStatus, assignee: str | None) -> AlertSummary:
    # Built from the node's properties: parsing every alert's evidence JSON to list them
    # would cost more than the whole filter.
    props = node.properties
    entities = props.get("entities")
    detected = props.get("detected_on")
    score = props.get("score")
    return AlertSummary(
        id=node.key,
        typology=Typology(str(props["typology"])),
        detector=str(props["detector"]),
        score=float(score) if isinstance(score, int | float) else 0.0,
        summary=str(props["summary"]),
        entities=[str(e) for e in entities] if isinstance(entities, list) else [],
        detected_on=str(detected) if detected is not None else None,
        agencies=list(node.provenance.agencies),
        status=status,
        assignee=assignee,
    )


def _around(store: GraphStore, key: str) -> set[str]:
    """The key, its resolved entity and every record of that entity: an alert "on Acme" may
    name any of them."""
    keys = {key, *resolved_entities(store, [key]).values()}
    entities = [k for k in keys if SCHEMA.label_of_key(k) == Label.RESOLVED_ENTITY]
    if entities:
        links = store.expand(entities, rel_types=[RelType.SAME_AS], direction="in")
        keys |= {r.start for r in links}
    return keys


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    store: StoreDep,
    services: ServicesDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
    page: PageDep,
    typology: Annotated[list[Typology] | None, Query()] = None,
    status: Annotated[list[TriageStatus] | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    min_score: Annotated[float | None, Query(ge=0)] = None,
    entity: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=300,
            description="alerts naming this key, its resolved entity or any of its records",
        ),
    ] = None,
    detected_from: Annotated[date | None, Query(examples=["2024-01-01"])] = None,
    detected_to: Annotated[date | None, Query(examples=["2024-12-31"])] = None,
) -> AlertPage:
    """Visible alerts, highest score first (then by id), filtered; hidden ones as markers."""
    near = _around(store, entity) if entity is not None else None
    # Dates are ISO strings in the graph, so they compare as text.
    since = detected_from.isoformat() if detected_from is not None else None
    until = detected_to.isoformat() if detected_to is not None else None
    triage = services.triage.current()
    tally = Tally(scope)
    chosen: list[AlertSummary] = []
    for node in store.iter_nodes([Label.ALERT]):
        named = node.properties.get("entities")
        if near is not None and not (isinstance(named, list) and near.intersection(named)):
            continue
        if not scope.sees_all(node.provenance):
            tally.add("alerts", node.key, node.provenance)
            continue
        current = triage.get(node.key)
        item = _summary(
            node,
            current.status if current else TriageStatus.NEW,
            current.assignee if current else None,
        )
        day = (item.detected_on or "")[:10]
        if (
            (typology is not None and item.typology not in typology)
            or (status is not None and item.status not in status)
            or (assignee is not None and item.assignee != assignee)
            or (min_score is not None and item.score < min_score)
            # An alert without a date cannot be placed in a period: a date filter drops it.
            or (since is not None and (not day or day < since))
            or (until is not None and (not day or day > until))
        ):
            continue
        chosen.append(item)
    chosen.sort(key=lambda a: (-a.score, a.id))
    result = AlertPage(**dict(Page[AlertSummary].slice(chosen, page)), withheld=tally.markers())
    audit.log(
        "read",
        entities=[k for a in result.items for k in (a.id, *a.entities)],
        purpose=purpose,
        entity=entity,
        total=result.total,
    )
    return result


def _visible_alert(
    store: GraphStore,
    scope: Scope,
    alert_id: str,
    audit: Auditor,
    *,
    action: Action,
    purpose: Purpose | None = None,
) -> Node:
    """The alert's node when the caller may read it; else 404, or 403 saying whom to ask."""
    node = store.get_node(alert_id)
    if node is None or node.label != Label.ALERT:
        audit.log(action, entities=[alert_id], purpose=purpose, outcome="not found")
        raise NotFoundError(f"no alert {alert_id!r}")
    if not scope.sees_all(node.provenance):
        audit.log(action, entities=[alert_id], purpose=purpose, outcome="withheld")
        raise ServiceError(403, holders(scope.hidden(node.provenance)))
    return node


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
def get_alert(
    alert_id: str,
    store: StoreDep,
    services: ServicesDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
) -> AlertDetail:
    """One alert with its indicators, evidence records and triage state and history."""
    node = _visible_alert(store, scope, alert_id, audit, action="read", purpose=purpose)
    alert = alert_from_node(node)
    detail = AlertDetail(
        id=alert.id,
        typology=alert.typology,
        detector=alert.detector,
        score=alert.score,
        summary=alert.summary,
        entities=alert.entities,
        detected_on=alert.detected_on,
        agencies=list(node.provenance.agencies),
        indicators=alert.indicators,
        records=[
            r.model_copy(update={"provenance": scope.redact(r.provenance)}) for r in alert.records
        ],
        details=alert.details,
        triage=services.triage.state(alert_id),
    )
    audit.log("read", entities=[alert.id, *alert.entities], purpose=purpose)
    return detail


def _check_assignee(services: Services, username: str, node: Node) -> None:
    """An assignee must be an enabled user who triages and may read the whole alert."""
    user = services.users.principal(username)
    if user is None:
        raise ServiceError(422, f"no enabled user {username!r} to assign")
    if not user.has(*TRIAGERS):
        raise ServiceError(422, f"{username} does not triage alerts (no analyst role)")
    if not user.scope.sees_all(node.provenance):
        raise ServiceError(
            422, f"{username} may not read this alert: assign someone cleared for all of it"
        )


@router.patch(
    "/alerts/{alert_id}",
    response_model=TriageState,
    responses={409: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "Conflict"}},
)
def triage_alert(
    alert_id: str,
    change: TriageChange,
    caller: TriagerDep,
    store: StoreDep,
    services: ServicesDep,
    audit: AuditDep,
) -> TriageState:
    """Move an alert through the workflow, (un)assign it, or both, with an optional note.

    new → in_review | dismissed; in_review → escalated | dismissed | confirmed;
    escalated → confirmed | dismissed; dismissed | confirmed → in_review by a supervisor.
    Dismissing, confirming and reopening need a note. Other moves answer 409.
    """
    node = _visible_alert(store, caller.scope, alert_id, audit, action="change")
    entities = [alert_id, *_named(node)]
    if change.assignee is not None:
        _check_assignee(services, change.assignee, node)
    try:
        before, after = services.triage.change(
            alert_id, change, by=caller.username, may_reopen=caller.has(Role.SUPERVISOR)
        )
    except (TransitionConflictError, ReopenForbiddenError, TriageError) as e:
        audit.log("change", entities=entities, outcome="refused", reason=str(e))
        if isinstance(e, TransitionConflictError):
            raise ServiceError(409, str(e)) from e
        if isinstance(e, ReopenForbiddenError):
            raise ServiceError(403, str(e)) from e
        raise
    audit.log(
        "change",
        entities=entities,
        status_from=before.status.value,
        status_to=after.status.value,
        assignee_from=before.assignee,
        assignee_to=after.assignee,
        noted=change.note is not None or None,
    )
    return after


@router.post("/alerts/{alert_id}/notes", response_model=TriageState, status_code=201)
def add_note(
    alert_id: str,
    note: NoteCreate,
    caller: TriagerDep,
    store: StoreDep,
    services: ServicesDep,
    audit: AuditDep,
) -> TriageState:
    """Add a note to an alert's history (its status and assignee stay as they are)."""
    node = _visible_alert(store, caller.scope, alert_id, audit, action="change")
    state = services.triage.add_note(alert_id, note.text, by=caller.username)
    audit.log("change", entities=[alert_id, *_named(node)], noted=True)
    return state


def _named(node: Node) -> list[str]:
    entities = node.properties.get("entities")
    return [str(e) for e in entities] if isinstance(entities, list) else []
