"""All configuration in one place: `LPA_*` environment variables with embedded defaults under a data dir."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Embedded defaults run everything on one machine; production overrides the engine URLs."""

    model_config = SettingsConfigDict(env_prefix="LPA_", extra="ignore")

    data_dir: Path = Field(default=Path(".lpa"), description="Where the embedded stack keeps its files.")

    # Kafka: None means "start the embedded Tansu broker".
    kafka_bootstrap: str | None = None
    raw_topic: str = "lpa.raw"
    enriched_topic: str = "lpa.enriched"
    deadletter_topic: str = "lpa.deadletter"
    topic_partitions: int = Field(default=4, ge=1)
    consumer_group: str = "lpa-pipeline"
    max_event_bytes: int = Field(default=1_000_000, ge=1024)
    # Publish enriched rows to the enriched topic (what Druid's supervisor reads); off for the embedded default.
    publish_enriched: bool = False

    # API
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8470, ge=0, le=65535)

    # Metadata store (SQLAlchemy URL); None means a SQLite file in the data dir.
    database_url: str | None = None

    # Analytics store
    analytics_store: Literal["duckdb", "druid"] = "duckdb"
    duckdb_path: Path | None = None
    druid_url: str | None = None
    query_timeout_s: float = Field(default=5.0, gt=0)

    # Auth: HS256 with a key kept in the data dir by default; RS256 via a JWKS URL in production.
    jwt_secret: str | None = None
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "lpa"
    jwt_audience: str | None = None
    token_ttl_s: int = Field(default=7 * 24 * 3600, gt=0)

    # Limits enforced by the groups API.
    max_members_per_group: int = Field(default=500, ge=1)
    max_groups_per_user: int = Field(default=200, ge=1)
    max_plugins_per_group: int = Field(default=20, ge=1)

    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    @property
    def metadata_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'metadata.sqlite').resolve()}"

    @property
    def analytics_path(self) -> Path:
        return self.duckdb_path or self.data_dir / "analytics.duckdb"

    @property
    def runtime_file(self) -> Path:
        """Written by `lpa up`; other subcommands read it to find the running stack."""
        return self.data_dir / "run.json"

    @cached_property
    def signing_key(self) -> str:
        """The HS256 key: from the environment, else created once and kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
