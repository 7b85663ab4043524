"""Synthetic data for the progress report benchmark, generated inside DuckDB (no Kafka): content-state events
-> content_state / course_activity exactly as the sink materialises them, plus the courses' leaves.

Deterministic: every value derives from hash(event index), so two runs give the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from ingestion.hierarchy import CourseHierarchy, parse_hierarchy
from ingestion.sinks.duckdb_schema import upsert_content_state_sql, upsert_course_activity_sql
from ingestion.sinks.duckdb_state import refresh_all

COLLECTION = "application/vnd.ekstep.content-collection"
START_MS = 1_730_000_000_000
SPAN_MS = 6 * 7 * 86_400_000  # six weeks of activity


@dataclass(frozen=True)
class BenchSize:
    members: int = 1000
    courses: int = 20
    units: int = 5
    leaves_per_unit: int = 4
    events: int = 10_000_000
    outsiders: int = 1000  # learners in the store who are not in the group (other groups' data)

    @property
    def leaves(self) -> int:
        return self.units * self.leaves_per_unit


def user_id(i: int) -> str:
    return f"u_{i:05d}"


def course_id(i: int) -> str:
    return f"do_bench_{i:02d}"


def hierarchies(size: BenchSize) -> list[CourseHierarchy]:
    return [parse_hierarchy(doc) for doc in course_docs(size)]


def course_docs(size: BenchSize) -> list[dict[str, Any]]:
    """`units` units of `leaves_per_unit` leaves; the last unit of every fourth course is optional."""
    out = []
    for c in range(size.courses):
        cid = course_id(c)
        doc = {"identifier": cid, "name": f"Course {c:02d}", "mimeType": COLLECTION, "board": "CBSE",
               "subject": ["Mathematics"],
               "relationalMetadata": {f"{cid}_u{size.units - 1}": {"optional": True}} if c % 4 == 3 else {},
               "children": [{"identifier": f"{cid}_u{u}", "name": f"Unit {u + 1}", "mimeType": COLLECTION,
                             "children": [{"identifier": f"{cid}_l{u * size.leaves_per_unit + k}",
                                           "name": f"Leaf {k}", "mimeType": "video/mp4"}
                                          for k in range(size.leaves_per_unit)]}
                            for u in range(size.units)]}
        out.append(doc)
    return out


def generate(conn: duckdb.DuckDBPyConnection, size: BenchSize) -> None:
    """Fill content_state and course_activity from `size.events` generated events (tables must exist)."""
    learners = size.members + size.outsiders
    conn.execute("DROP TABLE IF EXISTS bench_events")
    # One event = one (learner, batch, course, content, status, ets). A learner takes a course in one batch,
    # or in two for every fifth (learner, course); their "reach" (how far they got) is fixed per pair, so
    # percentages spread from 0 to 100. ~3% of the contents are ids outside the hierarchy.
    conn.execute(
        f"""CREATE TABLE bench_events AS
        WITH e AS (SELECT range AS i, hash(range) AS h FROM range({int(size.events)}))
        SELECT
          'u_' || lpad(CAST((h % {learners * size.courses}) // {size.courses} AS VARCHAR), 5, '0') AS user_id,
          (h % {learners * size.courses}) // {size.courses} AS uid,
          (h % {learners * size.courses}) % {size.courses} AS cid,
          (h // 7919) % 1000 AS r1, (h // 104729) % 1000 AS r2, (h // 1299709) % {SPAN_MS} AS dt
        FROM e""")
    conn.execute("DROP TABLE IF EXISTS bench_rows")
    conn.execute(
        f"""CREATE TABLE bench_rows AS
        SELECT user_id,
          'b_' || lpad(CAST(cid AS VARCHAR), 2, '0') ||
            CASE WHEN hash(uid * 131 + cid) % 5 = 0 AND r1 % 2 = 1 THEN '_repeat' ELSE '' END AS batch_id,
          'do_bench_' || lpad(CAST(cid AS VARCHAR), 2, '0') AS course_id,
          CASE WHEN r1 < 30 THEN 'do_elsewhere_' || CAST(r2 % 50 AS VARCHAR)
               ELSE 'do_bench_' || lpad(CAST(cid AS VARCHAR), 2, '0') || '_l' ||
                    CAST(r2 % {size.leaves} AS VARCHAR) END AS content_id,
          CASE WHEN r2 % {size.leaves} < hash(uid * 7 + cid) % {size.leaves + 1} THEN 2
               ELSE r1 % 2 END AS status,
          {START_MS} + dt AS ets
        FROM bench_events""")
    conn.execute("DELETE FROM content_state")
    conn.execute("DELETE FROM course_activity")
    conn.execute(upsert_content_state_sql(
        """SELECT user_id, batch_id, course_id, content_id, max(status) AS status, max(ets) AS last_ets
        FROM bench_rows GROUP BY user_id, batch_id, course_id, content_id"""))
    conn.execute(upsert_course_activity_sql(
        """SELECT user_id, batch_id, course_id, NULL AS program_id, min(ets) AS first_ets, max(ets) AS last_ets
        FROM bench_rows GROUP BY user_id, batch_id, course_id"""))
    conn.execute("DROP TABLE bench_events")
    conn.execute("DROP TABLE bench_rows")
    refresh_all(conn)  # counted against the leaves stored now; loading the courses recounts each course
    conn.execute("CHECKPOINT")
