"""The audit log for supervisors and admins: query by user, entity and period; verify."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.audit import AuditRecord, Verification
from app.deps import AuditDep, ServicesDep, require
from app.pagination import Page, PageDep
from app.problems import PROBLEM_RESPONSES
from app.users import Principal, Role

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=PROBLEM_RESPONSES)

OverseerDep = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.ADMIN))]
_DAY = r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?$"


@router.get("", response_model=Page[AuditRecord])
def query_audit(
    _: OverseerDep,
    services: ServicesDep,
    audit: AuditDep,
    page: PageDep,
    username: Annotated[str | None, Query(max_length=64)] = None,
    entity: Annotated[str | None, Query(max_length=300)] = None,
    since: Annotated[str | None, Query(pattern=_DAY, examples=["2026-11-01"])] = None,
    until: Annotated[str | None, Query(pattern=_DAY, examples=["2026-11-30"])] = None,
) -> Page[AuditRecord]:
    """Audit records, oldest first, filtered by user, entity key and period (UTC dates)."""
    records, total = services.audit.query(
        username=username,
        entity=entity,
        since=since,
        until=until,
        offset=page.offset,
        limit=page.limit,
    )
    # Reading the log is itself logged: oversight is accountable too.
    audit.log("read", entities=[entity] if entity else [], about_user=username)
    return Page[AuditRecord].of(records, total, page)


@router.get("/verify", response_model=Verification)
def verify_audit(_: OverseerDep, services: ServicesDep) -> Verification:
    """Walk the hash chain; ``ok`` is false with the first bad record when it was tampered with."""
    return services.audit.verify()
