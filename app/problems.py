"""Errors as RFC 9457 problem details (``application/problem+json``), mapped once.

Domain errors carry no HTTP knowledge; this module decides their status. A 500 never
echoes the exception: its detail names the request id to quote to the operator.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph_models.errors import IffgraphError, NotFoundError, SchemaError, StoreUnavailableError

log = logging.getLogger("iffgraph.api")

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["no node with key company:customs:x"])
    instance: str | None = Field(default=None, description="the request path")
    request_id: str | None = None


class ServiceError(IffgraphError):
    """A refusal a route raises with its HTTP status (auth, access, conflicts)."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.extra = extra


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    428: "Precondition Required",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# What every route may answer besides its success, for the OpenAPI schema.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": _TITLES[code]}
    for code in (401, 403, 404, 422)
}
# Routes that take a PurposeDep also answer 428 when no purpose is stated (added to each such
# route by app.api, which finds them through their dependency tree).
PURPOSE_REQUIRED: dict[str, Any] = {
    "model": Problem,
    "content": {PROBLEM_JSON: {}},
    "description": "Precondition Required: state a purpose or a case",
}


def problem(
    request: Request, status: int, detail: str | None, *, title: str | None = None, **extra: Any
) -> JSONResponse:
    body = Problem(
        title=title or _TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        **extra,
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """Map every error the service can raise to a problem detail."""

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        return problem(request, exc.status, exc.detail, title=exc.title, **exc.extra)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return problem(request, 404, str(exc))

    @app.exception_handler(SchemaError)
    async def _schema(request: Request, exc: SchemaError) -> JSONResponse:
        return problem(request, 422, str(exc))

    @app.exception_handler(StoreUnavailableError)
    async def _down(request: Request, exc: StoreUnavailableError) -> JSONResponse:
        return problem(request, 503, "the graph store is unavailable")

    @app.exception_handler(IffgraphError)
    async def _domain(request: Request, exc: IffgraphError) -> JSONResponse:
        if isinstance(exc, ValueError):
            return problem(request, 422, str(exc))
        return problem(request, 400, str(exc))

    @app.exception_handler(ValidationError)
    async def _model(request: Request, exc: ValidationError) -> JSONResponse:
        # A value that passed the request schema but not a model deeper in (a safety net:
        # routes should validate their inputs up front).
        return problem(request, 422, f"invalid value: {exc.errors()[0].get('msg', '')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return problem(request, 422, "the request does not validate", errors=errors)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        rid = getattr(request.state, "request_id", None)
        log.exception("unhandled error on %s (request %s)", request.url.path, rid)
        return problem(request, 500, f"internal error; quote request id {rid} to the operator")
