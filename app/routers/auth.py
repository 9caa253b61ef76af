"""Log in (OAuth2 password flow) and say who you are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.audit import AuditEntry
from app.deps import CallerDep, ServicesDep
from app.problems import PROBLEM_RESPONSES, ServiceError
from app.tokens import Token
from app.users import Principal

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=PROBLEM_RESPONSES)


@router.post("/token", response_model=Token)
def token(
    request: Request,
    services: ServicesDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange a username and password for a bearer token that expires."""
    principal = services.users.authenticate(form.username, form.password)
    services.audit.append(
        AuditEntry(
            username=form.username[:64],
            agency=principal.agency.value if principal else "-",
            action="login",
            endpoint="POST /api/v1/auth/token",
            outcome="ok" if principal else "refused",
            request_id=getattr(request.state, "request_id", None),
        )
    )
    if principal is None:
        raise ServiceError(401, "wrong username or password, or the user is disabled")
    return services.signer.issue(principal)


@router.get("/me", response_model=Principal)
def me(caller: CallerDep) -> Principal:
    """The caller's agency, roles and clearances."""
    return caller
