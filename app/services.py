"""Everything a request may need besides the graph store, opened once by the lifespan."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from app.audit import AuditLog
from app.cases import Cases
from app.jobs import Jobs
from app.servicedb import ServiceDB
from app.settings import Settings
from app.tokens import Signer
from app.triage import Triage
from app.users import Users
from graph_models.errors import IffgraphError
from graph_models.store.base import GraphStore


class ConfigurationError(IffgraphError):
    """The service refuses to start with this configuration."""


@dataclass
class Services:
    settings: Settings
    db: ServiceDB
    users: Users
    audit: AuditLog
    signer: Signer
    cases: Cases
    triage: Triage
    jobs: Jobs

    def close(self) -> None:
        self.jobs.close()
        self.audit.close()
        self.db.close()


def signing_key(settings: Settings) -> str:
    """The configured key; in dev mode only, a random one for this process."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.dev_mode:
        return secrets.token_urlsafe(48)
    raise ConfigurationError(
        "IFFGRAPH_JWT_SECRET is not set: configure a signing key of at least 32 characters"
        " (only IFFGRAPH_DEV_MODE=1, for development, generates one)"
    )


def open_services(settings: Settings, store: GraphStore) -> Services:
    db = ServiceDB(settings.service_db)
    return Services(
        settings=settings,
        db=db,
        users=Users(db),
        audit=AuditLog(db),
        signer=Signer(signing_key(settings), minutes=settings.token_minutes),
        cases=Cases(db),
        triage=Triage(db),
        jobs=Jobs(db, store, settings),
    )
