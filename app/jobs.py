"""Background jobs: file loads, detection runs and resolution runs, recorded in the service DB.

A job is a row (kind, status, who asked, their agency, parameters, result JSON or error) that
outlives the process: a thread pool of ``settings.jobs_workers`` runs the work, and a process
that starts finds the jobs a previous one left ``queued`` or ``running`` and marks them failed
("interrupted by a restart") so no job stays pending for ever. Each job names the process that
runs it (``owner``: host and pid), so with several workers sharing one service DB a starting
worker fails only the jobs of processes that are gone, never a live sibling's.

**Who sees what.** A job belongs to the requester's agency: its users see it, admins see every
job. A load also carries the *compartment* of the data it loaded (the format's agency). Its
quarantine entries hold raw values of rejected records, its file name and error text may say
what the file is about: those are shown only to callers whose scope covers that compartment;
anyone else (an admin of another agency) gets counts and a :class:`Withheld` marker. Detection
and resolution results are counts and timings only: alerts are read through the alerts
endpoints, which enforce the compartments.

**Who may load.** Supervisors and admins, formats of their own agency only (a customs
supervisor cannot inject FIU reports). Registry and external reference formats belong to no
user agency: only admins load them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

import resolution.commands as er
from app.servicedb import ServiceDB
from app.settings import Settings
from app.users import Principal, Role
from graph_models.errors import IffgraphError, NotFoundError
from graph_models.records import Agency, compartment_of
from graph_models.store.base import GraphStore
from loaders.base import LoadError, LoadOptions, SourceFormat, load_file
from loaders.catalog import detect_kind, make_format
from loaders.report import LoadReport, QuarantineEntry
from queries.access import HOLDERS
from queries.alerts import Typology
from queries.detection import DetectorTiming, run_detectors
from queries.models import Withheld
from queries.search import invalidate_name_index
from resolution.pipeline import ResolutionSummary

log = logging.getLogger("iffgraph.jobs")

DDL = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    agency TEXT NOT NULL,
    compartment TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    params TEXT NOT NULL,
    progress TEXT,
    result TEXT,
    error TEXT,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_agency ON jobs (agency, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
"""

# A load's result keeps this many quarantine entries (the report counts them all); the full
# list is the quarantine file, which a bad multi-million-row file would make huge.
MAX_QUARANTINE_ENTRIES = 1_000
INTERRUPTED = "interrupted by a restart"


def _owner() -> str:
    """This process, as the owner of the jobs it accepts (see _recover)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str | None) -> bool:
    """Whether the process that owns a job still runs (on this host; another host's we cannot
    check and so leave alone)."""
    if owner is None:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return True
    if int(pid) == os.getpid():
        return False  # a record of this process's pid before it started: a reused pid
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


NOT_STARTED = "the service stopped before the job started"
WITHHELD = "(withheld)"
_CHUNK = 1 << 20
_AGENCY_FORMATS = frozenset({Agency.CUSTOMS, Agency.FIU, Agency.TAX})


class JobKind(StrEnum):
    LOAD = "load"
    DETECTION = "detection"
    RESOLUTION = "resolution"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobError(IffgraphError):
    """A job ended with an error its requester can act on (the text is shown as is)."""


class LoadForbidden(IffgraphError):  # noqa: N818 - a refusal, mapped to 403 by the route
    """The caller may not load this format."""


class UploadTooLarge(IffgraphError):  # noqa: N818 - a refusal, mapped to 413 by the route
    """The upload is over the size cap."""


class LoadResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["load"] = "load"
    report: LoadReport
    quarantine: list[QuarantineEntry] = Field(
        default_factory=list,
        description=f"rejected records (the first {MAX_QUARANTINE_ENTRIES:,}; the report counts"
        " all); left out of job lists and withheld outside the data's compartment",
    )
    withheld: Withheld | None = None


class DetectionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["detection"] = "detection"
    alerts: dict[Typology, int] = Field(description="alerts saved per typology run")
    timings: list[DetectorTiming]


class ResolutionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["resolution"] = "resolution"
    summary: ResolutionSummary


JobResult = Annotated[LoadResult | DetectionResult | ResolutionResult, Field(discriminator="kind")]
_RESULT: TypeAdapter[LoadResult | DetectionResult | ResolutionResult] = TypeAdapter(JobResult)


class Job(BaseModel):
    """A job as the API shows it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: JobKind
    status: JobStatus
    requested_by: str
    agency: str = Field(description="the requester's agency; its users see the job")
    compartment: str | None = Field(description="whose data a load carries; null otherwise")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    params: dict[str, Any]
    progress: str | None = Field(default=None, description="the last progress message")
    result: JobResult | None = None
    error: str | None = None


class Upload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    name: str
    sha256: str
    size: int


class DetectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    typologies: list[Typology] | None = Field(
        default=None, description="only these typologies (default: all)"
    )


class ResolutionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool = Field(default=False, description="re-resolve everything, not just what changed")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def safe_name(filename: str | None) -> str:
    """A file name that is safe on disk and in provenance: the base name only (no directory
    from the client), letters, digits and ``._-``, no leading dot, suffix kept (detection
    tells XLSX from CSV by content, but the name stays readable)."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    if len(clean) > 120:
        stem, dot, suffix = clean.rpartition(".")
        clean = (stem[:110] + dot + suffix[:9]) if dot else clean[:120]
    return clean or "upload"


def may_load(caller: Principal, agency: Agency) -> bool:
    """Supervisors load their own agency's formats; admins also the shared reference data."""
    if not caller.has(Role.SUPERVISOR, Role.ADMIN):
        return False
    if agency in _AGENCY_FORMATS:
        return agency.value == caller.agency.value
    return caller.has(Role.ADMIN)


def visible(job: Job, caller: Principal) -> bool:
    return caller.has(Role.ADMIN) or job.agency == caller.agency.value


def present(job: Job, caller: Principal, *, quarantine: bool = True) -> Job:
    """The job as ``caller`` may see it (call :func:`visible` first). ``quarantine=False``
    leaves the entries out (job lists stay small and carry no record content)."""
    if job.kind is not JobKind.LOAD or job.compartment is None:
        return job
    result = job.result if isinstance(job.result, LoadResult) else None
    if job.compartment in caller.scope.compartments:
        if quarantine or result is None:
            return job
        return job.model_copy(update={"result": result.model_copy(update={"quarantine": []})})
    # Outside the data's compartment: what and how much, never which file or which values.
    note = HOLDERS.get(job.compartment, job.compartment)
    update: dict[str, Any] = {
        "params": {**job.params, "file": WITHHELD},
        "progress": None,
        "error": f"{WITHHELD} {note}" if job.error else None,
    }
    if result is not None:
        count = result.report.quarantined
        update["result"] = LoadResult(
            report=result.report.model_copy(update={"file": WITHHELD, "quarantine_file": None}),
            withheld=Withheld(
                compartment=job.compartment, kind="quarantined records", count=count, note=note
            )
            if count
            else None,
        )
    return job.model_copy(update=update)


def _job(row: Any) -> Job:
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        status=JobStatus(row["status"]),
        requested_by=row["requested_by"],
        agency=row["agency"],
        compartment=row["compartment"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        params=json.loads(row["params"]),
        progress=row["progress"],
        result=_RESULT.validate_json(row["result"]) if row["result"] else None,
        error=row["error"],
    )


Work = Callable[[Callable[[str], None]], LoadResult | DetectionResult | ResolutionResult]


class Jobs:
    """Submits, runs and records jobs; :meth:`close` waits for the running ones."""

    def __init__(self, db: ServiceDB, store: GraphStore, settings: Settings) -> None:
        self.db = db
        self.store = store
        self.settings = settings
        self.root = settings.exports_dir.parent
        db.ensure(DDL)
        with db.write() as conn:  # service DBs made before jobs named their owner
            columns = {r["name"] for r in conn.execute("PRAGMA table_info(jobs)")}
            if "owner" not in columns:
                conn.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")
        self._recover()
        self._executor = ThreadPoolExecutor(
            max_workers=settings.jobs_workers, thread_name_prefix="iffgraph-job"
        )
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._resolving = threading.Lock()
        self._closed = False

    # --- records ------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}")
        return _job(row)

    def list(
        self,
        *,
        agency: str | None = None,
        kind: JobKind | None = None,
        status: JobStatus | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Job], int]:
        """Jobs matching every filter given, newest first, and how many match in all."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("agency", agency), ("kind", kind), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(str(value))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self.db.read() as conn:
            total = int(conn.execute(f"SELECT count(*) FROM jobs {clause}", params).fetchone()[0])  # noqa: S608
            rows = conn.execute(
                f"SELECT * FROM jobs {clause} ORDER BY created_at DESC, id DESC"  # noqa: S608
                " LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return [_job(r) for r in rows], total

    def wait(self, job_id: str, timeout: float) -> Job:
        """The job once it has finished; TimeoutError if it has not within ``timeout`` s."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            wait_futures([future], timeout=timeout)
        job = self.get(job_id)
        if job.status in PENDING:
            raise TimeoutError(f"job {job_id} is still {job.status} after {timeout} s")
        return job

    # --- loads --------------------------------------------------------------------------------
    def receive(self, filename: str | None, stream: BinaryIO, *, max_bytes: int) -> Upload:
        """Stream an upload to its own folder (named by a fresh job id), hashing it on the way."""
        job_id = uuid.uuid4().hex
        name = safe_name(filename)
        path = self.root / "uploads" / job_id / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("xb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLarge(f"the file is over the {max_bytes:,}-byte limit")
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            shutil.rmtree(path.parent, ignore_errors=True)
            raise
        return Upload(path=path, name=name, sha256=digest.hexdigest(), size=size)

    def submit_load(
        self, caller: Principal, upload: Upload, *, kind: str | None, encoding: str
    ) -> Job:
        """Queue the load of a received upload. The format is told from the content unless
        given, and authorised here, before anything reaches the graph: LoadForbidden when the
        caller may not load it. A file whose format cannot be told is a failed job."""
        job_id = upload.path.parent.name
        params: dict[str, Any] = {
            "file": upload.name,
            "sha256": upload.sha256,
            "bytes": upload.size,
            "format": kind,
            "encoding": encoding,
        }
        try:
            kind = kind or detect_kind(upload.path, encoding=encoding)
        except LoadError as e:
            return self._unreadable(caller, upload, params, self._message(e, upload))
        except Exception as e:  # a broken XLSX (zip) fails in its reader, not in detection
            error = f"{upload.name}: cannot tell what kind of file this is ({e})"
            return self._unreadable(caller, upload, params, error)
        params["format"] = kind
        fmt = make_format(kind, encoding=encoding)
        if not may_load(caller, fmt.agency):
            self._discard(job_id)
            raise LoadForbidden(
                f"{caller.agency.value} {'/'.join(sorted(caller.roles))} may not load"
                f" {kind} files (they are {fmt.agency.value} data)"
            )

        def work(progress: Callable[[str], None]) -> LoadResult:
            return self._load(job_id, upload, fmt, progress)

        return self._submit(
            job_id, JobKind.LOAD, caller, params, work, compartment=compartment_of(fmt.agency)
        )

    def _unreadable(
        self, caller: Principal, upload: Upload, params: dict[str, Any], error: str
    ) -> Job:
        """A failed job, not a refusal: the requester finds every load's outcome among the
        jobs. Its data is the requester's agency's (no format, no other agency to tell)."""
        job_id = upload.path.parent.name
        self._discard(job_id)
        own = compartment_of(Agency(caller.agency.value))
        return self._insert(job_id, JobKind.LOAD, caller, params, own, error=error)

    def _load(
        self,
        job_id: str,
        upload: Upload,
        fmt: SourceFormat,
        progress: Callable[[str], None],
    ) -> LoadResult:
        options = LoadOptions(
            batch_size=self.settings.batch_size,
            quarantine_dir=self.root / "quarantine" / job_id,
            reports_dir=None,  # the job record keeps the report
            quiet=True,
        )
        progress(f"loading as {fmt.kind}")
        try:
            self.store.init_schema()
            report = load_file(fmt, upload.path, self.store, options)
        except LoadError as e:
            raise JobError(self._message(e, upload)) from e
        finally:
            # Even a load that failed half-way may have written batches.
            invalidate_name_index(self.store)
            self._discard(job_id)
        entries: list[QuarantineEntry] = []
        if report.quarantine_file:
            with Path(report.quarantine_file).open(encoding="utf-8") as fh:
                lines = (line for line in fh if line.strip())
                for line in islice(lines, MAX_QUARANTINE_ENTRIES):
                    entry = QuarantineEntry.model_validate_json(line)
                    entries.append(entry.model_copy(update={"file": upload.name}))
        report = report.model_copy(update={"file": upload.name})
        return LoadResult(report=report, quarantine=entries)

    @staticmethod
    def _message(e: LoadError, upload: Upload) -> str:
        # The loader names the file by its path in the upload folder; the requester knows it
        # by its name.
        return str(e).replace(str(upload.path), upload.name)

    def _discard(self, job_id: str) -> None:
        """Remove an upload: the graph (or the quarantine file) now holds what was in it,
        and a copy of raw intelligence should not lie around on the server."""
        shutil.rmtree(self.root / "uploads" / job_id, ignore_errors=True)

    # --- detection and resolution -------------------------------------------------------------
    def submit_detection(self, caller: Principal, request: DetectionRequest) -> Job:
        wanted = sorted(set(request.typologies)) if request.typologies else None

        def work(progress: Callable[[str], None]) -> DetectionResult:
            run = run_detectors(self.store, typologies=wanted, save=True, progress=progress)
            counts = dict.fromkeys(wanted or list(Typology), 0)
            for alert in run.alerts:
                counts[alert.typology] += 1
            return DetectionResult(alerts=counts, timings=run.timings)

        params = {"typologies": [t.value for t in wanted] if wanted else None}
        return self._submit(uuid.uuid4().hex, JobKind.DETECTION, caller, params, work)

    def submit_resolution(self, caller: Principal, request: ResolutionRequest) -> Job:
        def work(progress: Callable[[str], None]) -> ResolutionResult:
            # Two runs at once (jobs_workers > 1) would both rewrite the same clusters.
            with self._resolving:
                try:
                    summary = er.resolve(self.store, full=request.full, progress=progress)
                finally:
                    invalidate_name_index(self.store)  # resolved names are searchable
            return ResolutionResult(summary=summary)

        params = {"full": request.full}
        return self._submit(uuid.uuid4().hex, JobKind.RESOLUTION, caller, params, work)

    # --- running ------------------------------------------------------------------------------
    def _insert(
        self,
        job_id: str,
        kind: JobKind,
        caller: Principal,
        params: dict[str, Any],
        compartment: str | None,
        *,
        error: str | None = None,
    ) -> Job:
        now = _now()
        status, finished = (JobStatus.FAILED, now) if error else (JobStatus.QUEUED, None)
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO jobs (id, kind, status, requested_by, agency, compartment,"
                " created_at, finished_at, params, error, owner)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    kind.value,
                    status.value,
                    caller.username,
                    caller.agency.value,
                    compartment,
                    now,
                    finished,
                    json.dumps(params, sort_keys=True),
                    error,
                    _owner(),
                ),
            )
        return self.get(job_id)

    def _submit(
        self,
        job_id: str,
        kind: JobKind,
        caller: Principal,
        params: dict[str, Any],
        work: Work,
        *,
        compartment: str | None = None,
    ) -> Job:
        with self._lock:
            if self._closed:
                self._discard(job_id)
                raise JobError("the service is shutting down; submit the job again later")
            job = self._insert(job_id, kind, caller, params, compartment)
            future = self._executor.submit(self._run, job_id, work)
            self._futures[job_id] = future
        future.add_done_callback(lambda f: self._settled(job_id, f))
        return job

    def _settled(self, job_id: str, future: Future[None]) -> None:
        with self._lock:
            self._futures.pop(job_id, None)
        if future.cancelled():  # close() dropped it from the queue
            self._finish(job_id, JobStatus.FAILED, error=NOT_STARTED)
            self._discard(job_id)

    def _run(self, job_id: str, work: Work) -> None:
        try:
            self._update(job_id, status=JobStatus.RUNNING.value, started_at=_now())
            try:
                result = work(lambda message: self._update(job_id, progress=message))
            except IffgraphError as e:
                self._finish(job_id, JobStatus.FAILED, error=str(e))
            except Exception:
                log.exception("job %s failed", job_id)
                self._finish(
                    job_id,
                    JobStatus.FAILED,
                    error=f"internal error; quote job {job_id} to the operator",
                )
            else:
                self._finish(job_id, JobStatus.SUCCEEDED, result=result)
        finally:
            self.db.close()  # this worker thread's connection

    def _update(self, job_id: str, **columns: str | None) -> None:
        sets = ", ".join(f"{c} = ?" for c in columns)
        with self.db.write() as conn:
            conn.execute(f"UPDATE jobs SET {sets} WHERE id = ?", [*columns.values(), job_id])  # noqa: S608

    def _finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: BaseModel | None = None,
        error: str | None = None,
    ) -> None:
        self._update(
            job_id,
            status=status.value,
            finished_at=_now(),
            result=result.model_dump_json() if result is not None else None,
            error=error,
        )

    def _recover(self) -> None:
        """Fail the jobs that processes now gone left unfinished, and drop their uploads."""
        with self.db.write() as conn:
            pending = conn.execute(
                "SELECT id, owner FROM jobs WHERE status IN (?, ?)", [s.value for s in PENDING]
            ).fetchall()
            rows = [r for r in pending if not _alive(r["owner"])]
            conn.executemany(
                "UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE id = ?",
                [(JobStatus.FAILED.value, _now(), INTERRUPTED, r["id"]) for r in rows],
            )
        for row in rows:
            self._discard(row["id"])
        if rows:
            log.warning("%d job(s) %s", len(rows), INTERRUPTED)

    def close(self) -> None:
        """Stop accepting work and wait for running jobs (queued ones are failed, not run)."""
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)


__all__ = [
    "MAX_QUARANTINE_ENTRIES",
    "DetectionRequest",
    "DetectionResult",
    "Job",
    "JobError",
    "JobKind",
    "JobStatus",
    "Jobs",
    "LoadForbidden",
    "LoadResult",
    "ResolutionRequest",
    "ResolutionResult",
    "Upload",
    "UploadTooLarge",
    "may_load",
    "present",
    "safe_name",
    "visible",
]
