"""Schema upgrades through Alembic, from code: `lpa db upgrade`, the embedded stack and the tests all use it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from query_api.db import make_engine

INI = Path(__file__).parent / "migrations" / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(INI))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Bring the metadata store at `target` (a URL or an engine) to `revision`."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()
