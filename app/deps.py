"""Dependencies that routes declare with ``Annotated`` aliases.

Every data route takes :data:`CallerDep` (a valid token of an enabled user); routes that read
entity data also take :data:`PurposeDep` and log through :data:`AuditDep`.

The dependencies are ``async def`` although they do no I/O worth awaiting: FastAPI runs a
plain ``def`` dependency in the thread pool, and five thread hand-offs per request were a
tenth of the server's time under load. Their work (a token check, one indexed SQLite read)
takes microseconds, so it runs on the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict

from app.audit import Action, AuditEntry, AuditLog
from app.problems import ServiceError
from app.services import Services
from app.tokens import TokenError
from app.users import Principal, Role
from graph_models.store.base import GraphStore
from queries.access import Scope


async def _store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    return store


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


StoreDep = Annotated[GraphStore, Depends(_store)]
ServicesDep = Annotated[Services, Depends(_services)]

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# The dependencies every data route runs read the services off the app themselves rather than
# through ServicesDep: each dependency FastAPI resolves costs it a cache-key computation and a
# call, and these run on every request.
async def _caller(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    services: Services = request.app.state.services
    if not token:
        raise ServiceError(401, "a bearer token is required")
    try:
        username = services.signer.verify(token)
    except TokenError as e:
        raise ServiceError(401, str(e)) from e
    principal = services.users.principal(username)
    if principal is None:
        raise ServiceError(401, "the user is unknown or disabled")
    request.state.principal = principal
    return principal


CallerDep = Annotated[Principal, Depends(_caller)]


async def _scope(caller: CallerDep) -> Scope:
    return caller.scope


ScopeDep = Annotated[Scope, Depends(_scope)]


def require(*roles: Role) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """A dependency that refuses (403, audited) callers holding none of ``roles``."""

    async def check(request: Request, caller: CallerDep) -> Principal:
        if not caller.has(*roles):
            services: Services = request.app.state.services
            services.audit.append(
                AuditEntry(
                    username=caller.username,
                    agency=caller.agency.value,
                    action="denied",
                    endpoint=_endpoint(request),
                    outcome="forbidden",
                    request_id=getattr(request.state, "request_id", None),
                    detail={"needs_one_of": sorted(r.value for r in roles)},
                )
            )
            raise ServiceError(
                403, f"this needs one of the roles {', '.join(sorted(r.value for r in roles))}"
            )
        return caller

    return check


class Purpose(BaseModel):
    """Why a sensitive read is made: a case the caller works on, or a stated reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str | None = None
    reason: str | None = None

    @property
    def text(self) -> str:
        return f"case {self.case_id}" if self.case_id else str(self.reason)


async def _purpose(
    request: Request,
    caller: CallerDep,
    purpose: Annotated[
        str | None,
        Query(
            min_length=5,
            max_length=500,
            description="why you read this (required unless case_id is given)",
            examples=["screening importer before audit visit"],
        ),
    ] = None,
    case_id: Annotated[
        str | None,
        Query(max_length=100, description="the case this read serves (you must be a member)"),
    ] = None,
) -> Purpose:
    if case_id is not None:
        services: Services = request.app.state.services
        if not services.cases.is_member(case_id, caller):
            raise ServiceError(403, f"you are not a member of case {case_id!r}")
        return Purpose(case_id=case_id, reason=purpose)
    if purpose is None or not purpose.strip():
        raise ServiceError(
            428,
            "a sensitive read needs a stated purpose: give ?purpose=<reason> or ?case_id=<case>",
            title="Purpose Required",
        )
    return Purpose(reason=purpose.strip())


purpose_dependency = _purpose  # app.api documents the 428 of every route that depends on it
PurposeDep = Annotated[Purpose, Depends(_purpose)]


def _endpoint(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    return f"{request.method} {path}"


class Auditor:
    """Appends the audit record of one request (routes call :meth:`log` once they know what
    they touched, before they answer)."""

    def __init__(self, request: Request, log: AuditLog, caller: Principal) -> None:
        self.request = request
        self.audit = log
        self.caller = caller

    def log(
        self,
        action: Action,
        *,
        entities: list[str] | None = None,
        purpose: Purpose | None = None,
        case_id: str | None = None,
        outcome: str = "ok",
        **detail: object,
    ) -> None:
        self.audit.append(
            AuditEntry(
                username=self.caller.username,
                agency=self.caller.agency.value,
                action=action,
                endpoint=_endpoint(self.request),
                outcome=outcome,
                purpose=purpose.text if purpose else None,
                case_id=case_id or (purpose.case_id if purpose else None),
                entities=entities or [],
                request_id=getattr(self.request.state, "request_id", None),
                detail={k: v for k, v in detail.items() if v is not None},
            )
        )


async def _auditor(request: Request, caller: CallerDep) -> Auditor:
    services: Services = request.app.state.services
    return Auditor(request, services.audit, caller)


AuditDep = Annotated[Auditor, Depends(_auditor)]
