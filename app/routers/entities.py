"""Investigator queries: search, profile, neighbourhood, paths, timeline, shared attributes.

Each route passes the caller's scope into the query layer, which enforces the compartments
(hit / no-hit markers instead of content); each needs a stated purpose and is audited with
the entity keys it returned, and answers in its own thread (``ModelJSON``, see
app.responses). Keys may hold ``/`` (declaration numbers), hence ``:path``; the sub-resources
are declared before the bare profile route so they match first.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import AuditDep, PurposeDep, ScopeDep, StoreDep
from app.problems import PROBLEM_RESPONSES
from app.responses import ModelJSON
from graph_models.schema import RelType
from queries.models import (
    Attribute,
    Neighbourhood,
    Paths,
    Profile,
    SearchMode,
    SearchResult,
    SharedAttributes,
    Timeline,
)
from queries.neighbourhood import neighbourhood as neighbourhood_query
from queries.paths import paths as paths_query
from queries.profile import profile as profile_query
from queries.search import search as search_query
from queries.shared import shared_attributes
from queries.timeline import timeline as timeline_query

router = APIRouter(prefix="/api/v1", tags=["investigation"], responses=PROBLEM_RESPONSES)

# Real dates, not a pattern: "2024-13-45" is refused as a 422 here, not deep in a query.
DateFrom = Annotated[date | None, Query(examples=["2024-01-01"])]
DateTo = Annotated[date | None, Query(examples=["2024-12-31"])]
Agencies = Annotated[
    list[str] | None, Query(description="only these agencies' records (never widens scope)")
]
RelTypes = Annotated[list[RelType] | None, Query(description="only these relationship types")]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@router.get("/search", response_model=SearchResult)
def search(
    store: StoreDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
    q: Annotated[str, Query(min_length=2, max_length=200, examples=["Acme Trading"])],
    mode: SearchMode = SearchMode.AUTO,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ModelJSON:
    """Parties by name (fuzzy) or identifier (tax id, VAT, IBAN, passport, phone, e-mail)."""
    result = search_query(store, q, scope=scope, mode=mode, limit=limit)
    audit.log(
        "read",
        entities=[h.key for h in result.hits] + [r.key for h in result.hits for r in h.records],
        purpose=purpose,
        query=q,
    )
    return ModelJSON(result)


@router.get("/entities/{key:path}/neighbourhood", response_model=Neighbourhood)
def neighbourhood(
    key: str,
    store: StoreDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
    hops: Annotated[int, Query(ge=1, le=4)] = 2,
    rel_types: RelTypes = None,
    agencies: Agencies = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Annotated[int, Query(ge=1, le=2_000)] = 500,
) -> ModelJSON:
    """The visible graph within ``hops`` of an entity (hubs are shown, not expanded)."""
    try:
        result = neighbourhood_query(
            store,
            key,
            scope=scope,
            hops=hops,
            rel_types=rel_types,
            agencies=agencies,
            date_from=_iso(date_from),
            date_to=_iso(date_to),
            limit=limit,
        )
    except Exception:
        audit.log("read", entities=[key], purpose=purpose, outcome="error")
        raise
    audit.log("read", entities=[n.key for n in result.nodes], purpose=purpose)
    return ModelJSON(result)


@router.get("/entities/{key:path}/timeline", response_model=Timeline)
def timeline(
    key: str,
    store: StoreDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> ModelJSON:
    """The dated events of an entity: declarations, transactions, reports, filings, roles."""
    try:
        result = timeline_query(
            store, key, scope=scope, date_from=_iso(date_from), date_to=_iso(date_to)
        )
    except Exception:
        audit.log("read", entities=[key], purpose=purpose, outcome="error")
        raise
    audit.log(
        "read", entities=[result.key, *sorted({e.party for e in result.events})], purpose=purpose
    )
    return ModelJSON(result)


@router.get("/entities/{key:path}/shared", response_model=SharedAttributes)
def shared(
    key: str,
    store: StoreDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
    attributes: Annotated[list[Attribute] | None, Query()] = None,
    cap: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ModelJSON:
    """Other entities sharing an address, phone, e-mail, account or director."""
    try:
        result = shared_attributes(store, key, scope=scope, attributes=attributes, cap=cap)
    except Exception:
        audit.log("read", entities=[key], purpose=purpose, outcome="error")
        raise
    keys = [result.key] + [s.key for v in result.shared for s in v.sharers]
    audit.log("read", entities=keys, purpose=purpose)
    return ModelJSON(result)


@router.get("/entities/{key:path}", response_model=Profile)
def profile(
    key: str, store: StoreDep, scope: ScopeDep, purpose: PurposeDep, audit: AuditDep
) -> ModelJSON:
    """An entity's records by agency, accounts, key figures, alerts and withheld markers."""
    try:
        result = profile_query(store, key, scope=scope)
    except Exception:
        audit.log("read", entities=[key], purpose=purpose, outcome="error")
        raise
    members = [n.key for nodes in result.records_by_agency.values() for n in nodes]
    audit.log("read", entities=[result.key, *members], purpose=purpose)
    return ModelJSON(result)


@router.get("/paths", response_model=Paths)
def paths(
    store: StoreDep,
    scope: ScopeDep,
    purpose: PurposeDep,
    audit: AuditDep,
    source: Annotated[str, Query(min_length=3, max_length=300)],
    target: Annotated[str, Query(min_length=3, max_length=300)],
    k: Annotated[int, Query(ge=1, le=10)] = 3,
    max_hops: Annotated[int, Query(ge=1, le=6)] = 4,
    rel_types: RelTypes = None,
    agencies: Agencies = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> ModelJSON:
    """Up to ``k`` shortest visible paths between two entities, each hop with its evidence."""
    try:
        result = paths_query(
            store,
            source,
            target,
            scope=scope,
            k=k,
            max_hops=max_hops,
            rel_types=rel_types,
            agencies=agencies,
            date_from=_iso(date_from),
            date_to=_iso(date_to),
        )
    except Exception:
        audit.log("read", entities=[source, target], purpose=purpose, outcome="error")
        raise
    keys = {source, target} | {n.key for p in result.paths for n in p.nodes}
    audit.log("read", entities=sorted(keys), purpose=purpose)
    return ModelJSON(result)
