"""The audit log: every entity read is recorded; the hash chain catches edits and deletions."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.audit import AuditEntry, AuditLog, AuditRecord
from app.cli import cli
from app.servicedb import ServiceDB
from app.settings import get_settings
from tests.app.conftest import PURPOSE
from tests.queries.test_profile import CUSTOMS

Auth = Callable[[str], dict[str, str]]


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(ServiceDB(tmp_path / "audit.sqlite"))
    for i in range(n):
        log.append(
            AuditEntry(
                username=f"user{i % 2}",
                agency="customs",
                action="read",
                endpoint="GET /x",
                purpose="checking",
                entities=[f"company:customs:k{i}"],
            )
        )
    return log


def test_an_intact_chain_verifies(tmp_path: Path) -> None:
    result = _log(tmp_path).verify()
    assert result.ok
    assert result.records == 5


def test_an_edited_record_is_caught(tmp_path: Path) -> None:
    log = _log(tmp_path)
    with sqlite3.connect(log.db.path) as conn:
        conn.execute("UPDATE audit_log SET username = 'someone-else' WHERE seq = 3")
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "altered" in str(result.problem)


def test_a_record_edited_with_its_hash_recomputed_is_caught_by_the_next(tmp_path: Path) -> None:
    log = _log(tmp_path)
    with sqlite3.connect(log.db.path) as conn:
        conn.execute("UPDATE audit_log SET hash = ? WHERE seq = 2", ("f" * 64,))
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == 2


def test_a_deleted_record_is_caught(tmp_path: Path) -> None:
    log = _log(tmp_path)
    with sqlite3.connect(log.db.path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 2")
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == 2
    assert "missing" in str(result.problem)


def test_deleting_the_newest_records_is_caught(tmp_path: Path) -> None:
    log = _log(tmp_path)
    with sqlite3.connect(log.db.path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq >= 4")
    result = log.verify()
    assert not result.ok
    assert "head" in str(result.problem)


def test_the_cli_verifies_and_fails_on_tampering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _log(tmp_path)
    monkeypatch.setenv("IFFGRAPH_SERVICE_DB", str(log.db.path))
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(cli, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "5 records" in ok.output
        with sqlite3.connect(log.db.path) as conn:
            conn.execute("UPDATE audit_log SET purpose = 'nothing to see' WHERE seq = 4")
        bad = CliRunner().invoke(cli, ["audit", "verify"])
        assert bad.exit_code == 1
    finally:
        get_settings.cache_clear()


def test_queries_filter_by_user_entity_and_period(tmp_path: Path) -> None:
    log = _log(tmp_path)
    mine, total = log.query(username="user1")
    assert total == 2
    assert {r.username for r in mine} == {"user1"}
    about, _ = log.query(entity="company:customs:k3")
    assert [r.seq for r in about] == [4]
    assert log.query(since="2999-01-01")[1] == 0
    assert log.query(until="2000-01-01")[1] == 0


def test_every_entity_read_is_audited_with_purpose_and_entities(
    api: TestClient, auth: Auth
) -> None:
    resp = api.get(f"/api/v1/entities/{CUSTOMS}", params=PURPOSE, headers=auth("fiu-analyst"))
    assert resp.status_code == 200
    entity = resp.json()["key"]
    records = api.get(
        "/api/v1/audit", params={"entity": entity}, headers=auth("customs-supervisor")
    ).json()["items"]
    reads = [r for r in records if r["username"] == "fiu-analyst"]
    assert len(reads) == 1
    assert reads[0]["purpose"] == PURPOSE["purpose"]
    assert reads[0]["action"] == "read"
    assert CUSTOMS in reads[0]["entities"]
    assert reads[0]["request_id"] == resp.headers["x-request-id"]


def test_only_supervisors_and_admins_read_the_log(api: TestClient, auth: Auth) -> None:
    assert api.get("/api/v1/audit", headers=auth("fiu-analyst")).status_code == 403
    assert api.get("/api/v1/audit", headers=auth("admin")).status_code == 200
    verified = api.get("/api/v1/audit/verify", headers=auth("customs-supervisor")).json()
    assert verified["ok"] is True
    # The refused attempt is itself on record.
    denied = api.get(
        "/api/v1/audit", params={"username": "fiu-analyst"}, headers=auth("admin")
    ).json()["items"]
    assert any(r["action"] == "denied" for r in denied)


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    log = AuditLog(ServiceDB(tmp_path / "c.sqlite"))
    entry = AuditEntry(username="u", agency="fiu", action="read", endpoint="GET /y")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: log.append(entry), range(200)))
    result = log.verify()
    assert result.ok
    assert result.records == 200


def _append_from_a_process(path: str, user: str, n: int) -> None:
    log = AuditLog(ServiceDB(Path(path)))
    entry = AuditEntry(username=user, agency="fiu", action="read", endpoint="GET /y")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: log.append(entry), range(n)))


def test_appends_from_several_processes_keep_one_chain(tmp_path: Path) -> None:
    # API workers are processes: each queues its group commits on the lock file beside the
    # database, and the chain must still come out whole and in one order.
    path = tmp_path / "p.sqlite"
    AuditLog(ServiceDB(path))  # the tables, before the writers race to create them
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_append_from_a_process, args=(str(path), f"worker{i}", 60))
        for i in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    log = AuditLog(ServiceDB(path))
    result = log.verify()
    assert result.ok
    assert result.records == 180
    assert (tmp_path / "p.sqlite.lock").exists()
    for i in range(3):
        assert log.query(username=f"worker{i}", limit=1)[1] == 60


def test_a_record_is_found_by_entity_as_soon_as_it_is_appended(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.append(
        AuditEntry(
            username="late",
            agency="tax",
            action="read",
            endpoint="GET /z",
            entities=["company:customs:k1", "person:fiu:x"],
        )
    )
    found, total = log.query(entity="company:customs:k1")
    assert total == 2
    assert [r.username for r in found] == ["user1", "late"]
    assert log.query(entity="person:fiu:x")[1] == 1
    # Whole keys only: neither a prefix nor a key nobody read finds anything.
    assert log.query(entity="company:customs:k")[1] == 0
    assert log.query(entity="company:customs:k9")[1] == 0
    assert log.index_entities() == 0  # appends index their own records


def test_a_log_written_without_the_entity_index_is_indexed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    _log(tmp_path, n=7)
    with sqlite3.connect(path) as conn:  # as an earlier version left it: records, no index
        conn.execute("INSERT INTO audit_entity_fts (audit_entity_fts) VALUES ('delete-all')")
        conn.execute("DELETE FROM audit_fts_head")
    stale = AuditLog.__new__(AuditLog)
    stale.db = ServiceDB(path)
    assert stale.query(entity="company:customs:k3")[1] == 0  # the gap is real
    reopened = AuditLog(ServiceDB(path))
    found, total = reopened.query(entity="company:customs:k3")
    assert total == 1
    assert found[0].entities == ["company:customs:k3"]
    assert reopened.verify().ok
    assert reopened.index_entities() == 0


def test_an_append_whose_commit_fails_raises_and_the_next_one_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(ServiceDB(tmp_path / "f.sqlite"))
    entry = AuditEntry(username="u", agency="fiu", action="read", endpoint="GET /z")
    commit = log._commit

    def failing(entries: list[AuditEntry]) -> list[AuditRecord]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(log, "_commit", failing)
    with pytest.raises(sqlite3.OperationalError):
        log.append(entry)
    monkeypatch.setattr(log, "_commit", commit)
    assert log.append(entry).seq == 1
    assert log.verify().ok
