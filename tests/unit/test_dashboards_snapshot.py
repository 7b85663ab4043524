"""The snapshot `lpa dashboards serve` hands to Superset: the store's events and rollups plus the catalog's
dimensions, in a file of its own."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboards.sample_store import fill_demo
from dashboards.snapshot import SnapshotError, make_snapshot
from ingestion.hierarchy import parse_hierarchy
from tests.fixtures.courses import FRACTIONS


def test_snapshot_copies_events_and_rollups_and_writes_dimensions(tmp_path: Path) -> None:
    source = tmp_path / "analytics.duckdb"
    report = fill_demo(source)
    info = make_snapshot(source, tmp_path / "served.duckdb", [parse_hierarchy(FRACTIONS)])
    assert info["mode"] == "cold"
    conn = duckdb.connect(str(tmp_path / "served.duckdb"), read_only=True)
    assert conn.execute("SELECT COUNT(*) FROM enriched_events").fetchone()[0] == report.tables["enriched_events"]
    assert conn.execute("SELECT course_name FROM lpa_dim_courses").fetchall() == [("Fractions",)]
    conn.close()


def test_snapshot_of_a_store_without_rollups_has_an_empty_rollup_table(tmp_path: Path) -> None:
    source = tmp_path / "analytics.duckdb"
    conn = duckdb.connect(str(source))
    conn.execute('CREATE TABLE enriched_events (row_id VARCHAR, "__time" TIMESTAMP)')
    conn.close()
    info = make_snapshot(source, tmp_path / "served.duckdb", [])
    assert info["tables"]["daily_progress"] == 0  # type: ignore[index]


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no analytics store"):
        make_snapshot(tmp_path / "nope.duckdb", tmp_path / "served.duckdb", [])


def test_catalog_is_read_from_the_metadata_store(tmp_path: Path) -> None:
    import json

    from sqlalchemy import create_engine, text

    from dashboards.dims import CatalogUnavailable, load_catalog

    url = f"sqlite:///{tmp_path / 'metadata.sqlite'}"
    with pytest.raises(CatalogUnavailable, match="cannot read the course catalog"):
        load_catalog(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE courses (id VARCHAR PRIMARY KEY, hierarchy JSON)"))
        conn.execute(text("INSERT INTO courses VALUES (:id, :h)"), {"id": "do_course_1", "h": json.dumps(FRACTIONS)})
    engine.dispose()
    assert [c.name for c in load_catalog(url)] == ["Fractions"]


def test_snapshot_gives_the_rollups_of_rollup_jobs_a_time_column(tmp_path: Path) -> None:
    source = tmp_path / "analytics.duckdb"
    conn = duckdb.connect(str(source))
    conn.execute('CREATE TABLE enriched_events (row_id VARCHAR, "__time" TIMESTAMP)')
    conn.execute("CREATE TABLE daily_progress (day DATE, day_ms BIGINT, valid_to DATE)")  # as rollup_jobs/load.py
    conn.execute("INSERT INTO daily_progress VALUES ('2025-01-02', 1735776000000, NULL)")
    conn.close()
    make_snapshot(source, tmp_path / "served.duckdb", [])
    served = duckdb.connect(str(tmp_path / "served.duckdb"), read_only=True)
    assert str(served.execute('SELECT "__time" FROM daily_progress').fetchone()[0]) == "2025-01-02 00:00:00"
    served.close()
