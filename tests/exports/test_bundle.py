"""Bundles: the manifest's SHA-256 matches every file, and a changed byte is detected."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from app.exports.bundle import (
    BUNDLE,
    FILES_DIR,
    MANIFEST,
    read_manifest,
    verify_directory,
    verify_zip,
    write_bundle,
)
from app.exports.model import ExportFormat, ExportMaterial

ALL = list(ExportFormat)


def test_the_manifest_names_every_file_with_its_hash_and_who_asked_why(
    material: ExportMaterial, tmp_path: Path
) -> None:
    manifest = write_bundle(material, ALL, tmp_path / "x", export_id="abc123")
    assert read_manifest(tmp_path / "x") == manifest
    assert (manifest.requested_by, manifest.purpose) == ("fiu-liaison", "joint operation Harbour")
    assert (manifest.case_id, manifest.legal_basis) == ("case-2026-000001", "AMLD art. 53")
    assert manifest.compartments == ["customs", "external", "fiu", "registry"]
    assert [d.key for d in manifest.disseminated] == [material.disseminated[0].key]
    assert {f.format for f in manifest.files} == set(ALL)
    files = tmp_path / "x" / FILES_DIR
    assert sorted(p.name for p in files.iterdir()) == sorted(f.name for f in manifest.files)
    for entry in manifest.files:
        data = (files / entry.name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry.bytes, entry.sha256)
    with zipfile.ZipFile(tmp_path / "x" / BUNDLE) as bundle:
        assert sorted(bundle.namelist()) == sorted([MANIFEST, *(f.name for f in manifest.files)])
        assert json.loads(bundle.read(MANIFEST))["export_id"] == "abc123"
        for entry in manifest.files:
            assert hashlib.sha256(bundle.read(entry.name)).hexdigest() == entry.sha256
    assert verify_directory(tmp_path / "x") == []
    assert verify_zip(tmp_path / "x" / BUNDLE) == []


def test_a_changed_byte_is_detected_on_disk_and_in_the_zip(
    material: ExportMaterial, tmp_path: Path
) -> None:
    manifest = write_bundle(material, [ExportFormat.CSV], tmp_path / "x", export_id="abc")
    target = tmp_path / "x" / FILES_DIR / "nodes.csv"
    data = bytearray(target.read_bytes())
    data[10] ^= 0x01
    target.write_bytes(bytes(data))
    assert verify_directory(tmp_path / "x") == ["nodes.csv: SHA-256 differs from the manifest"]
    # A recipient's zip with one member changed (and one smuggled in) fails too.
    forged = tmp_path / "forged.zip"
    with (
        zipfile.ZipFile(tmp_path / "x" / BUNDLE) as bundle,
        zipfile.ZipFile(forged, "w") as out,
    ):
        for name in bundle.namelist():
            out.writestr(name, bytes(data) if name == "nodes.csv" else bundle.read(name))
        out.writestr("extra.txt", b"hello")
    assert verify_zip(forged) == [
        "nodes.csv: SHA-256 differs from the manifest",
        "extra.txt: not in the manifest",
    ]
    target.unlink()
    assert verify_directory(tmp_path / "x") == ["nodes.csv: missing"]
    assert len(manifest.files) == 5


def test_the_same_material_zips_to_the_same_bytes(material: ExportMaterial, tmp_path: Path) -> None:
    formats = [ExportFormat.FTM, ExportFormat.GRAPHML, ExportFormat.HTML]
    write_bundle(material, formats, tmp_path / "a", export_id="same")
    write_bundle(material, formats, tmp_path / "b", export_id="same")
    assert (tmp_path / "a" / BUNDLE).read_bytes() == (tmp_path / "b" / BUNDLE).read_bytes()


def test_a_bundle_never_overwrites_another(material: ExportMaterial, tmp_path: Path) -> None:
    write_bundle(material, [ExportFormat.CSV], tmp_path / "x", export_id="one")
    with pytest.raises(FileExistsError):
        write_bundle(material, [ExportFormat.CSV], tmp_path / "x", export_id="two")
