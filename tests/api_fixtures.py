"""Fixtures for the query API's metadata tests, run on SQLite and on PostgreSQL.

Import them into a test module with `from tests.api_fixtures import *  # noqa: F403`. The schema is made by
the Alembic migrations (never create_all), once per backend per session; each test starts from empty tables.
PostgreSQL runs get a schema of their own (dropped at the end), so parallel runs do not collide.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from lpa.settings import Settings
from query_api.app import create_app
from query_api.auth import issue_token
from query_api.migrate import upgrade
from query_api.models import Base

__all__ = ["Api", "api", "app", "auth", "client", "db_url", "make_app", "operator", "settings"]

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_SECRET = "test-signing-key-0123456789abcdef0123456789"  # noqa: S105 - tests only


def _postgres_schema() -> Iterator[str]:
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # the machine's PostgreSQL is part of the test setup
        admin.dispose()
        pytest.skip(f"PostgreSQL at {PG_SERVER} is not reachable: {error}")
    schema = f"lpa_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty metadata store URL for each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('metadata') / 'metadata.sqlite'}"
        upgrade(url)
        yield url
        return
    gen = _postgres_schema()
    url = next(gen)
    upgrade(url)
    yield url
    gen.close()


def _wipe(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "lpa_counters":
                conn.execute(table.update().values(value=0))
            else:
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, jwt_secret=TEST_SECRET,
                    max_members_per_group=5, max_groups_per_user=3, max_plugins_per_group=2)


@pytest.fixture
def make_app(settings: Settings, db_url: str) -> Iterator[Callable[..., Flask]]:
    """Build an app over the fresh store: make_app(analytics=..., test_config=..., **settings overrides)."""
    _wipe(db_url)
    apps: list[Flask] = []

    def build(analytics: object | None = None, test_config: dict[str, Any] | None = None, **overrides: Any) -> Flask:
        app = create_app(settings.model_copy(update=overrides), analytics=analytics,
                         test_config={"TESTING": True, "AUTO_MIGRATE": False, **(test_config or {})})
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["lpa.db"].engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(settings: Settings) -> Callable[..., dict[str, str]]:
    """auth("u_1") -> headers with a bearer token for u_1 (operator=True adds the operator role)."""

    def headers(user_id: str, operator: bool = False) -> dict[str, str]:
        token = issue_token(settings, user_id, roles=["operator"] if operator else ())
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def operator(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("ops", operator=True)


class Api:
    """Short calls for tests: api.post("/v1/groups", "u_1", json=...) -> response."""

    def __init__(self, client: FlaskClient, auth: Callable[..., dict[str, str]]) -> None:
        self.client, self.auth = client, auth

    def call(self, method: str, path: str, user: str | None, operator: bool = False, **kwargs: Any) -> Any:
        headers = self.auth(user, operator=operator) if user else {}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, user: str | None, **kw: Any) -> Any:
        return self.call("GET", path, user, **kw)

    def post(self, path: str, user: str | None, **kw: Any) -> Any:
        return self.call("POST", path, user, **kw)

    def put(self, path: str, user: str | None, **kw: Any) -> Any:
        return self.call("PUT", path, user, **kw)

    def patch(self, path: str, user: str | None, **kw: Any) -> Any:
        return self.call("PATCH", path, user, **kw)

    def delete(self, path: str, user: str | None, **kw: Any) -> Any:
        return self.call("DELETE", path, user, **kw)

    def group(self, user: str, name: str = "G", members: list[dict[str, str]] | None = None, **extra: Any) -> str:
        response = self.post("/v1/groups", user, json={"name": name, "members": members or [], **extra})
        assert response.status_code == 201, response.json
        return response.json["id"]


@pytest.fixture
def api(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> Api:
    return Api(client, auth)
