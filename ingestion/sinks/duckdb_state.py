"""The embedded store's materialisations of enriched rows, defined once for every writer: the stream's sink,
the backfill load, the catalog's republish and the test fixtures.

- content_state: max status per (learner, batch, course, content);
- course_activity: first/last activity per (learner, batch, course);
- course_completion: per (learner, batch, course) with a completed content, how many of the course's
  *current* non-optional leaves are completed, and the same per reported unit (a MAP unit id -> count);
- course_best: per (learner, course) with activity, the progress report's cell: the best batch with its
  counts, the latest activity over all batches, and the cell's JSON text for the course's plan (`entry`;
  course_plan holds the pieces of text that come from the hierarchy, written with the leaves).

Why course_completion: the progress report needs these counts for every member x course x batch. Counting
them at read time scans the members' content_state rows and groups them by four strings, which was most of
the report's time (~240 k rows for 1,000 members x 20 courses). The counts only change when a content
reaches status 2 or when the course's leaves change, so writers keep them:

- a writer folding rows recounts the (learner, batch, course) keys of its status-2 rows, after its
  content_state upsert, in the same transaction (`materialise`): their rows are deleted and inserted again.
  Neither table has a primary key on purpose: replacing rows with a MAP column through an ART index cost
  ~4x more (measured at 48 k keys, 18 k replaced: ~550 ms against ~150 ms); the writers' turns below keep
  the keys unique;
- then it recomputes the course_best rows of the (learner, course) pairs of all its content-state rows (any
  activity can change the best batch or lastActivity): a scan of the small course_activity and
  course_completion tables, not of content_state;
- a republish (course_leaves / unit_leaves replaced) recomputes the whole course (`refresh_course`).

Invariants (tests/unit/test_duckdb_state.py): course_completion holds exactly one row per (learner, batch,
course) that has a status-2 row in content_state, course_best one per (learner, course) in course_activity,
each with what a full recomputation gives.

Writers hold STATE_WRITE_LOCK for their transaction. DuckDB's optimistic concurrency catches two writers
updating one row, but not a sink inserting a *new* key counted against the old leaves while a republish
recomputes the course from a snapshot without it (write skew). DuckDB lets one process write a file, so an
in-process lock orders every writer of a store.
"""

from __future__ import annotations

import threading

import duckdb

from ingestion.sinks.duckdb_schema import upsert_content_state_sql, upsert_course_activity_sql
from ingestion.sinks.json_sql import json_string_sql

STATE_WRITE_LOCK = threading.Lock()


def insert_completion_sql(keys_sql: str) -> str:
    """Counts for the distinct (user_id, batch_id, course_id) of `keys_sql` (internal SQL, never input; it may
    hold `?` placeholders), inserted: the caller deletes those keys' rows first. A leaf under two units
    counts in each, once in the course; contents that are not current non-optional leaves count nowhere."""
    return f"""INSERT INTO course_completion
WITH k AS (SELECT DISTINCT user_id, batch_id, course_id FROM ({keys_sql})),
done AS (SELECT s.user_id, s.batch_id, s.course_id, s.content_id FROM content_state s
         SEMI JOIN k ON k.user_id = s.user_id AND k.batch_id = s.batch_id AND k.course_id = s.course_id
         WHERE s.status = 2),
c AS (SELECT d.user_id, d.batch_id, d.course_id, count(*) AS n FROM done d
      JOIN course_leaves l ON l.course_id = d.course_id AND l.leaf_id = d.content_id
      GROUP BY d.user_id, d.batch_id, d.course_id),
u AS (SELECT d.user_id, d.batch_id, d.course_id, l.unit_id, count(*) AS n FROM done d
      JOIN unit_leaves l ON l.course_id = d.course_id AND l.leaf_id = d.content_id
      GROUP BY d.user_id, d.batch_id, d.course_id, l.unit_id),
um AS (SELECT user_id, batch_id, course_id, map(list(unit_id), list(CAST(n AS INTEGER))) AS units FROM u
       GROUP BY user_id, batch_id, course_id)
SELECT k.user_id, k.batch_id, k.course_id, CAST(COALESCE(c.n, 0) AS INTEGER), COALESCE(um.units, MAP {{}})
FROM k
LEFT JOIN c ON c.user_id = k.user_id AND c.batch_id = k.batch_id AND c.course_id = k.course_id
LEFT JOIN um ON um.user_id = k.user_id AND um.batch_id = k.batch_id AND um.course_id = k.course_id"""


def delete_completion_sql(keys_sql: str) -> str:
    """Deletes the rows of the (user_id, batch_id, course_id) of `keys_sql` (internal SQL, as above)."""
    return ("DELETE FROM course_completion WHERE (user_id, batch_id, course_id) IN "
            f"(SELECT user_id, batch_id, course_id FROM ({keys_sql}))")  # noqa: S608 - internal SQL


def entry_sql(b: str, p: str) -> str:
    """SQL for a cell's JSON text in the progress report (query_api/progress/json_writer.py writes the same),
    from the cell `b` (course_best's columns) and the course's plan `p` (course_plan: the pieces of text that
    come from the hierarchy, written by Python). Units are capped at their size; percents are
    completed * 100 // leaves, capped at 100, 0 for an empty course or unit."""
    done = f"least(COALESCE(map_extract_value({b}.units, u.id), 0), u.leaves)"
    unit = (f"concat(u.head, {done}, u.tail, "
            f"CASE WHEN u.leaves <= 0 THEN 0 ELSE least(100, {done} * 100 // u.leaves) END, '}}')")
    return (f"concat({p}.head, {json_string_sql(f'{b}.batch_id')}, ',\"completed\":', {b}.completed, {p}.tail, "
            f"CASE WHEN {p}.leaves <= 0 THEN 0 ELSE least(100, {b}.completed * 100 // {p}.leaves) END, "
            f"',\"lastActivity\":\"', strftime(epoch_ms({b}.last_ets), '%Y-%m-%dT%H:%M:%SZ'), '\",\"units\":[', "
            f"array_to_string(list_transform({p}.units, u -> {unit}), ','), ']}}')")


def insert_best_sql(pairs_sql: str) -> str:
    """The report's cell for the distinct (user_id, course_id) of `pairs_sql` (internal SQL, as above), from
    course_activity and course_completion, inserted: the caller deletes those pairs' rows first. The best
    batch has the most completed leaves, then the latest activity, then the smallest batch id (the rules of
    query_api.progress.compute); last_ets is the latest activity over all batches. (A window and QUALIFY:
    ~1/3 cheaper here than arg_min over a struct that carries the MAP.) `entry` is the cell's JSON text for
    the course's current plan, NULL while the store has no plan for the course."""
    return f"""INSERT INTO course_best (user_id, course_id, batch_id, completed, units, last_ets, entry)
SELECT b.user_id, b.course_id, b.batch_id, b.completed, b.units, b.last_ets,
       CASE WHEN p.course_id IS NOT NULL THEN {entry_sql("b", "p")} END
FROM (SELECT a.user_id, a.course_id, a.batch_id, COALESCE(cc.completed, 0) AS completed,
             COALESCE(cc.units, MAP {{}}) AS units,
             max(a.last_ets) OVER (PARTITION BY a.user_id, a.course_id) AS last_ets
      FROM course_activity a
      SEMI JOIN (SELECT DISTINCT user_id, course_id FROM ({pairs_sql})) k
        ON k.user_id = a.user_id AND k.course_id = a.course_id
      LEFT JOIN course_completion cc
        ON cc.user_id = a.user_id AND cc.batch_id = a.batch_id AND cc.course_id = a.course_id
      QUALIFY row_number() OVER (PARTITION BY a.user_id, a.course_id
                                 ORDER BY COALESCE(cc.completed, 0) DESC, a.last_ets DESC, a.batch_id) = 1) b
LEFT JOIN course_plan p ON p.course_id = b.course_id"""


def delete_best_sql(pairs_sql: str) -> str:
    """Deletes the rows of the (user_id, course_id) of `pairs_sql` (internal SQL, as above)."""
    return ("DELETE FROM course_best WHERE (user_id, course_id) IN "
            f"(SELECT user_id, course_id FROM ({pairs_sql}))")  # noqa: S608 - internal SQL


_COURSE_KEYS = "SELECT user_id, batch_id, course_id FROM content_state WHERE course_id = ? AND status = 2"
_INSERT_COURSE = insert_completion_sql(_COURSE_KEYS)
_INSERT_ALL = insert_completion_sql("SELECT user_id, batch_id, course_id FROM content_state WHERE status = 2")
_INSERT_BEST_COURSE = insert_best_sql("SELECT user_id, course_id FROM course_activity WHERE course_id = ?")
_INSERT_BEST_ALL = insert_best_sql("SELECT user_id, course_id FROM course_activity")


def materialise(conn: duckdb.DuckDBPyConnection, source: str) -> None:
    """Folds the enriched rows of relation `source` (an internal name, never input) into the state tables.
    Max/min upserts and a recount: idempotent, so duplicate rows change nothing. Inside the caller's
    transaction, under STATE_WRITE_LOCK."""
    conn.execute(upsert_content_state_sql(
        "SELECT user_id, batch_id, course_id, content_id, max(status) AS status, max(ets) AS last_ets "  # noqa: S608
        f"FROM {source} WHERE eid = 'BE_JOB_REQUEST' AND content_id IS NOT NULL "
        "GROUP BY user_id, batch_id, course_id, content_id"))
    conn.execute(upsert_course_activity_sql(
        "SELECT user_id, batch_id, course_id, max(program_id) AS program_id, min(ets) AS first_ets, "  # noqa: S608
        f"max(ets) AS last_ets FROM {source} WHERE eid = 'BE_JOB_REQUEST' GROUP BY user_id, batch_id, course_id"))
    # Only a status-2 row can change a count (statuses never go down, the leaves did not change).
    keys = (f"SELECT user_id, batch_id, course_id FROM {source} "  # noqa: S608 - internal name
            "WHERE eid = 'BE_JOB_REQUEST' AND content_id IS NOT NULL AND status = 2")
    # Any activity can change a cell: the best batch (counts, then latest activity) and lastActivity.
    pairs = f"SELECT user_id, course_id FROM {source} WHERE eid = 'BE_JOB_REQUEST'"  # noqa: S608 - internal name
    # One call for the four statements: each call hands the GIL back and forth with the enriching thread.
    conn.execute(";\n".join((delete_completion_sql(keys), insert_completion_sql(keys),
                              delete_best_sql(pairs), insert_best_sql(pairs))))


def refresh_course(conn: duckdb.DuckDBPyConnection, course_id: str) -> None:
    """Recounts a course after its leaves were replaced (inside the replacing transaction)."""
    conn.execute("DELETE FROM course_completion WHERE course_id = ?", [course_id])
    conn.execute(_INSERT_COURSE, [course_id])
    conn.execute("DELETE FROM course_best WHERE course_id = ?", [course_id])
    conn.execute(_INSERT_BEST_COURSE, [course_id])


def refresh_all(conn: duckdb.DuckDBPyConnection) -> None:
    """Recounts everything: a store written before course_completion existed, or after a bulk content_state
    write that bypassed `materialise` (benchmark data, test fixtures)."""
    conn.execute("DELETE FROM course_completion")
    conn.execute(_INSERT_ALL)
    conn.execute("DELETE FROM course_best")
    conn.execute(_INSERT_BEST_ALL)


def ensure_completion(conn: duckdb.DuckDBPyConnection) -> None:
    """Fills course_completion and course_best once for a store written by an earlier version (activity but
    no counts or cells yet). Afterwards the invariants keep them."""
    row = conn.execute(
        "SELECT ((SELECT count(*) FROM course_completion) = 0"
        "        AND EXISTS (SELECT 1 FROM content_state WHERE status = 2))"
        " OR ((SELECT count(*) FROM course_best) = 0 AND EXISTS (SELECT 1 FROM course_activity))").fetchone()
    if row and row[0]:
        with STATE_WRITE_LOCK:
            conn.execute("BEGIN TRANSACTION")
            try:
                refresh_all(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
