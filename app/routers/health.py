"""Liveness and store reachability."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.deps import StoreDep
from graph_models.errors import StoreError

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    store: str
    reachable: bool
    detail: str


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(store: StoreDep) -> Health | JSONResponse:
    """Report which store backs the service and whether it answers."""
    try:
        detail = store.ping()
    except StoreError as e:
        body = Health(status="unavailable", store=store.kind, reachable=False, detail=str(e))
        return JSONResponse(status_code=503, content=body.model_dump())
    return Health(status="ok", store=store.kind, reachable=True, detail=detail)
