"""DuckDB adapter of the analytics store (the embedded default).

One read-write connection per process (see ingestion/sinks/duckdb_conn.py); each call takes its own
`conn.cursor()`, so API threads and the pipeline never share a cursor. The query watchdog
(query_api/store/watchdog.py) interrupts a query that runs past the timeout, so a slow or wedged store gives
a 503, not a hung request.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import duckdb

from ingestion.hierarchy import CourseHierarchy
from ingestion.sinks.duckdb_state import STATE_WRITE_LOCK, refresh_course
from query_api.store import queries
from query_api.store.base import AnalyticsStore, ProgressRows, StoreTimeout, StoreUnavailable
from query_api.store.duckdb_report import ReportStatement, plan_row, plan_signature
from query_api.store.plugin_queries import PluginQueries, PluginRelation
from query_api.store.queries import Relation
from query_api.store.watchdog import QUERY_WATCHDOG

log = logging.getLogger(__name__)
T = TypeVar("T")

# Writes are engine-specific (Druid gets the leaves from its own ingestion), so they live here, not in queries.
_DELETE_COURSE_LEAVES = "DELETE FROM course_leaves WHERE course_id = ?"
_DELETE_UNIT_LEAVES = "DELETE FROM unit_leaves WHERE course_id = ?"
_INSERT_COURSE_LEAVES = "INSERT INTO course_leaves (course_id, leaf_id) SELECT ?, unnest(?::VARCHAR[])"
_INSERT_UNIT_LEAVES = "INSERT INTO unit_leaves (course_id, unit_id, leaf_id) SELECT ?, ?, unnest(?::VARCHAR[])"
_DELETE_PLAN = "DELETE FROM course_plan WHERE course_id = ?"
# What the store holds per course: the plan's signature, the course's and each unit's sorted leaves.
_HELD_LEAVES = """
SELECT c.course_id, p.signature,
       (SELECT list(leaf_id ORDER BY leaf_id) FROM course_leaves l WHERE l.course_id = c.course_id),
       (SELECT list(struct_pack(u := unit_id, l := leaves) ORDER BY unit_id)
        FROM (SELECT unit_id, list(leaf_id ORDER BY leaf_id) AS leaves FROM unit_leaves u
              WHERE u.course_id = c.course_id GROUP BY unit_id))
FROM (SELECT unnest(?::VARCHAR[]) AS course_id) c
LEFT JOIN course_plan p ON p.course_id = c.course_id"""
_INSERT_PLAN = ("INSERT INTO course_plan VALUES (?, ?, ?, ?, ?, "
                "?::STRUCT(id VARCHAR, head VARCHAR, tail VARCHAR, leaves INTEGER)[])")


class DuckDBStore(PluginQueries, AnalyticsStore):
    """The embedded adapter: relation names are this engine's tables (an allow-list, not input)."""

    RELATIONS: dict[Relation, str] = {r: r.value for r in Relation}
    # The plugins' relations over the enriched rows (`ets` is the event time in epoch ms here).
    plugin_relations: dict[Relation | PluginRelation, str] = {
        **RELATIONS,
        PluginRelation.ASSESSMENT_ATTEMPTS: (
            "(SELECT user_id, batch_id, course_id, content_id, attempt_id, score, max_score, ets"
            " FROM enriched_events WHERE eid = 'LPA_ASSESSMENT')"),
        PluginRelation.LEAF_COMPLETIONS: (
            "(SELECT user_id, batch_id, course_id, content_id, MIN(ets) AS first_ets FROM enriched_events"
            " WHERE eid = 'BE_JOB_REQUEST' AND status = 2 GROUP BY user_id, batch_id, course_id, content_id)"),
    }

    def __init__(self, conn: duckdb.DuckDBPyConnection, *, timeout_s: float = 5.0) -> None:
        self._conn = conn
        self._timeout_s = timeout_s

    def _run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` on a fresh cursor under the timeout; map engine errors to StoreError."""
        try:
            cursor = self._conn.cursor()
        except duckdb.Error as error:
            raise StoreUnavailable(f"the analytics store is not open: {error}") from error
        interrupted = threading.Event()

        def interrupt() -> None:
            interrupted.set()
            cursor.interrupt()

        token = QUERY_WATCHDOG.watch(self._timeout_s, interrupt)
        try:
            return work(cursor)
        except duckdb.InterruptException as error:
            raise StoreTimeout(f"the analytics query ran past {self._timeout_s:g} s") from error
        except duckdb.Error as error:
            if interrupted.is_set():
                raise StoreTimeout(f"the analytics query ran past {self._timeout_s:g} s") from error
            log.warning("analytics store error: %s", error)
            raise StoreUnavailable(f"the analytics store failed: {type(error).__name__}") from error
        finally:
            QUERY_WATCHDOG.cancel(token)
            cursor.close()

    def progress_rows(self, user_ids: Sequence[str], course_ids: Sequence[str]) -> ProgressRows:
        users, courses = list(dict.fromkeys(user_ids)), list(dict.fromkeys(course_ids))
        if not users or not courses:
            return ProgressRows(courses=[], units=[])
        course_sql = queries.course_progress_sql(self.RELATIONS, len(users), len(courses))
        unit_sql = queries.unit_progress_sql(self.RELATIONS, len(users), len(courses))

        def work(cursor: duckdb.DuckDBPyConnection) -> ProgressRows:
            course_rows = cursor.execute(course_sql, queries.course_progress_params(users, courses)).fetchall()
            unit_rows = cursor.execute(unit_sql, queries.unit_progress_params(users, courses)).fetchall()
            # DuckDB's tuples already have the CourseRow / UnitRow shapes (column order of the queries)
            return ProgressRows(courses=course_rows, units=unit_rows)

        return self._run(work)

    def progress_json(self, group_id: str, courses: Sequence[CourseHierarchy],
                      user_ids: Sequence[str]) -> bytes:
        """One statement computes every entry with activity (query_api/store/duckdb_report.py)."""
        statement = ReportStatement.for_report(courses, user_ids)
        if statement.empty:
            return statement.assemble(group_id, [])
        return self._run(lambda cursor: statement.answer(cursor, group_id))

    def replace_course_leaves(self, course: CourseHierarchy) -> None:
        def work(cursor: duckdb.DuckDBPyConnection) -> None:
            with STATE_WRITE_LOCK:
                replace(cursor)

        def replace(cursor: duckdb.DuckDBPyConnection) -> None:
            cursor.execute("BEGIN TRANSACTION")
            try:
                cursor.execute(_DELETE_COURSE_LEAVES, [course.course_id])
                cursor.execute(_DELETE_UNIT_LEAVES, [course.course_id])
                if course.leaf_ids:
                    cursor.execute(_INSERT_COURSE_LEAVES, [course.course_id, sorted(course.leaf_ids)])
                for unit_id, leaf_ids in _unit_leaves(course).items():
                    cursor.execute(_INSERT_UNIT_LEAVES, [course.course_id, unit_id, leaf_ids])
                cursor.execute(_DELETE_PLAN, [course.course_id])
                cursor.execute(_INSERT_PLAN, plan_row(course))
                refresh_course(cursor, course.course_id)  # the counts and cells follow the current hierarchy
                cursor.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):  # keep the original error, not the rollback's
                    cursor.execute("ROLLBACK")
                raise

        self._run(work)

    def stale_courses(self, courses: Sequence[CourseHierarchy]) -> list[str]:
        wanted = {course.course_id: course for course in courses}
        if not wanted:
            return []
        held = self._select(_HELD_LEAVES, [list(wanted)])
        return [str(course_id) for course_id, signature, leaves, units in held
                if (signature, leaves or [], units or []) != _expected_leaves(wanted[str(course_id)])]

    def ping(self) -> None:
        self._run(lambda cursor: cursor.execute(queries.PING_SQL).fetchall())

    def _select(self, sql: str, params: list[object]) -> list[Sequence[object]]:
        return self._run(lambda cursor: cursor.execute(sql, params).fetchall())


def _unit_leaves(course: CourseHierarchy) -> dict[str, list[str]]:
    """The reported units' sorted leaves by unit id, each unit once (a hierarchy may repeat a unit id; the
    parser gives every copy the same leaves), units without leaves left out: unit_leaves' rows."""
    return {u.unit_id: sorted(u.leaf_ids) for u in sorted(course.reported_units, key=lambda u: u.unit_id)
            if u.leaf_ids}


def _expected_leaves(course: CourseHierarchy) -> tuple[str, list[str], list[dict[str, object]]]:
    """`_HELD_LEAVES`'s columns as `replace_course_leaves` writes them for `course`."""
    units = [{"u": unit_id, "l": leaves} for unit_id, leaves in _unit_leaves(course).items()]
    return plan_signature(course), sorted(course.leaf_ids), units
