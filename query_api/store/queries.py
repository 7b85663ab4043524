"""The progress report's SQL, in the subset that both Druid SQL and DuckDB run.

Rules that keep one text for both engines:
- relation names are never caller input: each adapter maps the logical `Relation`s to its own relation text
  (a table name in DuckDB; a table or an aggregating subquery over the enriched datasource in Druid), and
  only those adapter constants reach the SQL;
- every value is a `?` parameter; an IN-list is one `?` per value (`IN (?, ?, ?)`), which both engines
  accept (Druid also takes array parameters, DuckDB `unnest(?)`, but not in the same spelling);
- only plain SELECT / INNER and LEFT JOIN on equalities / GROUP BY / COUNT / COALESCE: no window functions
  (optional in Druid), no engine-specific functions. The best batch is chosen by the caller over the small
  aggregated result (see query_api.progress.compute).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Relation(StrEnum):
    """The logical relations the queries read; columns as in ingestion/sinks/duckdb_schema.py."""

    CONTENT_STATE = "content_state"      # user_id, batch_id, course_id, content_id, status (max ever), last_ets
    COURSE_ACTIVITY = "course_activity"  # user_id, batch_id, course_id, last_ets (over all content-state events)
    COURSE_LEAVES = "course_leaves"      # course_id, leaf_id: the current hierarchy's non-optional leaves
    UNIT_LEAVES = "unit_leaves"          # course_id, unit_id, leaf_id: the same per reported unit


RelationMap = Mapping[Relation, str]


def placeholders(count: int) -> str:
    """`?, ?, ?` for an IN-list of `count` values (an empty IN-list is invalid SQL: callers skip the query)."""
    if count < 1:
        raise ValueError("an IN-list needs at least one value")
    return ", ".join("?" * count)


def _check(relations: RelationMap) -> None:
    missing = [r.value for r in Relation if r not in relations]
    if missing:
        raise ValueError(f"the adapter maps no relation for {', '.join(missing)}")


def course_progress_sql(relations: RelationMap, n_users: int, n_courses: int) -> str:
    """One row per (user, batch, course) with activity: completed current leaves (0 when none) and the
    batch's last activity. Parameters: users, courses, users, courses (see `course_progress_params`)."""
    _check(relations)
    users, courses = placeholders(n_users), placeholders(n_courses)
    return f"""
SELECT a.user_id, a.batch_id, a.course_id, COALESCE(d.completed, 0) AS completed, a.last_ets
FROM {relations[Relation.COURSE_ACTIVITY]} a
LEFT JOIN (
    SELECT s.user_id, s.batch_id, s.course_id, COUNT(*) AS completed
    FROM {relations[Relation.CONTENT_STATE]} s
    INNER JOIN {relations[Relation.COURSE_LEAVES]} l ON l.course_id = s.course_id AND l.leaf_id = s.content_id
    WHERE s.status = 2 AND s.user_id IN ({users}) AND s.course_id IN ({courses})
    GROUP BY s.user_id, s.batch_id, s.course_id
) d ON d.user_id = a.user_id AND d.batch_id = a.batch_id AND d.course_id = a.course_id
WHERE a.user_id IN ({users}) AND a.course_id IN ({courses})
"""


def course_progress_params(user_ids: list[str], course_ids: list[str]) -> list[str]:
    return [*user_ids, *course_ids, *user_ids, *course_ids]


def unit_progress_sql(relations: RelationMap, n_users: int, n_courses: int) -> str:
    """One row per (user, batch, course, unit) with at least one completed current leaf of the unit.
    Parameters: users, courses."""
    _check(relations)
    users, courses = placeholders(n_users), placeholders(n_courses)
    return f"""
SELECT s.user_id, s.batch_id, s.course_id, u.unit_id, COUNT(*) AS completed
FROM {relations[Relation.CONTENT_STATE]} s
INNER JOIN {relations[Relation.UNIT_LEAVES]} u ON u.course_id = s.course_id AND u.leaf_id = s.content_id
WHERE s.status = 2 AND s.user_id IN ({users}) AND s.course_id IN ({courses})
GROUP BY s.user_id, s.batch_id, s.course_id, u.unit_id
"""


def unit_progress_params(user_ids: list[str], course_ids: list[str]) -> list[str]:
    return [*user_ids, *course_ids]


PING_SQL = "SELECT 1"
