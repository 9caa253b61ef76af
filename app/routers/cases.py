"""Joint-operation cases: create, share, add to, snapshot, disseminate.

Membership is the gate: every route under ``/cases/{case_id}`` answers 404 to a non-member
exactly as for a case that does not exist (admins are not members by right), so a case's
existence is not leaked. Inside a case, compartments still hold: the detail a member gets is
filtered to their scope (:func:`app.cases.case_view`), and FIU or tax material reaches another
agency's member only once its owner disseminates it, with a legal basis. Adding an entity or
alert the adder cannot read answers 404 as for a missing key, so adding is no oracle. Each
route audits once, with the case id.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.cases import (
    Attachment,
    CaseAlert,
    CaseEntity,
    CaseError,
    CaseMember,
    CaseNote,
    CaseRecord,
    CaseStatus,
    CaseSummary,
    CaseView,
    Dissemination,
    SnapshotInfo,
    case_view,
    readable,
    snapshot_readable,
)
from app.deps import AuditDep, Auditor, CallerDep, ServicesDep, StoreDep, require
from app.pagination import Page, PageDep
from app.problems import PROBLEM_RESPONSES, ServiceError
from app.services import Services
from app.users import Principal, Role
from graph_models.errors import NotFoundError
from graph_models.records import Node
from graph_models.schema import Label
from graph_models.store.base import GraphStore
from queries.access import Scope
from queries.models import Neighbourhood, NodeView, RelView
from queries.neighbourhood import neighbourhood

router = APIRouter(prefix="/api/v1", tags=["cases"], responses=PROBLEM_RESPONSES)

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024
_MEDIA_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+", re.ASCII)

CaseId = Annotated[str, Path(pattern=r"^case-\d{4}-\d{6}$", examples=["case-2026-000042"])]
ItemId = Annotated[int, Path(ge=1, le=2**53)]  # SQLite row ids; beyond 2**63 would not bind
Key = Annotated[str, Field(min_length=3, max_length=300, examples=["company:customs:tax:GB1"])]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Title = Annotated[str, Field(min_length=3, max_length=200, examples=["Operation Lantern"])]
LegalBasis = Annotated[
    str, Field(min_length=3, max_length=500, examples=["Customs Act s.12; MoU customs-FIU 2024"])
]


# --- inputs ----------------------------------------------------------------------------------
class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(_Input):
    title: Title
    legal_basis: LegalBasis


class CaseUpdate(_Input):
    title: Title | None = None
    status: CaseStatus | None = None

    @model_validator(mode="after")
    def _something(self) -> CaseUpdate:
        if self.title is None and self.status is None:
            raise ValueError("give a title, a status or both")
        return self


class MemberAdd(_Input):
    username: str = Field(min_length=3, max_length=64)


class EntityAdd(_Input):
    key: Key
    note: Text | None = None


class AlertAdd(_Input):
    alert_id: Key


class NoteAdd(_Input):
    text: Text


class SnapshotCreate(_Input):
    title: Title
    centres: list[Key] = Field(min_length=1, max_length=10)
    hops: int = Field(default=2, ge=1, le=3)


class DisseminationCreate(_Input):
    key: Key
    legal_basis: LegalBasis


# --- outputs ---------------------------------------------------------------------------------
class SnapshotContent(BaseModel):
    """What the saver saw, as it was saved: later changes to the graph do not alter it."""

    model_config = ConfigDict(extra="forbid")

    centres: list[str]
    hops: int
    neighbourhoods: list[Neighbourhood]


class Snapshot(SnapshotInfo, SnapshotContent):
    """A saved snapshot: its description and content."""


class DisseminatedNode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: NodeView = Field(description="read with your scope widened by the dissemination")
    compartments: list[str]
    legal_basis: str
    by: str
    at: str


class DisseminatedPage(Page[DisseminatedNode]):
    relationships: list[RelView] = Field(
        default_factory=list,
        description="relationships between disseminated nodes touching this page's nodes, "
        "in the compartments both ends were disseminated in",
    )


# --- helpers ---------------------------------------------------------------------------------
def _member_case(
    services: Services, caller: Principal, case_id: str, audit: Auditor, *, change: bool = False
) -> CaseRecord:
    """The case, when the caller is a member; otherwise 404 as for a missing case. With
    ``change``, a closed case is refused (409) before any work is done (the service layer
    checks again inside its write transaction)."""
    try:
        case = services.cases.get(case_id)
    except NotFoundError:
        case = None
    if case is None or not any(m.username == caller.username for m in case.members):
        audit.log("denied", case_id=case_id, outcome="not_found")
        raise NotFoundError(f"no case {case_id!r}")
    if change and case.status == CaseStatus.CLOSED:
        audit.log("denied", case_id=case_id, outcome="closed")
        raise ServiceError(409, f"case {case_id} is closed: it is read-only")
    return case


def _conflict(e: CaseError) -> ServiceError:
    return ServiceError(409, str(e))


def _readable_node(store: GraphStore, key: str, scope: Scope) -> Node:
    """The node when the scope may read it; otherwise the very 404 of a missing key."""
    node = store.get_node(key)
    if node is None or not readable(store, node, scope):
        raise NotFoundError(f"no node with key {key!r}")
    return node


def _visible_keys(view: CaseView) -> list[str]:
    return (
        [e.key for e in view.entities]
        + [a.alert_id for a in view.alerts]
        + [d.key for d in view.disseminations]
    )


def _filename(name: str | None) -> str:
    """A name safe to store and to send back: no directories, no control or shell characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    clean = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return clean[:150] or "attachment"


# --- routes ----------------------------------------------------------------------------------
CaseWorkerDep = Annotated[Principal, Depends(require(Role.ANALYST, Role.LIAISON, Role.SUPERVISOR))]


@router.post("/cases", response_model=CaseView, status_code=201)
def create_case(
    body: CaseCreate, caller: CaseWorkerDep, services: ServicesDep, store: StoreDep, audit: AuditDep
) -> CaseView:
    """Open a case (analysts, liaison officers, supervisors); its creator is its first member."""
    case = services.cases.create(title=body.title, legal_basis=body.legal_basis, by=caller.username)
    audit.log("change", case_id=case.id, operation="create")
    return case_view(store, case, caller.scope)


@router.get("/cases", response_model=Page[CaseSummary])
def list_cases(
    caller: CallerDep, services: ServicesDep, page: PageDep, audit: AuditDep
) -> Page[CaseSummary]:
    """The cases you are a member of, newest first."""
    items, total = services.cases.of_member(caller.username, offset=page.offset, limit=page.limit)
    audit.log("read", operation="list cases", cases=[c.id for c in items])
    return Page[CaseSummary].of(items, total, page)


@router.get("/cases/{case_id}", response_model=CaseView)
def get_case(
    case_id: CaseId, caller: CallerDep, services: ServicesDep, store: StoreDep, audit: AuditDep
) -> CaseView:
    """The case as your scope may see it: hidden entities, alerts and snapshots are counted in
    ``withheld`` until their owner disseminates them."""
    view = case_view(store, _member_case(services, caller, case_id, audit), caller.scope)
    audit.log("read", case_id=case_id, entities=_visible_keys(view))
    return view


@router.patch("/cases/{case_id}", response_model=CaseView)
def update_case(
    case_id: CaseId,
    body: CaseUpdate,
    caller: CallerDep,
    services: ServicesDep,
    store: StoreDep,
    audit: AuditDep,
) -> CaseView:
    """Change the title or status (closing a case makes it read-only for good)."""
    _member_case(services, caller, case_id, audit, change=True)
    try:
        case = services.cases.update(
            case_id, by=caller.username, title=body.title, status=body.status
        )
    except CaseError as e:
        raise _conflict(e) from e
    audit.log("change", case_id=case_id, operation="update", **body.model_dump(exclude_none=True))
    return case_view(store, case, caller.scope)


@router.post("/cases/{case_id}/members", response_model=CaseMember, status_code=201)
def add_member(
    case_id: CaseId, body: MemberAdd, caller: CallerDep, services: ServicesDep, audit: AuditDep
) -> CaseMember:
    """Add a user (by the case's creator or a supervisor member). Their agency joins the case."""
    case = _member_case(services, caller, case_id, audit, change=True)
    if caller.username != case.created_by and not caller.has(Role.SUPERVISOR):
        audit.log("denied", case_id=case_id, outcome="forbidden", operation="add member")
        raise ServiceError(403, "only the case's creator or a supervisor adds members")
    user = services.users.get(body.username)  # 404 for an unknown user
    if user.disabled:
        raise ServiceError(422, f"user {body.username!r} is disabled")
    try:
        member = services.cases.add_member(case_id, body.username, by=caller.username)
    except CaseError as e:
        raise _conflict(e) from e
    audit.log("change", case_id=case_id, operation="add member", member=body.username)
    return member


@router.post("/cases/{case_id}/entities", response_model=CaseEntity, status_code=201)
def add_entity(
    case_id: CaseId,
    body: EntityAdd,
    caller: CallerDep,
    services: ServicesDep,
    store: StoreDep,
    audit: AuditDep,
) -> CaseEntity:
    """Add an entity you can read (a key you cannot read answers as a missing one)."""
    _member_case(services, caller, case_id, audit, change=True)
    try:
        _readable_node(store, body.key, caller.scope)
    except NotFoundError:
        audit.log("change", case_id=case_id, entities=[body.key], outcome="not_found")
        raise
    try:
        added = services.cases.add_entity(case_id, body.key, note=body.note, by=caller.username)
    except CaseError as e:
        raise _conflict(e) from e
    audit.log("change", case_id=case_id, entities=[body.key], operation="add entity")
    return added


@router.post("/cases/{case_id}/alerts", response_model=CaseAlert, status_code=201)
def add_alert(
    case_id: CaseId,
    body: AlertAdd,
    caller: CallerDep,
    services: ServicesDep,
    store: StoreDep,
    audit: AuditDep,
) -> CaseAlert:
    """Add an alert you can see (rule 3: your scope covers every compartment it rests on)."""
    _member_case(services, caller, case_id, audit, change=True)
    node = store.get_node(body.alert_id)
    if node is None or node.label != Label.ALERT or not caller.scope.sees_all(node.provenance):
        audit.log("change", case_id=case_id, entities=[body.alert_id], outcome="not_found")
        raise NotFoundError(f"no alert {body.alert_id!r}")
    try:
        added = services.cases.add_alert(case_id, body.alert_id, by=caller.username)
    except CaseError as e:
        raise _conflict(e) from e
    audit.log("change", case_id=case_id, entities=[body.alert_id], operation="add alert")
    return added


@router.post("/cases/{case_id}/notes", response_model=CaseNote, status_code=201)
def add_note(
    case_id: CaseId, body: NoteAdd, caller: CallerDep, services: ServicesDep, audit: AuditDep
) -> CaseNote:
    """Add a note; notes are the members' shared material, visible to every member."""
    _member_case(services, caller, case_id, audit, change=True)
    try:
        note = services.cases.add_note(case_id, body.text, by=caller.username)
    except CaseError as e:
        raise _conflict(e) from e
    audit.log("change", case_id=case_id, operation="add note", note=note.id)
    return note


@router.post(
    "/cases/{case_id}/attachments",
    response_model=Attachment,
    status_code=201,
    responses={413: {"description": f"larger than {MAX_ATTACHMENT_BYTES} bytes"}},
)
def upload_attachment(
    case_id: CaseId, file: UploadFile, caller: CallerDep, services: ServicesDep, audit: AuditDep
) -> Attachment:
    """Attach a file (multipart field ``file``, at most 20 MiB); its SHA-256 is recorded."""
    _member_case(services, caller, case_id, audit, change=True)
    folder = services.settings.attachments_dir / case_id
    folder.mkdir(parents=True, exist_ok=True)
    # Written under a random name first and renamed to its digest: a file is stored once per
    # case however often it is attached, and never half-written under its final name.
    part = folder / f".upload-{secrets.token_hex(8)}"
    digest, size = hashlib.sha256(), 0
    try:
        with part.open("wb") as out:
            while chunk := file.file.read(_CHUNK):
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise ServiceError(
                        413, f"attachments are limited to {MAX_ATTACHMENT_BYTES} bytes"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ServiceError(422, "the file is empty")
        sha256 = digest.hexdigest()
        os.replace(part, folder / sha256)
    finally:
        part.unlink(missing_ok=True)
    media_type = file.content_type or ""
    if not _MEDIA_TYPE.fullmatch(media_type):
        media_type = "application/octet-stream"
    try:
        attachment = services.cases.add_attachment(
            case_id,
            filename=_filename(file.filename),
            media_type=media_type,
            size=size,
            sha256=sha256,
            by=caller.username,
        )
    except CaseError as e:
        raise _conflict(e) from e
    audit.log("change", case_id=case_id, operation="attach", sha256=sha256, size=size)
    return attachment


@router.get(
    "/cases/{case_id}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_attachment(
    case_id: CaseId,
    attachment_id: ItemId,
    caller: CallerDep,
    services: ServicesDep,
    audit: AuditDep,
) -> FileResponse:
    """Download an attachment, as an attachment (never rendered inline)."""
    _member_case(services, caller, case_id, audit)
    attachment = services.cases.attachment(case_id, attachment_id)
    path = services.settings.attachments_dir / case_id / attachment.sha256
    if not path.is_file():
        raise NotFoundError(f"the file of attachment {attachment_id} is missing")
    audit.log(
        "export",
        case_id=case_id,
        operation="download",
        attachment=attachment_id,
        sha256=attachment.sha256,
    )
    return FileResponse(
        path,
        media_type=attachment.media_type,
        filename=attachment.filename,
        headers={"X-Content-Type-Options": "nosniff"},
    )


@router.post("/cases/{case_id}/snapshots", response_model=SnapshotInfo, status_code=201)
def save_snapshot(
    case_id: CaseId,
    body: SnapshotCreate,
    caller: CallerDep,
    services: ServicesDep,
    store: StoreDep,
    audit: AuditDep,
) -> SnapshotInfo:
    """Save the neighbourhoods you see around ``centres`` now: what the team saw, kept as it
    was. Only members whose scope covers yours may read it."""
    _member_case(services, caller, case_id, audit, change=True)
    scope = caller.scope
    views = [neighbourhood(store, key, scope=scope, hops=body.hops) for key in body.centres]
    content = SnapshotContent(centres=body.centres, hops=body.hops, neighbourhoods=views)
    try:
        info = services.cases.add_snapshot(
            case_id,
            title=body.title,
            compartments=sorted(scope.compartments),
            body=content.model_dump_json(),
            by=caller.username,
        )
    except CaseError as e:
        raise _conflict(e) from e
    keys = sorted({n.key for v in views for n in v.nodes})
    audit.log("change", case_id=case_id, entities=keys, operation="snapshot", snapshot=info.id)
    return info


@router.get("/cases/{case_id}/snapshots/{snapshot_id}", response_model=Snapshot)
def read_snapshot(
    case_id: CaseId,
    snapshot_id: ItemId,
    caller: CallerDep,
    services: ServicesDep,
    audit: AuditDep,
) -> Snapshot:
    """A saved snapshot, as it was saved (404 when your scope does not cover its saver's)."""
    _member_case(services, caller, case_id, audit)
    info, content = services.cases.snapshot(case_id, snapshot_id)
    if not snapshot_readable(info, caller.scope):
        audit.log("read", case_id=case_id, outcome="not_found", snapshot=snapshot_id)
        raise NotFoundError(f"no snapshot {snapshot_id} in case {case_id!r}")
    snap = Snapshot(
        **info.model_dump(), **SnapshotContent.model_validate_json(content).model_dump()
    )
    keys = sorted({n.key for v in snap.neighbourhoods for n in v.nodes})
    audit.log("read", case_id=case_id, entities=keys, snapshot=snapshot_id)
    return snap


@router.post("/cases/{case_id}/disseminations", response_model=Dissemination, status_code=201)
def disseminate(
    case_id: CaseId,
    body: DisseminationCreate,
    caller: CallerDep,
    services: ServicesDep,
    store: StoreDep,
    audit: AuditDep,
) -> Dissemination:
    """Release a node into the case, with the legal basis: every member may then read it.
    Only its owner may: a caller whose scope covers all of the node's compartments."""
    _member_case(services, caller, case_id, audit, change=True)
    scope = caller.scope
    try:
        node = _readable_node(store, body.key, scope)
    except NotFoundError:
        audit.log("change", case_id=case_id, entities=[body.key], outcome="not_found")
        raise
    if not scope.sees_all(node.provenance):
        audit.log("denied", case_id=case_id, entities=[body.key], outcome="forbidden")
        raise ServiceError(
            403,
            "only the agency holding all of this element's compartments may disseminate it",
        )
    try:
        done = services.cases.disseminate(
            case_id,
            body.key,
            compartments=list(node.provenance.compartments),
            legal_basis=body.legal_basis,
            by=caller.username,
        )
    except CaseError as e:
        raise _conflict(e) from e
    audit.log(
        "change",
        case_id=case_id,
        entities=[body.key],
        operation="disseminate",
        legal_basis=body.legal_basis,
        compartments=done.compartments,
    )
    return done


@router.get("/cases/{case_id}/disseminated", response_model=DisseminatedPage)
def read_disseminated(
    case_id: CaseId,
    caller: CallerDep,
    services: ServicesDep,
    store: StoreDep,
    audit: AuditDep,
    page: PageDep,
) -> DisseminatedPage:
    """What was disseminated into the case: each node read with your scope widened by exactly
    what its owner released (for that node only), with the legal basis, who and when."""
    case = _member_case(services, caller, case_id, audit)
    scope = caller.scope
    released: dict[str, set[str]] = {}
    for d in case.disseminations:
        released.setdefault(d.key, set()).update(d.compartments)
    nodes = store.get_nodes(released)
    items = []
    for d in case.disseminations:
        node = nodes.get(d.key)
        widened = Scope.of(*scope.compartments, *d.compartments)
        if node is None or not widened.reads(node):
            continue  # gone from the graph since; nothing left to read
        items.append(
            DisseminatedNode(
                node=widened.node_view(node),
                compartments=d.compartments,
                legal_basis=d.legal_basis,
                by=d.by,
                at=d.at,
            )
        )
    cut = Page[DisseminatedNode].slice(items, page)
    on_page = {i.node.key for i in cut.items}
    relationships = []
    for rel in store.expand(on_page) if on_page else []:
        if rel.start not in released or rel.end not in released:
            continue
        # A relationship between two released nodes is released only in the compartments
        # both its ends were released in: one owner's dissemination never opens another's.
        both = released[rel.start] & released[rel.end]
        widened = Scope.of(*scope.compartments, *both)
        if widened.reads_rel(rel):
            relationships.append(widened.rel_view(rel))
    audit.log("read", case_id=case_id, entities=sorted(on_page), operation="disseminated")
    return DisseminatedPage(**dict(cut), relationships=relationships)
