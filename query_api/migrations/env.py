"""Alembic environment: runs on a connection given by the caller (tests, `query_api.migrate`), else on
the URL from the project's settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from query_api.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from lpa.settings import load_settings
    from query_api.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or load_settings().metadata_url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
