"""One settings class, read from the environment (prefix ``IFFGRAPH_``) through a cache."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IFFGRAPH_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    store: Literal["embedded", "neo4j"] = Field(
        default="embedded", description="embedded needs no server; neo4j needs neo4j_uri"
    )
    embedded_path: Path = Path(".iffgraph/graph.sqlite")
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    batch_size: int | None = Field(
        default=None, ge=1, le=100_000, description="loader batch; unset: the store's own"
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65_535)
    service_db: Path = Field(
        default=Path(".iffgraph/service.sqlite"),
        description="users, audit log, cases, alert triage and jobs (any graph store)",
    )
    jwt_secret: SecretStr | None = Field(
        default=None, description="token signing key, at least 32 characters; required"
    )
    token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    dev_mode: bool = Field(
        default=False,
        description="development only: a random signing key and demo users printed on start",
    )
    attachments_dir: Path = Path(".iffgraph/attachments")
    exports_dir: Path = Path(".iffgraph/exports")
    jobs_workers: int = Field(default=1, ge=1, le=8)
    api_threads: int = Field(
        default=8, ge=1, le=200, description="threads per API process running store work"
    )
    api_workers: int = Field(
        default=1, ge=1, le=64, description="API processes (one per core serves a busy API)"
    )

    @model_validator(mode="after")
    def _no_default_secrets_outside_development(self) -> Settings:
        if self.store == "neo4j" and self.neo4j_password is None:
            raise ValueError("IFFGRAPH_NEO4J_PASSWORD must be set when IFFGRAPH_STORE=neo4j")
        if self.dev_mode and self.environment == "production":
            raise ValueError("IFFGRAPH_DEV_MODE cannot be on in production")
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("IFFGRAPH_JWT_SECRET must be at least 32 characters")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
