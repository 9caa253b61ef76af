"""Export bundles: the chosen formats in one directory, a SHA-256 manifest, and a zip of both.

Chain of custody: ``manifest.json`` names every file with its size and SHA-256, and who asked
for it, why, under which case and legal basis, when, and the compartments the content was
filtered to. The zip holds the manifest and the files, with fixed timestamps (the export's
own), so the same files always zip to the same bytes. :func:`verify_directory` (the service's
copy) and :func:`verify_zip` (a recipient's copy) recompute every hash and say what differs.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from app.exports.anb import write_anb
from app.exports.brief import write_brief
from app.exports.ftm import write_ftm
from app.exports.goaml import write_goaml
from app.exports.graphs import write_gexf, write_graphml
from app.exports.model import Disseminated, ExportFormat, ExportMaterial, Files
from app.exports.tables import write_csv, write_xlsx
from queries.models import Withheld

MANIFEST = "manifest.json"
BUNDLE = "bundle.zip"
FILES_DIR = "files"

WRITERS: dict[ExportFormat, Callable[[ExportMaterial], Files]] = {
    ExportFormat.GOAML: write_goaml,
    ExportFormat.FTM: write_ftm,
    ExportFormat.GRAPHML: write_graphml,
    ExportFormat.GEXF: write_gexf,
    ExportFormat.ANB: write_anb,
    ExportFormat.CSV: write_csv,
    ExportFormat.XLSX: write_xlsx,
    ExportFormat.HTML: write_brief,
}
MEDIA_TYPES: dict[ExportFormat, str] = {
    ExportFormat.GOAML: "application/xml",
    ExportFormat.FTM: "application/json",  # JSON lines
    ExportFormat.GRAPHML: "application/xml",
    ExportFormat.GEXF: "application/xml",
    ExportFormat.ANB: "text/csv",
    ExportFormat.CSV: "text/csv",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.HTML: "text/html",
}


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    format: ExportFormat
    bytes: int = Field(ge=0)
    sha256: str


class Manifest(BaseModel):
    """What a bundle holds and the record of how it came to be."""

    model_config = ConfigDict(extra="forbid")

    export_id: str
    title: str
    requested_by: str
    agency: str
    purpose: str
    case_id: str | None = None
    legal_basis: str | None = None
    generated_at: str
    compartments: list[str] = Field(description="the scope the content was filtered to")
    disseminated: list[Disseminated] = Field(
        default_factory=list, description="nodes read beyond that scope, by case dissemination"
    )
    subjects: list[str]
    counts: dict[str, int]
    withheld: list[Withheld] = Field(default_factory=list)
    hash_algorithm: str = "sha256"
    files: list[ManifestFile]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


Rendered = list[tuple[ManifestFile, bytes]]


def render(material: ExportMaterial, formats: list[ExportFormat]) -> Rendered:
    """Every chosen format's files, in a stable order, with their manifest entries."""
    out: Rendered = []
    seen: set[str] = set()
    for fmt in sorted(set(formats), key=list(ExportFormat).index):
        for name, data in sorted(WRITERS[fmt](material).items()):
            if name in seen or name in (MANIFEST, BUNDLE):
                raise ValueError(f"two writers produced the file {name!r}")
            seen.add(name)
            entry = ManifestFile(name=name, format=fmt, bytes=len(data), sha256=sha256(data))
            out.append((entry, data))
    return out


def write_bundle(
    material: ExportMaterial, formats: list[ExportFormat], directory: Path, *, export_id: str
) -> Manifest:
    """Write ``files/…``, ``manifest.json`` and ``bundle.zip`` under ``directory`` (new)."""
    material = material.model_copy(update={"export_id": export_id})
    rendered = render(material, formats)
    manifest = Manifest(
        export_id=export_id,
        title=material.title,
        requested_by=material.requested_by,
        agency=material.agency,
        purpose=material.purpose,
        case_id=material.case_id,
        legal_basis=material.legal_basis,
        generated_at=material.generated_at,
        compartments=material.compartments,
        disseminated=material.disseminated,
        subjects=material.subjects,
        counts={
            "nodes": len(material.nodes),
            "relationships": len(material.relationships),
            "alerts": len(material.alerts),
            "events": len(material.events),
        },
        withheld=material.withheld,
        files=[entry for entry, _ in rendered],
    )
    files = directory / FILES_DIR
    files.mkdir(parents=True, exist_ok=False)
    for entry, data in rendered:
        (files / entry.name).write_bytes(data)
    manifest_bytes = manifest_json(manifest)
    (directory / MANIFEST).write_bytes(manifest_bytes)
    stamp = _zip_time(material.generated_at)
    with zipfile.ZipFile(directory / BUNDLE, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in [(MANIFEST, manifest_bytes), *((e.name, d) for e, d in rendered)]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, data)
    return manifest


def manifest_json(manifest: Manifest) -> bytes:
    return (manifest.model_dump_json(indent=2) + "\n").encode("utf-8")


def _zip_time(generated_at: str) -> tuple[int, int, int, int, int, int]:
    when = datetime.fromisoformat(generated_at)
    # Zip cannot date a file before 1980.
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


def read_manifest(directory: Path) -> Manifest:
    return Manifest.model_validate_json((directory / MANIFEST).read_bytes())


def _check(manifest: Manifest, read: Callable[[str], bytes | None]) -> list[str]:
    problems = []
    for entry in manifest.files:
        data = read(entry.name)
        if data is None:
            problems.append(f"{entry.name}: missing")
        elif len(data) != entry.bytes or sha256(data) != entry.sha256:
            problems.append(f"{entry.name}: SHA-256 differs from the manifest")
    return problems


def verify_directory(directory: Path) -> list[str]:
    """What no longer matches the manifest in the service's copy (empty when all holds)."""
    manifest = read_manifest(directory)
    files = directory / FILES_DIR

    def read(name: str) -> bytes | None:
        path = files / name
        return path.read_bytes() if path.is_file() else None

    return _check(manifest, read)


def verify_zip(path: Path) -> list[str]:
    """What no longer matches the manifest inside a bundle (empty when all holds)."""
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        manifest = Manifest.model_validate_json(bundle.read(MANIFEST))
        problems = _check(manifest, lambda n: bundle.read(n) if n in names else None)
        listed = {e.name for e in manifest.files} | {MANIFEST}
        problems += [f"{n}: not in the manifest" for n in sorted(names - listed)]
    return problems
