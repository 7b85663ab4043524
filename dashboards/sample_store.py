"""A DuckDB analytics file filled with the demo sample, without Kafka: for the Superset test and for trying
the dashboards with no running stack (`lpa dashboards serve --sample`).

Events go through the pipeline's own pure functions (ingestion.events.parse_event, ingestion.enrich.enrich)
into the store's own DDL (ingestion/sinks/duckdb_schema.py); the catalog dimensions come from the current
hierarchies (dashboards/dims.py). The daily rollups are approximated in SQL here (per batch, not the best
batch) when the file has none; the real ones come from rollup_jobs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards.dims import write_duckdb
from dashboards.targets import DuckDBTarget
from ingestion.enrich import enrich, event_id_for
from ingestion.events import BatchEvent, EventRejected, parse_event
from ingestion.hierarchy import CourseHierarchy, parse_hierarchy
from ingestion.schema import COLUMNS
from ingestion.sinks.duckdb_conn import open_duckdb

# rollup_jobs/load.py's table plus the `__time` column a served snapshot has (dashboards/snapshot.py).
DAILY_PROGRESS_DDL = """CREATE TABLE IF NOT EXISTS daily_progress (
    day DATE NOT NULL, day_ms BIGINT NOT NULL, user_id VARCHAR NOT NULL, course_id VARCHAR NOT NULL,
    level VARCHAR NOT NULL, unit_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, completed BIGINT NOT NULL,
    leaf_count BIGINT NOT NULL, percent BIGINT NOT NULL, last_activity BIGINT, valid_to DATE,
    "__time" TIMESTAMP NOT NULL)"""

# Per (learner, batch, course): cumulative completed current leaves on each day it changed; valid until the
# next change. DuckDB-only SQL (window functions) is fine here: this only makes sample data.
DAILY_PROGRESS_FILL = """INSERT INTO daily_progress
WITH firsts AS (
    SELECT e.user_id, e.batch_id, e.course_id, e.content_id, MIN(date_trunc('day', e."__time")) AS day
    FROM enriched_events e
    JOIN (SELECT DISTINCT course_id, leaf_id FROM {leaves}) l ON l.course_id = e.course_id AND l.leaf_id = e.content_id
    WHERE e.eid = 'BE_JOB_REQUEST' AND e.status = 2
    GROUP BY ALL),
per_day AS (SELECT user_id, batch_id, course_id, day, COUNT(*) AS n FROM firsts GROUP BY ALL),
cum AS (
    SELECT *, SUM(n) OVER w AS completed, LEAD(day) OVER w AS valid_to
    FROM per_day WINDOW w AS (PARTITION BY user_id, batch_id, course_id ORDER BY day))
SELECT CAST(cum.day AS DATE), epoch_ms(cum.day), cum.user_id, cum.course_id, 'course', cum.course_id,
       cum.batch_id, cum.completed, c.leaf_count,
       CASE WHEN c.leaf_count = 0 THEN 0 ELSE LEAST(100, cum.completed * 100 // c.leaf_count) END,
       NULL, CAST(cum.valid_to AS DATE), cum.day
FROM cum JOIN {courses} c ON c.course_id = cum.course_id"""


@dataclass
class _Catalog:
    courses: dict[str, CourseHierarchy]

    def course(self, course_id: str) -> CourseHierarchy | None:
        return self.courses.get(course_id)


@dataclass
class _Batches:
    programs: dict[str, str | None]

    def program_id(self, batch_id: str) -> str | None:
        return self.programs.get(batch_id)

    def exists(self, batch_id: str) -> bool:
        return batch_id in self.programs


@dataclass(frozen=True)
class FillReport:
    events: int
    rows: int
    rejected: int
    tables: dict[str, int]


def enriched_rows(events: Iterable[dict[str, Any]], catalog: list[CourseHierarchy]) -> tuple[list[dict[str, Any]], int]:
    """Events -> enriched rows as the stream makes them (rejected events are counted, as dead letters would be)."""
    lookup, batches = _Catalog({c.course_id: c for c in catalog}), _Batches({})
    rows: dict[str, dict[str, Any]] = {}  # by row_id: a replayed fact is stored once, as in the sink
    rejected = 0
    for data in events:
        try:
            event = parse_event(json.dumps(data).encode())
            enriched = enrich(event, event_id_for(data), lookup, batches)
        except EventRejected:
            rejected += 1
            continue
        if isinstance(event, BatchEvent) and event.edata.action == "create":
            batches.programs[event.edata.batchId] = event.edata.programId
        for row in enriched:
            rows.setdefault(row.row_id, row.model_dump())
    return list(rows.values()), rejected


def fill(path: Path, events: list[dict[str, Any]], catalog_at_ingest: list[CourseHierarchy],
         catalog_now: list[CourseHierarchy]) -> FillReport:
    """Create (replace) the DuckDB file at `path` with the enriched events, the dimensions and daily rollups."""
    path = Path(path)
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    rows, rejected = enriched_rows(events, catalog_at_ingest)
    names = DuckDBTarget().relation_names
    conn = open_duckdb(path)
    try:
        with tempfile.TemporaryDirectory() as tmp:  # bulk load through a JSON-lines file: fast and typed
            jsonl = Path(tmp) / "rows.jsonl"
            jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
            cols = ", ".join(f'"{c}"' for c in COLUMNS)
            types = {name: sql_type for name, sql_type in conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'enriched_events'"
            ).fetchall() if name != "__time"}
            conn.execute(f"INSERT INTO enriched_events ({cols}, \"__time\") SELECT {cols}, epoch_ms(ets) "
                         f"FROM read_json(?, format = 'newline_delimited', columns = {_struct(types)})",
                         [str(jsonl)])
        tables = write_duckdb(conn, catalog_now, names)
        conn.execute(DAILY_PROGRESS_DDL)
        if conn.execute("SELECT COUNT(*) FROM daily_progress").fetchone() == (0,):
            conn.execute(DAILY_PROGRESS_FILL.format(leaves=names["leaves"], courses=names["courses"]))
        for table in ("enriched_events", "daily_progress"):
            tables[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        conn.execute("CHECKPOINT")
    finally:
        conn.close()  # Superset can only open the file once no process holds it read-write
    return FillReport(events=len(events), rows=len(rows), rejected=rejected, tables=tables)


def _struct(types: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in types.items()) + "}"


def fill_demo(path: Path, now_ms: int = 1_767_225_600_000, seed: int = 20241125) -> FillReport:
    """The `lpa demo` sample (lpa/demo_data.py) as of `now_ms` (default 2026-01-01: the same file every run)."""
    from lpa import demo_data  # the demo sample is engineer C's; imported here only

    first = [parse_hierarchy(doc) for doc in demo_data.hierarchies().values()]
    current = {c.course_id: c for c in first} | {
        c.course_id: c for c in (parse_hierarchy(doc) for doc in demo_data.republished().values())}
    return fill(path, demo_data.build_events(now_ms, seed), first, list(current.values()))
