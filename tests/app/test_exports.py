"""Exports over HTTP: compartments hold in every file, only the requester downloads, every
call is audited, and the manifest's hashes are the files' (a changed bundle is refused).

Case exports and dissemination are in ``test_exports_cases.py``.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from lxml import etree

from app.exports.bundle import verify_zip
from app.settings import Settings
from tests.queries.test_profile import DIRECTOR, ENTITY, FIU_SECRETS, REPORT

Auth = Callable[[str], dict[str, str]]
EXPORTS = "/api/v1/exports"


def export(api: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    resp = api.post(
        EXPORTS, json={"purpose": "request 2026/17 from FIU NL", **body}, headers=headers
    )
    assert resp.status_code == 201, resp.text
    receipt: dict[str, Any] = resp.json()
    return receipt


def bundle(api: TestClient, headers: dict[str, str], export_id: str) -> zipfile.ZipFile:
    resp = api.get(f"{EXPORTS}/{export_id}/bundle", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(resp.content))


def texts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Every file of a bundle as text; an XLSX (itself a zip) as the text of its parts."""
    out = {}
    for name in archive.namelist():
        data = archive.read(name)
        if name.endswith(".xlsx"):
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                data = b"\n".join(book.read(part) for part in book.namelist())
        out[name] = data.decode("utf-8")
    return out


def test_a_customs_export_holds_no_fiu_string_in_any_file(api: TestClient, auth: Auth) -> None:
    customs = auth("customs-analyst")
    receipt = export(api, customs, keys=[ENTITY], hops=2)
    files = texts(bundle(api, customs, receipt["id"]))
    assert {"brief.html", "entities.ftm.json", "graph.graphml", "graph.gexf"} <= set(files)
    assert {"anb-entities.csv", "nodes.csv", "tables.xlsx", "manifest.json"} <= set(files)
    for name, text in files.items():
        leaked = [s for s in FIU_SECRETS if s in text]
        assert leaked == [], (name, leaked)
    # The check can fail: the customs facts are there, and the FIU's part is a marker.
    assert all("ACME TRADING LTD" in files[n] for n in ("brief.html", "nodes.csv"))
    assert "held by the FIU" in files["brief.html"]
    assert receipt["manifest"]["compartments"] == ["customs", "external", "registry"]


def test_the_fiu_liaisons_export_holds_the_fiu_report_and_a_goaml_file(
    api: TestClient, auth: Auth
) -> None:
    liaison = auth("fiu-liaison")
    receipt = export(api, liaison, keys=[ENTITY], hops=2, formats=["goaml", "csv", "html"])
    archive = bundle(api, liaison, receipt["id"])
    files = texts(archive)
    everything = "".join(files.values())
    assert [s for s in FIU_SECRETS if s not in everything] == []
    assert REPORT in files["nodes.csv"]
    root = etree.fromstring(archive.read("report.goaml.xml"))
    parties = root.findall("activity/report_parties/report_party")
    assert "Shadow Holdings" in {p.findtext("entity/name") for p in parties}
    (account,) = [a for p in parties if (a := p.find("account")) is not None]
    assert account.findtext("iban") == "GB00SHADOW0001"
    assert account.findtext("t_entity/name") == "Shadow Holdings"
    assert {f["format"] for f in receipt["manifest"]["files"]} == {"goaml", "csv", "html"}


def test_goaml_is_the_liaisons_product_and_admins_do_not_export(
    api: TestClient, auth: Auth
) -> None:
    body = {"keys": [ENTITY], "purpose": "request 2026/17", "formats": ["goaml"]}
    refused = api.post(EXPORTS, json=body, headers=auth("fiu-analyst"))
    assert refused.status_code == 403
    assert "liaison" in refused.json()["detail"]
    assert (
        api.post(EXPORTS, json={**body, "formats": ["csv"]}, headers=auth("admin")).status_code
        == 403
    )
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(username="fiu-analyst")
    assert [(r.action, r.outcome) for r in records if r.action != "login"] == [
        ("denied", "forbidden")
    ]


def test_every_export_call_is_audited_with_the_keys_and_the_export(
    api: TestClient, auth: Auth
) -> None:
    customs = auth("customs-analyst")
    receipt = export(api, customs, keys=[ENTITY], formats=["csv"])
    export_id = receipt["id"]
    assert api.get(f"{EXPORTS}/{export_id}", headers=customs).status_code == 200
    bundle(api, customs, export_id)
    assert api.get(f"{EXPORTS}/{export_id}/files/nodes.csv", headers=customs).status_code == 200
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(username="customs-analyst")
    exports = [r for r in records if r.action == "export"]
    assert len(exports) == 4
    assert all(r.detail["export_id"] == export_id and ENTITY in r.entities for r in exports)
    assert all(r.purpose == "request 2026/17 from FIU NL" for r in exports)
    created = exports[0]
    assert created.endpoint == "POST /api/v1/exports"
    # The creation names every node it exported, not only the subject.
    assert len(created.entities) == receipt["manifest"]["counts"]["nodes"]
    assert audit.verify().ok


def test_only_the_requester_reads_an_export(api: TestClient, auth: Auth) -> None:
    receipt = export(api, auth("fiu-liaison"), keys=[ENTITY], formats=["csv"])
    url = f"{EXPORTS}/{receipt['id']}"
    for other in ("fiu-analyst", "customs-supervisor"):
        for path in ("", "/bundle", "/files/nodes.csv"):
            resp = api.get(url + path, headers=auth(other))
            assert resp.status_code == 404, (other, path)
    assert api.get(url + "/bundle").status_code == 401
    assert api.get(url + "/bundle", headers=auth("fiu-liaison")).status_code == 200
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(username="fiu-analyst")
    assert {(r.action, r.outcome) for r in records if r.action != "login"} == {
        ("export", "not_found")
    }


def test_the_manifest_hashes_are_the_served_files_and_the_zip_verifies(
    api: TestClient, auth: Auth
) -> None:
    customs = auth("customs-analyst")
    receipt = export(api, customs, keys=[ENTITY], formats=["ftm", "graphml", "xlsx"])
    manifest = receipt["manifest"]
    assert (manifest["requested_by"], manifest["agency"]) == ("customs-analyst", "customs")
    assert manifest["purpose"] == "request 2026/17 from FIU NL"
    for entry in manifest["files"]:
        resp = api.get(f"{EXPORTS}/{receipt['id']}/files/{entry['name']}", headers=customs)
        assert resp.status_code == 200
        assert hashlib.sha256(resp.content).hexdigest() == entry["sha256"]
        assert resp.headers["x-content-type-options"] == "nosniff"
    raw = api.get(f"{EXPORTS}/{receipt['id']}/bundle", headers=customs).content
    assert hashlib.sha256(raw).hexdigest() == receipt["bundle"]["sha256"]
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["manifest.json", *(f["name"] for f in manifest["files"])]
        )
    missing = api.get(f"{EXPORTS}/{receipt['id']}/files/..%2Fmanifest.json", headers=customs)
    assert missing.status_code in (404, 422)


def test_a_bundle_changed_on_disk_is_refused(
    api: TestClient, auth: Auth, settings: Settings, tmp_path: Path
) -> None:
    customs = auth("customs-analyst")
    receipt = export(api, customs, keys=[ENTITY], formats=["csv"])
    directory = settings.exports_dir / receipt["id"]
    received = tmp_path / "received.zip"
    received.write_bytes((directory / "bundle.zip").read_bytes())
    assert verify_zip(received) == []
    nodes = directory / "files" / "nodes.csv"
    nodes.write_bytes(nodes.read_bytes().replace(b"ACME", b"ACNE"))
    changed = api.get(f"{EXPORTS}/{receipt['id']}/files/nodes.csv", headers=customs)
    assert changed.status_code == 409
    (directory / "bundle.zip").write_bytes(b"PK" + b"\0" * 20)
    assert api.get(f"{EXPORTS}/{receipt['id']}/bundle", headers=customs).status_code == 409
    (directory / "manifest.json").unlink()
    assert api.get(f"{EXPORTS}/{receipt['id']}", headers=customs).status_code == 409
    audit = api.app.state.services.audit  # type: ignore[attr-defined]
    records, _ = audit.query(username="customs-analyst")
    assert [r.outcome for r in records if r.action == "export"][-3:] == ["tampered"] * 3


def test_bad_requests_are_refused_and_leave_nothing_behind(
    api: TestClient, auth: Auth, settings: Settings
) -> None:
    customs = auth("customs-analyst")
    for body in (
        {"purpose": "no subject at all"},
        {"keys": [ENTITY], "purpose": "too far", "hops": 3},
        {"keys": [ENTITY], "purpose": "what format", "formats": ["pdf"]},
        {"keys": [ENTITY], "purpose": "extra field", "everything": True},
        {"keys": [ENTITY], "purpose": "ok"},  # purpose too short
    ):
        assert api.post(EXPORTS, json=body, headers=customs).status_code == 422, body
    unknown = api.post(
        EXPORTS,
        json={"keys": ["company:customs:tax:NOPE"], "purpose": "a key that is not"},
        headers=customs,
    )
    assert unknown.status_code == 404
    assert not settings.exports_dir.exists() or list(settings.exports_dir.iterdir()) == []
    # Keys hold spaces (persons keyed by name) and are taken as they are.
    named = export(api, customs, keys=[DIRECTOR], formats=["csv"])
    assert named["manifest"]["subjects"] == [DIRECTOR]
