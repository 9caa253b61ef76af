"""Investigators: agency, roles, clearances, argon2id password hashes, kept in the service DB.

A user's **scope** (what the query layer lets them read) is their agency's compartment, every
compartment they were explicitly cleared for, and the open compartments (registry, external).
Roles say what they may *do*: ``analyst`` reads and triages, ``liaison`` also exports
intelligence, ``supervisor`` also reads the audit log, ``admin`` manages users. Roles never widen
the scope: an admin without FIU clearance sees no FIU content (separation of duties).
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.servicedb import ServiceDB
from graph_models.errors import IffgraphError, NotFoundError
from queries.access import Scope

# Compartments any user may read: public registry extracts and external reference data.
OPEN_COMPARTMENTS = frozenset({"registry", "external"})


class UserAgency(StrEnum):
    """The agencies whose staff use the service (registry and external are data, not users)."""

    CUSTOMS = "customs"
    FIU = "fiu"
    TAX = "tax"


class Role(StrEnum):
    ANALYST = "analyst"
    LIAISON = "liaison"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class UserError(IffgraphError, ValueError):
    """A user record cannot be created or changed as asked."""


class Principal(BaseModel):
    """The authenticated caller, as every route sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str
    agency: UserAgency
    roles: frozenset[Role]
    clearances: frozenset[UserAgency] = Field(
        default=frozenset(), description="compartments beyond the user's own agency"
    )

    @cached_property
    def scope(self) -> Scope:
        # Once per principal, not per request: the users service keeps a principal for
        # PRINCIPAL_TTL_S, and building (validating) the scope was 2 % of the API's CPU.
        own = {self.agency.value} | {c.value for c in self.clearances}
        return Scope(compartments=frozenset(own) | OPEN_COMPARTMENTS)

    def has(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)


class UserPublic(BaseModel):
    """A user as the admin API and CLI list it (never the hash)."""

    model_config = ConfigDict(extra="forbid")

    username: str
    agency: UserAgency
    roles: list[Role]
    clearances: list[UserAgency]
    disabled: bool
    created_at: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, examples=["a.analyst"])
    password: str = Field(min_length=12, max_length=256, examples=["correct horse battery"])
    agency: UserAgency
    roles: list[Role] = Field(min_length=1, examples=[["analyst"]])
    clearances: list[UserAgency] = Field(default_factory=list)

    @field_validator("username")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._@-]+", value):
            raise ValueError("use letters, digits and . _ @ - only")
        return value


DDL = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    agency TEXT NOT NULL,
    roles TEXT NOT NULL,
    clearances TEXT NOT NULL DEFAULT '',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
"""

_HASHER = PasswordHasher()  # argon2id with the library's current OWASP-aligned parameters
# Verifying against this keeps the time of a login for an unknown user like a known one.
_DUMMY_HASH = _HASHER.hash("iffgraph-no-such-user")


def _split(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


# How long a request may rely on a principal read by an earlier one. Changes made through this
# process (the API) apply at once; a change made by another process (``iffgraph users
# disable``) reaches the running service within this time.
PRINCIPAL_TTL_S = 5.0


class Users:
    """The user directory."""

    def __init__(self, db: ServiceDB) -> None:
        self.db = db
        db.ensure(DDL)
        # Every request looks its caller up; a read of the service DB per request was a
        # twentieth of the server's time under load.
        self._principals: dict[str, tuple[float, Principal | None]] = {}

    def add(self, new: UserCreate) -> UserPublic:
        own = UserAgency(new.agency)
        clearances = sorted({c.value for c in new.clearances} - {own.value})
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO users (username, password_hash, agency, roles, clearances,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        new.username,
                        _HASHER.hash(new.password),
                        own.value,
                        ",".join(sorted({r.value for r in new.roles})),
                        ",".join(clearances),
                        datetime.now(UTC).isoformat(timespec="seconds"),
                    ),
                )
        except sqlite3.IntegrityError as e:
            raise UserError(f"user {new.username!r} already exists") from e
        self._principals.pop(new.username, None)  # a lookup before it existed cached "none"
        return self.get(new.username)

    def set_disabled(self, username: str, disabled: bool) -> UserPublic:
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username)
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no user {username!r}")
        # After the commit: a request between a drop before it and the commit would have
        # cached the old state again.
        self._principals.pop(username, None)
        return self.get(username)

    def get(self, username: str) -> UserPublic:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return _public(row)

    def list(self) -> list[UserPublic]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [_public(r) for r in rows]

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])

    def authenticate(self, username: str, password: str) -> Principal | None:
        """The principal when the password matches an enabled user, else None."""
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        stored = str(row["password_hash"]) if row is not None else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row["disabled"]:
            return None
        return _principal(row)

    def principal(self, username: str) -> Principal | None:
        """The current principal of an enabled user (tokens are re-checked on every request,
        so disabling a user or changing roles takes effect before the token expires; see
        :data:`PRINCIPAL_TTL_S`)."""
        now = time.monotonic()
        cached = self._principals.get(username)
        if cached is not None and now - cached[0] < PRINCIPAL_TTL_S:
            return cached[1]
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        principal = None if row is None or row["disabled"] else _principal(row)
        self._principals[username] = (now, principal)
        return principal


def _principal(row: sqlite3.Row) -> Principal:
    return Principal(
        username=row["username"],
        agency=UserAgency(row["agency"]),
        roles=frozenset(Role(r) for r in _split(row["roles"])),
        clearances=frozenset(UserAgency(c) for c in _split(row["clearances"])),
    )


def _public(row: sqlite3.Row) -> UserPublic:
    return UserPublic(
        username=row["username"],
        agency=UserAgency(row["agency"]),
        roles=[Role(r) for r in _split(row["roles"])],
        clearances=[UserAgency(c) for c in _split(row["clearances"])],
        disabled=bool(row["disabled"]),
        created_at=row["created_at"],
    )
