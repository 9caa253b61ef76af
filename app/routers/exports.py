"""Exports for FIU liaison officers and case teams: bundles of files with a SHA-256 manifest.

``POST /exports`` gathers what the caller may see about some entities or a case (through the
query layer, so compartments hold; see :mod:`app.exports.material`), writes the chosen formats
under ``exports_dir/<id>/`` and answers the manifest. Only the requester may read an export
back; anyone else gets 404, as for an export that does not exist. goAML XML is the FIU
liaison's product, so only the liaison role may ask for it. Every call is audited as an
export, with the entity keys and the case; a bundle whose bytes no longer match the hashes
recorded when it was written is refused (409) rather than handed out.
"""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.cases import case_view
from app.deps import AuditDep, Auditor, Purpose, ServicesDep, StoreDep, require
from app.exports.bundle import (
    BUNDLE,
    FILES_DIR,
    MANIFEST,
    MEDIA_TYPES,
    Manifest,
    file_sha256,
    read_manifest,
    write_bundle,
)
from app.exports.material import MAX_HOPS, MAX_SUBJECTS, gather
from app.exports.model import ExportFormat, ExportHeader
from app.exports.registry import ExportRecord, Exports
from app.problems import PROBLEM_RESPONSES, ServiceError
from app.services import Services
from app.users import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["exports"], responses=PROBLEM_RESPONSES)

ExporterDep = Annotated[Principal, Depends(require(Role.ANALYST, Role.LIAISON, Role.SUPERVISOR))]
ExportId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$", description="the export's id")]
FileName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
DEFAULT_FORMATS: list[ExportFormat] = [f for f in ExportFormat if f != ExportFormat.GOAML]
# Headers for a file that may be opened in a browser: never as a page of this origin.
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
}
# Keys may hold spaces (a person keyed by name) and slashes (declaration numbers).
_KEY = re.compile(r"^[^\x00-\x1f]{3,300}$")


class ExportRequest(BaseModel):
    """What to export: a case, entity keys, or both, and in which formats."""

    model_config = ConfigDict(extra="forbid")

    case_id: str | None = Field(default=None, max_length=100, examples=["case-2026-000001"])
    keys: list[str] = Field(
        default_factory=list, max_length=MAX_SUBJECTS, examples=[["entity:acme"]]
    )
    hops: int = Field(default=1, ge=1, le=MAX_HOPS, description="neighbourhood around each")
    formats: list[ExportFormat] = Field(
        default_factory=lambda: list(DEFAULT_FORMATS),
        min_length=1,
        description="goaml is for the liaison role only",
    )
    purpose: str = Field(min_length=5, max_length=500, examples=["request 2026/17 from FIU NL"])
    title: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not _KEY.match(key):
                raise ValueError(f"{key[:40]!r} is not an entity key")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _something(self) -> ExportRequest:
        if not self.keys and self.case_id is None:
            raise ValueError("give a case_id, entity keys, or both")
        return self


class BundleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    bytes: int
    sha256: str


class ExportReceipt(BaseModel):
    """An export: its manifest, and the zip's own size and hash (the manifest is inside it)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    manifest: Manifest
    bundle: BundleFile
    created_at: str


def _directory(services: Services, export_id: str) -> Path:
    return services.settings.exports_dir / export_id


def _receipt(record: ExportRecord, manifest: Manifest) -> ExportReceipt:
    bundle = BundleFile(name=BUNDLE, bytes=record.bundle_bytes, sha256=record.bundle_sha256)
    return ExportReceipt(
        id=record.id, manifest=manifest, bundle=bundle, created_at=record.created_at
    )


@router.post("/exports", response_model=ExportReceipt, status_code=201)
def create_export(
    body: ExportRequest,
    caller: ExporterDep,
    services: ServicesDep,
    store: StoreDep,
    audit: AuditDep,
) -> ExportReceipt:
    """Build an export bundle now and answer its manifest (the zip is at ``…/bundle``)."""
    purpose = Purpose(case_id=body.case_id, reason=body.purpose)
    formats = list(dict.fromkeys(body.formats))
    if ExportFormat.GOAML in formats and not caller.has(Role.LIAISON):
        audit.log("denied", purpose=purpose, outcome="forbidden", needs="liaison for goaml")
        raise ServiceError(403, "goAML XML is the FIU liaison's product: it needs the liaison role")
    view = None
    title = body.title
    if body.case_id is not None:
        if not services.cases.is_member(body.case_id, caller):
            audit.log("denied", purpose=purpose, outcome="not_found")
            raise ServiceError(404, f"no case {body.case_id!r}")
        case = services.cases.get(body.case_id)
        view = case_view(store, case, caller.scope)
        title = title or case.title
    export_id = uuid.uuid4().hex
    header = ExportHeader(
        title=title or f"Export: {', '.join(body.keys[:3])}",
        export_id=export_id,
        purpose=body.purpose,
        requested_by=caller.username,
        agency=caller.agency.value,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        case_id=body.case_id,
        legal_basis=view.legal_basis if view else None,
        compartments=sorted(caller.scope.compartments),
    )
    directory = _directory(services, export_id)
    try:
        material = gather(
            store, header, scope=caller.scope, keys=body.keys, hops=body.hops, case=view
        )
        manifest = write_bundle(material, formats, directory, export_id=export_id)
        record = ExportRecord(
            id=export_id,
            requested_by=caller.username,
            agency=caller.agency.value,
            case_id=body.case_id,
            purpose=body.purpose,
            formats=",".join(formats),
            created_at=header.generated_at,
            manifest_sha256=file_sha256(directory / MANIFEST),
            bundle_sha256=file_sha256(directory / BUNDLE),
            bundle_bytes=(directory / BUNDLE).stat().st_size,
        )
        Exports(services.db).add(record)
    except Exception:
        shutil.rmtree(directory, ignore_errors=True)  # no half-written bundle stays behind
        audit.log("export", entities=body.keys, purpose=purpose, outcome="error")
        raise
    audit.log(
        "export",
        entities=[*material.subjects, *(n.key for n in material.nodes)],
        purpose=purpose,
        export_id=export_id,
        formats=[f.value for f in formats],
        alerts=[a.id for a in material.alerts] or None,
        reason=body.purpose if body.case_id else None,  # a case purpose logs the case only
    )
    return _receipt(record, manifest)


def _owned(
    export_id: str, caller: Principal, services: Services, audit: Auditor
) -> tuple[ExportRecord, Manifest]:
    """The caller's own export and its manifest, checked against the recorded hash."""
    record = Exports(services.db).get(export_id)
    if record is None or record.requested_by != caller.username:
        audit.log("export", outcome="not_found", export_id=export_id)
        raise ServiceError(404, f"no export {export_id!r}")
    directory = _directory(services, export_id)
    if _digest(directory / MANIFEST) != record.manifest_sha256:
        _tampered(record, audit, MANIFEST)
    return record, read_manifest(directory)


def _digest(path: Path) -> str | None:
    """The file's SHA-256, None when it is gone (which is a mismatch too)."""
    return file_sha256(path) if path.is_file() else None


def _tampered(record: ExportRecord, audit: Auditor, name: str) -> None:
    audit.log("export", case_id=record.case_id, outcome="tampered", export_id=record.id, file=name)
    raise ServiceError(
        409, f"{name} of export {record.id} no longer matches the hash recorded when it was written"
    )


def _purpose(record: ExportRecord) -> Purpose:
    return Purpose(case_id=record.case_id, reason=record.purpose)


@router.get("/exports/{export_id}", response_model=ExportReceipt)
def get_export(
    export_id: ExportId, caller: ExporterDep, services: ServicesDep, audit: AuditDep
) -> ExportReceipt:
    """Your export's manifest."""
    record, manifest = _owned(export_id, caller, services, audit)
    audit.log(
        "export",
        entities=manifest.subjects,
        purpose=_purpose(record),
        export_id=export_id,
        part="manifest",
    )
    return _receipt(record, manifest)


@router.get(
    "/exports/{export_id}/bundle",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "the zip"}},
)
def get_bundle(
    export_id: ExportId, caller: ExporterDep, services: ServicesDep, audit: AuditDep
) -> FileResponse:
    """Your export as one zip: ``manifest.json`` and every file it names."""
    record, manifest = _owned(export_id, caller, services, audit)
    path = _directory(services, export_id) / BUNDLE
    if _digest(path) != record.bundle_sha256:
        _tampered(record, audit, BUNDLE)
    audit.log("export", entities=manifest.subjects, purpose=_purpose(record), export_id=export_id)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"iffgraph-export-{export_id}.zip",
        headers=_SAFE_HEADERS,
    )


@router.get(
    "/exports/{export_id}/files/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
def get_file(
    export_id: ExportId,
    name: FileName,
    caller: ExporterDep,
    services: ServicesDep,
    audit: AuditDep,
) -> FileResponse:
    """One file of your export, by the name the manifest gives it."""
    record, manifest = _owned(export_id, caller, services, audit)
    entry = next((f for f in manifest.files if f.name == name), None)
    if entry is None:  # only names the manifest lists: never a path the caller makes up
        audit.log("export", purpose=_purpose(record), outcome="not_found", export_id=export_id)
        raise ServiceError(404, f"export {export_id} has no file {name!r}")
    path = _directory(services, export_id) / FILES_DIR / entry.name
    if _digest(path) != entry.sha256:
        _tampered(record, audit, entry.name)
    audit.log(
        "export",
        entities=manifest.subjects,
        purpose=_purpose(record),
        export_id=export_id,
        file=name,
    )
    return FileResponse(
        path, media_type=MEDIA_TYPES[entry.format], filename=entry.name, headers=_SAFE_HEADERS
    )
