"""User administration (admins only); every change is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.deps import AuditDep, ServicesDep, require
from app.pagination import Page, PageDep
from app.problems import PROBLEM_RESPONSES
from app.users import Principal, Role, UserCreate, UserPublic

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=PROBLEM_RESPONSES)

AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.get("", response_model=Page[UserPublic])
def list_users(_: AdminDep, services: ServicesDep, page: PageDep) -> Page[UserPublic]:
    return Page[UserPublic].slice(services.users.list(), page)


@router.post("", response_model=UserPublic, status_code=201)
def add_user(new: UserCreate, _: AdminDep, services: ServicesDep, audit: AuditDep) -> UserPublic:
    user = services.users.add(new)
    audit.log("admin", entities=[], user=new.username, op="add")
    return user


@router.post("/{username}/disable", response_model=UserPublic)
def disable_user(username: str, _: AdminDep, services: ServicesDep, audit: AuditDep) -> UserPublic:
    user = services.users.set_disabled(username, True)
    audit.log("admin", user=username, op="disable")
    return user


@router.post("/{username}/enable", response_model=UserPublic)
def enable_user(username: str, _: AdminDep, services: ServicesDep, audit: AuditDep) -> UserPublic:
    user = services.users.set_disabled(username, False)
    audit.log("admin", user=username, op="enable")
    return user
