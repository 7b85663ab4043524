"""`lpa up` on a data dir whose analytics store lacks the catalog's current leaves (a store written by an
earlier version, or rebuilt beside the metadata) brings them up to date before events flow."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.runtime import Stack
from lpa.settings import Settings
from query_api.auth import issue_token
from tests.fixtures.courses import FRACTIONS

pytestmark = pytest.mark.integration


def _held(path: Path) -> list[tuple[object, ...]]:
    conn = open_duckdb(path)
    try:
        return conn.execute("SELECT p.course_id, p.signature, (SELECT count(*) FROM course_leaves l "
                            "WHERE l.course_id = p.course_id) FROM course_plan p").fetchall()
    finally:
        conn.close()


def test_start_up_writes_the_leaves_the_analytics_store_lacks(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_port=0, log_format="text")
    stack = Stack(settings).start(on_progress=lambda _: None)
    try:
        stack.wait_ready()
        token = issue_token(settings, "ops", roles=["operator"])
        response = requests.put(f"{stack.api_url}/v1/courses/do_course_1/hierarchy", json=FRACTIONS, timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201
    finally:
        stack.stop()
    held = _held(settings.analytics_path)
    assert [row[0] for row in held] == ["do_course_1"] and held[0][2] == 2

    conn = open_duckdb(settings.analytics_path)
    for table in ("course_plan", "course_leaves", "unit_leaves"):
        conn.execute(f"DELETE FROM {table}")
    conn.close()

    said: list[str] = []
    stack = Stack(settings).start(on_progress=said.append)
    stack.stop()
    assert "brought the leaves of 1 course(s) up to date in the analytics store" in said
    assert _held(settings.analytics_path) == held
