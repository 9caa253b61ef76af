"""Background jobs: file loads (multipart upload), detection runs and resolution runs.

Submitting answers ``202 Accepted`` with the job and its ``Location``; poll the job until its
status is ``succeeded`` or ``failed``. Supervisors and admins submit; everyone reads the jobs
of their own agency (admins every job), with a load's file name, errors and quarantined values
withheld from callers outside the loaded data's compartment (see :mod:`app.jobs`).
"""

from __future__ import annotations

import codecs
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Response, UploadFile
from fastapi import Path as PathParam

from app.deps import AuditDep, CallerDep, ServicesDep, require
from app.jobs import (
    DetectionRequest,
    Job,
    JobKind,
    JobStatus,
    LoadForbidden,
    LoadResult,
    ResolutionRequest,
    UploadTooLarge,
    present,
    safe_name,
    visible,
)
from app.pagination import Page, PageDep
from app.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem, ServiceError
from app.users import Principal, Role
from loaders.catalog import FORMATS

router = APIRouter(prefix="/api/v1", tags=["jobs"], responses=PROBLEM_RESPONSES)

# The largest file one upload may carry. The multipart body is spooled to disk by the server
# before the route runs, so a reverse proxy should cap the request body at about this size too.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024

SubmitterDep = Annotated[Principal, Depends(require(Role.SUPERVISOR, Role.ADMIN))]
_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": "Content Too Large"}
}


def _accepted(response: Response, job: Job, caller: Principal) -> Job:
    response.headers["Location"] = f"{router.prefix}/jobs/{job.id}"
    return present(job, caller)


@router.post(
    "/jobs/loads",
    response_model=Job,
    status_code=202,
    responses=_TOO_LARGE,
)
def submit_load(
    caller: SubmitterDep,
    services: ServicesDep,
    audit: AuditDep,
    response: Response,
    file: Annotated[UploadFile, File(description="a CSV, XLSX or goAML XML file")],
    kind: Annotated[
        str | None,
        Form(description=f"the format, one of {', '.join(FORMATS)} (default: told from content)"),
    ] = None,
    encoding: Annotated[str, Form(max_length=40, description="text encoding of a CSV")] = "utf-8",
) -> Job:
    """Load one file of your agency's data; the result is the load report with the
    quarantined records (file, record, field, reason). A file that cannot be read at all
    (unknown layout, missing columns, bad encoding, broken XML) is a failed job saying where."""
    if kind is not None and kind not in FORMATS:
        raise ServiceError(422, f"unknown format {kind!r}; choose one of {', '.join(FORMATS)}")
    try:
        codecs.lookup(encoding)
    except LookupError as e:
        raise ServiceError(422, f"unknown encoding {encoding!r}") from e
    try:
        upload = services.jobs.receive(file.filename, file.file, max_bytes=MAX_UPLOAD_BYTES)
    except UploadTooLarge as e:
        audit.log("change", outcome="too_large", job_kind="load", file=safe_name(file.filename))
        raise ServiceError(413, str(e)) from e
    try:
        job = services.jobs.submit_load(caller, upload, kind=kind, encoding=encoding)
    except LoadForbidden as e:
        audit.log(
            "denied", outcome="forbidden", file=upload.name, sha256=upload.sha256, format=kind
        )
        raise ServiceError(403, str(e)) from e
    audit.log(
        "change",
        job_id=job.id,
        job_kind=job.kind.value,
        file=upload.name,
        sha256=upload.sha256,
        bytes=upload.size,
        format=job.params.get("format"),
        outcome="ok" if job.status is not JobStatus.FAILED else "failed",
    )
    return _accepted(response, job, caller)


@router.post("/jobs/detection", response_model=Job, status_code=202)
def submit_detection(
    caller: SubmitterDep,
    services: ServicesDep,
    audit: AuditDep,
    response: Response,
    request: Annotated[DetectionRequest | None, Body()] = None,
) -> Job:
    """Run the detectors (all, or the typologies named) and save their alerts; the result
    counts alerts per typology (read them through the alerts endpoints)."""
    job = services.jobs.submit_detection(caller, request or DetectionRequest())
    audit.log("change", job_id=job.id, job_kind=job.kind.value, **job.params)
    return _accepted(response, job, caller)


@router.post("/jobs/resolution", response_model=Job, status_code=202)
def submit_resolution(
    caller: SubmitterDep,
    services: ServicesDep,
    audit: AuditDep,
    response: Response,
    request: Annotated[ResolutionRequest | None, Body()] = None,
) -> Job:
    """Resolve companies and persons across agencies (incremental unless ``full``)."""
    job = services.jobs.submit_resolution(caller, request or ResolutionRequest())
    audit.log("change", job_id=job.id, job_kind=job.kind.value, **job.params)
    return _accepted(response, job, caller)


@router.get("/jobs", response_model=Page[Job])
def list_jobs(
    caller: CallerDep,
    services: ServicesDep,
    page: PageDep,
    kind: JobKind | None = None,
    status: JobStatus | None = None,
) -> Page[Job]:
    """Jobs of your agency (admins: all), newest first; quarantined records are left out
    (read the job itself for them)."""
    agency = None if caller.has(Role.ADMIN) else caller.agency.value
    jobs, total = services.jobs.list(
        agency=agency, kind=kind, status=status, offset=page.offset, limit=page.limit
    )
    return Page[Job].of([present(j, caller, quarantine=False) for j in jobs], total, page)


@router.get("/jobs/{job_id}", response_model=Job)
def get_job(
    job_id: Annotated[str, PathParam(max_length=64)],
    caller: CallerDep,
    services: ServicesDep,
    audit: AuditDep,
) -> Job:
    """A job's status, progress and result (or error)."""
    job = services.jobs.get(job_id)
    if not visible(job, caller):
        # The same answer as for no job at all: another agency's jobs are not confirmed.
        raise ServiceError(404, f"no job {job_id!r}")
    shown = present(job, caller)
    result = shown.result
    if isinstance(result, LoadResult) and result.quarantine:
        # Quarantined records are raw values from the file: reading them is audited.
        audit.log("read", job_id=job.id, quarantined_shown=len(result.quarantine))
    return shown
