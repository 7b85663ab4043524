"""Loading a backfill's Parquet outputs into the embedded analytics store (DuckDB), in one transaction.

- enriched_events: only the row_ids not stored yet (`insert_new_enriched_rows`), so history overlapping
  streamed days (same ids) and a second load of the same output add nothing.
- content_state / course_activity / course_completion: the stream sink's materialisations
  (ingestion.sinks.duckdb_state), fed from the whole output (idempotent, so repeats are harmless).
- daily_progress: the rollups; a load replaces every (user, course) series the output holds.
No Spark is needed here: DuckDB reads the Parquet files itself.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from pydantic import BaseModel

from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.duckdb_schema import insert_new_enriched_rows
from ingestion.sinks.duckdb_state import STATE_WRITE_LOCK, materialise
from rollup_jobs.errors import InputNotFoundError, StoreLockedError

# Mirrors rollup_jobs.schema.DAILY_PROGRESS_SCHEMA (tests/unit/test_rollup_transforms.py fails on drift).
DAILY_PROGRESS_DDL = """CREATE TABLE IF NOT EXISTS daily_progress (
    day DATE NOT NULL, day_ms BIGINT NOT NULL, user_id VARCHAR NOT NULL, course_id VARCHAR NOT NULL,
    level VARCHAR NOT NULL, unit_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, completed BIGINT NOT NULL,
    leaf_count BIGINT NOT NULL, percent BIGINT NOT NULL, last_activity BIGINT, valid_to DATE,
    PRIMARY KEY (user_id, course_id, unit_id, day))"""
DAILY_PROGRESS_COLUMNS = ("day", "day_ms", "user_id", "course_id", "level", "unit_id", "batch_id", "completed",
                          "leaf_count", "percent", "last_activity", "valid_to")


class LoadSummary(BaseModel):
    enriched_read: int
    enriched_inserted: int
    already_present: int
    content_state_rows: int
    course_activity_rows: int
    daily_progress_rows: int


def _parquet_files(root: Path, sub: str) -> list[str]:
    return sorted(str(p) for p in (root / sub).rglob("*.parquet"))


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """The store read-write, or StoreLockedError when a running `lpa up` holds it."""
    try:
        return open_duckdb(path)
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise StoreLockedError(
            f"{path} is in use by another process (a running `lpa up`?): {str(error).splitlines()[0]}\n"
            "Stop it (Ctrl-C in its shell) and run `lpa backfill load` again, then start `lpa up`: the loaded "
            "rows are picked up at start. Or load into another data dir with --data-dir.") from error


def load_backfill(conn: duckdb.DuckDBPyConnection, output_dir: str | Path) -> LoadSummary:
    root = Path(output_dir)
    enriched = _parquet_files(root, "enriched")
    rollups = _parquet_files(root, "daily_progress")
    if not enriched:
        raise InputNotFoundError(f"{root}: no enriched/*/*.parquet files (is it the --output of `lpa backfill run`?)")
    conn.execute(DAILY_PROGRESS_DDL)
    with STATE_WRITE_LOCK:
        return _load(conn, enriched, rollups)


def _load(conn: duckdb.DuckDBPyConnection, enriched: list[str], rollups: list[str]) -> LoadSummary:
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.read_parquet(enriched).create_view("backfill_rows", replace=True)  # paths are values, not SQL
        read = _scalar(conn, "SELECT count(*) FROM backfill_rows")
        before = _scalar(conn, "SELECT count(*) FROM enriched_events")
        conn.execute(insert_new_enriched_rows("backfill_rows"))
        inserted = _scalar(conn, "SELECT count(*) FROM enriched_events") - before
        materialise(conn, "backfill_rows")  # the stream sink's materialisations, defined once
        if rollups:
            cols = ", ".join(DAILY_PROGRESS_COLUMNS)
            conn.read_parquet(rollups).create_view("backfill_rollups", replace=True)
            # A new run's series replace the old ones for the same learner and course (days may differ).
            conn.execute("DELETE FROM daily_progress WHERE (user_id, course_id) IN "
                         "(SELECT DISTINCT user_id, course_id FROM backfill_rollups)")
            conn.execute(f"INSERT INTO daily_progress ({cols}) SELECT {cols} FROM backfill_rollups")  # noqa: S608
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("DROP VIEW IF EXISTS backfill_rows")
        conn.execute("DROP VIEW IF EXISTS backfill_rollups")
    return LoadSummary(
        enriched_read=read, enriched_inserted=inserted, already_present=read - inserted,
        content_state_rows=_scalar(conn, "SELECT count(*) FROM content_state"),
        course_activity_rows=_scalar(conn, "SELECT count(*) FROM course_activity"),
        daily_progress_rows=_scalar(conn, "SELECT count(*) FROM daily_progress"))


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0
