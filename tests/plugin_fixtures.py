"""Fixtures for the group plugins' API tests (SQLite and PostgreSQL metadata via tests.api_fixtures, a real
in-memory DuckDB analytics store with enriched rows written the way the sink writes them).

Import with `from tests.api_fixtures import *` and `from tests.plugin_fixtures import *` (both `# noqa: F403`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest
from flask import Flask

from ingestion.schema import COLUMNS, EnrichedRow
from ingestion.sinks.duckdb_conn import open_duckdb
from query_api.store.duckdb_store import DuckDBStore
from tests.api_fixtures import Api
from tests.fixtures.progress_state import StateEvent, apply_events

__all__ = ["PluginApi", "T0", "DAY", "attempt", "duck", "load_rows", "papi", "record_state"]

T0 = 1732500000000  # 2024-11-25T02:00:00Z
DAY = 86_400_000


def attempt(user: str, content: str, attempt_id: str, score: float, max_score: float = 10.0, ets: int = T0,
            course: str = "do_course_1", batch: str = "b_1") -> EnrichedRow:
    """One LPA_ASSESSMENT row, as the enricher makes it."""
    return EnrichedRow(ets=ets, row_id=str(uuid.uuid4()), event_id=str(uuid.uuid4()), eid="LPA_ASSESSMENT",
                       mid="m", user_id=user, batch_id=batch, course_id=course, content_id=content,
                       attempt_id=attempt_id, score=score, max_score=max_score)


def load_rows(conn: duckdb.DuckDBPyConnection, rows: list[EnrichedRow]) -> None:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    conn.executemany(f'INSERT INTO enriched_events ({cols}, "__time") VALUES ({marks}, epoch_ms(?))',
                     [[getattr(r, c) for c in COLUMNS] + [r.ets] for r in rows])


def record_state(conn: duckdb.DuckDBPyConnection, events: list[StateEvent]) -> None:
    """Content-state events into both the enriched rows and the sink's state tables."""
    apply_events(conn, events)
    rows = []
    for e in events:
        base = {"ets": e.ets, "event_id": str(uuid.uuid4()), "eid": "BE_JOB_REQUEST", "mid": "m",
                "action": "batch-enrolment-update", "user_id": e.user_id, "batch_id": e.batch_id,
                "course_id": e.course_id}
        if not e.contents:
            rows.append(EnrichedRow(row_id=str(uuid.uuid4()), **base))
        rows += [EnrichedRow(row_id=str(uuid.uuid4()), content_id=c, status=s, is_leaf=1, is_optional=0, **base)
                 for c, s in e.contents.items()]
    load_rows(conn, rows)


@pytest.fixture
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_duckdb(":memory:")
    yield connection
    connection.close()


class PluginApi(Api):
    """Api plus the plugin calls the tests repeat."""

    def __init__(self, app: Flask, auth: Callable[..., dict[str, str]], conn: duckdb.DuckDBPyConnection) -> None:
        super().__init__(app.test_client(), auth)
        self.app, self.conn = app, conn

    def link(self, group_id: str, plugin_id: str, config: dict[str, Any] | None = None, user: str = "mentor") -> None:
        response = self.put(f"/v1/groups/{group_id}/plugins/{plugin_id}", user, json={"config": config or {}})
        assert response.status_code in (200, 201), response.json

    def course(self, doc: dict[str, Any]) -> None:
        response = self.put(f"/v1/courses/{doc['identifier']}/hierarchy", "ops", operator=True, json=doc)
        assert response.status_code in (200, 201), response.json

    def url(self, group_id: str, plugin_id: str, path: str) -> str:
        return f"/v1/groups/{group_id}/plugins/{plugin_id}{path}"


@pytest.fixture
def papi(make_app: Callable[..., Flask], auth: Callable[..., dict[str, str]],
         duck: duckdb.DuckDBPyConnection) -> PluginApi:
    app = make_app(analytics=DuckDBStore(duck), max_members_per_group=50, max_groups_per_user=20,
                   max_plugins_per_group=20)
    return PluginApi(app, auth, duck)
