"""``iffgraph users`` and the dev-mode demo users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.audit import AuditLog
from app.cli import cli
from app.devusers import DEV_USERS, DevModeError, seed_dev_users
from app.servicedb import ServiceDB
from app.settings import Settings, get_settings
from app.users import Users


@pytest.fixture
def service_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "service.sqlite"
    monkeypatch.setenv("IFFGRAPH_SERVICE_DB", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_add_list_disable_enable(service_db: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "users",
            "add",
            "k.officer",
            "--agency",
            "fiu",
            "--role",
            "liaison",
            "--role",
            "analyst",
            "--clearance",
            "customs",
            "--password-stdin",
        ],
        input="a sufficiently long password\n",
    )
    assert added.exit_code == 0, added.output
    users = Users(ServiceDB(service_db))
    principal = users.authenticate("k.officer", "a sufficiently long password")
    assert principal is not None
    assert principal.scope.compartments == {"fiu", "customs", "registry", "external"}
    listed = runner.invoke(cli, ["users", "list"])
    assert "k.officer" in listed.output
    assert runner.invoke(cli, ["users", "disable", "k.officer"]).exit_code == 0
    assert users.authenticate("k.officer", "a sufficiently long password") is None
    assert runner.invoke(cli, ["users", "enable", "k.officer"]).exit_code == 0
    assert users.authenticate("k.officer", "a sufficiently long password") is not None
    ops = [r.detail["op"] for r in AuditLog(ServiceDB(service_db)).query()[0]]
    assert ops == ["add", "disable", "enable"]


def test_a_short_password_or_unknown_role_is_refused(service_db: Path) -> None:
    runner = CliRunner()
    short = runner.invoke(
        cli,
        ["users", "add", "x.y", "--agency", "tax", "--role", "analyst", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0
    role = runner.invoke(
        cli,
        ["users", "add", "x.y", "--agency", "tax", "--role", "god", "--password-stdin"],
        input="a sufficiently long password\n",
    )
    assert role.exit_code != 0
    assert Users(ServiceDB(service_db)).count() == 0


def test_demo_users_exist_only_in_dev_mode(tmp_path: Path) -> None:
    users = Users(ServiceDB(tmp_path / "s.sqlite"))
    with pytest.raises(DevModeError):
        seed_dev_users(users, Settings())
    created = seed_dev_users(users, Settings(dev_mode=True))
    assert set(created) == set(DEV_USERS)
    for name, password in created.items():
        principal = users.authenticate(name, password)
        assert principal is not None
        assert principal.agency == DEV_USERS[name][0]
    # A second run keeps existing users and prints no new passwords for them.
    assert seed_dev_users(users, Settings(dev_mode=True)) == {}
