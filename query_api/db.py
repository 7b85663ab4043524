"""The metadata store: one engine per app, one session per request (closed on teardown).

SQLite (embedded default) and PostgreSQL (production) behind the same SQLAlchemy 2 models; the schema is
Alembic's to create (`lpa db upgrade`, or automatically for the embedded SQLite file).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        # One file shared by request threads and the pipeline thread; wait for locks instead of failing.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work outside a request (pipeline bridge, CLI): commit on success, roll back on error."""
    session = session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]


def init_app(app: Flask, url: str) -> Database:
    engine = make_engine(url)
    database = Database(engine, make_session_factory(engine))
    app.extensions["lpa.db"] = database
    app.teardown_appcontext(_close_session)
    return database


def session() -> Session:
    """The current request's session (created on first use)."""
    if "lpa_db_session" not in g:
        g.lpa_db_session = current_app.extensions["lpa.db"].session_factory()
    return g.lpa_db_session


def _close_session(error: BaseException | None) -> None:
    db_session: Session | None = g.pop("lpa_db_session", None)
    if db_session is not None:
        try:
            if error is not None:
                db_session.rollback()
            db_session.close()
        except SQLAlchemyError as failure:
            # The connection died under the request (database restarting): the answer is already made, and
            # the pool drops the dead connection; raising here would turn it into an unhandled 500.
            log.warning("closing the metadata session failed: %s", failure)
