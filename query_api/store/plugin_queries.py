"""The group plugins' analytics SQL (leaderboard, gradebook, subgroup rules, activity-stream milestones), in the
subset that both Druid SQL and DuckDB run -- the same rules as `queries.py`:

- relation names come from each adapter's allow-list (`PluginRelation` here, `Relation` there), never from
  callers; every value is a `?` parameter, an IN-list one `?` per value;
- plain SELECT / INNER JOIN on equalities / GROUP BY / MAX / MIN / COUNT(DISTINCT): no window functions.
  "Best attempt" (highest score, ties to the latest attempt) is therefore two joins over grouped
  subqueries instead of ROW_NUMBER(); COUNT(DISTINCT) is exact (the Druid adapter turns approximation off).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import NamedTuple

from query_api.store.queries import Relation, placeholders


class PluginRelation(StrEnum):
    """Logical relations over the enriched events, mapped by each adapter (DuckDB reads `ets`, Druid `__time`)."""

    ASSESSMENT_ATTEMPTS = "assessment_attempts"  # user_id, batch_id, course_id, content_id, attempt_id, score,
    #                                               max_score, ets: one row per LPA_ASSESSMENT fact
    LEAF_COMPLETIONS = "leaf_completions"  # user_id, batch_id, course_id, content_id, first_ets: first status 2


RelationText = Mapping[Relation | PluginRelation, str]


class BestAttemptRow(NamedTuple):
    """A learner's best attempt at one assessment content in one course (highest score; ties: latest)."""

    user_id: str
    course_id: str
    content_id: str
    best_score: float
    max_score: float
    attempts: int  # distinct attempt ids
    attempt_id: str
    ets: int  # time of the best attempt (epoch ms)


class CourseCompletionRow(NamedTuple):
    """Completed current leaves of a course in one batch, and when the last of them was first completed."""

    user_id: str
    batch_id: str
    course_id: str
    completed: int
    completed_ets: int


def _relation(relations: RelationText, name: Relation | PluginRelation) -> str:
    try:
        return relations[name]
    except KeyError:
        raise ValueError(f"the adapter maps no relation for {name.value}") from None


def _in(column: str, values: Sequence[str] | None) -> tuple[str, list[str]]:
    """` AND column IN (?, ...)` with its parameters; nothing when `values` is None (no filter)."""
    if values is None:
        return "", []
    return f" AND {column} IN ({placeholders(len(values))})", list(values)


def attempt_filter(user_ids: Sequence[str], content_ids: Sequence[str] | None, course_ids: Sequence[str] | None,
                   batch_ids: Sequence[str] | None) -> tuple[str, list[str]]:
    where, params = f"user_id IN ({placeholders(len(user_ids))})", list(user_ids)
    for column, values in (("content_id", content_ids), ("course_id", course_ids), ("batch_id", batch_ids)):
        clause, more = _in(column, values)
        where, params = where + clause, params + more
    return where, params


def best_attempts_sql(relations: RelationText, where: str) -> str:
    """Per (learner, course, content): best score, attempt count, and the best attempt's id, max score and time.
    `where` comes from `attempt_filter` (column names only; values are its parameters, given three times)."""
    attempts = _relation(relations, PluginRelation.ASSESSMENT_ATTEMPTS)
    return f"""
SELECT b.user_id, b.course_id, b.content_id, b.best_score, MAX(r.max_score) AS max_score, b.attempts,
       MAX(r.attempt_id) AS attempt_id, t.best_ets
FROM (
    SELECT user_id, course_id, content_id, MAX(score) AS best_score, COUNT(DISTINCT attempt_id) AS attempts
    FROM {attempts} a0 WHERE {where}
    GROUP BY user_id, course_id, content_id
) b
INNER JOIN (
    SELECT user_id, course_id, content_id, score, MAX(ets) AS best_ets
    FROM {attempts} a1 WHERE {where}
    GROUP BY user_id, course_id, content_id, score
) t ON t.user_id = b.user_id AND t.course_id = b.course_id AND t.content_id = b.content_id
   AND t.score = b.best_score
INNER JOIN (
    SELECT user_id, course_id, content_id, score, ets, attempt_id, max_score
    FROM {attempts} a2 WHERE {where}
) r ON r.user_id = t.user_id AND r.course_id = t.course_id AND r.content_id = t.content_id
   AND r.score = t.score AND r.ets = t.best_ets
GROUP BY b.user_id, b.course_id, b.content_id, b.best_score, b.attempts, t.best_ets
"""


def best_attempts_params(params: list[str]) -> list[str]:
    return [*params, *params, *params]


def course_completions_sql(relations: RelationText, n_users: int, n_courses: int) -> str:
    """Per (learner, batch, course): completed current leaves and the latest of their first completions (the
    moment the course became complete when `completed` equals its leaf count). Parameters: users, courses."""
    completions = _relation(relations, PluginRelation.LEAF_COMPLETIONS)
    leaves = _relation(relations, Relation.COURSE_LEAVES)
    return f"""
SELECT c.user_id, c.batch_id, c.course_id, COUNT(*) AS completed, MAX(c.first_ets) AS completed_ets
FROM {completions} c
INNER JOIN {leaves} l ON l.course_id = c.course_id AND l.leaf_id = c.content_id
WHERE c.user_id IN ({placeholders(n_users)}) AND c.course_id IN ({placeholders(n_courses)})
GROUP BY c.user_id, c.batch_id, c.course_id
"""


def last_activity_sql(relations: RelationText, n_users: int, n_courses: int | None) -> str:
    """Per learner: the latest content-state activity (any batch; only these courses when n_courses is given).
    Parameters: users[, courses]."""
    activity = _relation(relations, Relation.COURSE_ACTIVITY)
    courses = "" if n_courses is None else f" AND a.course_id IN ({placeholders(n_courses)})"
    return f"""
SELECT a.user_id, MAX(a.last_ets) AS last_ets
FROM {activity} a
WHERE a.user_id IN ({placeholders(n_users)}){courses}
GROUP BY a.user_id
"""


class PluginQueries:
    """The plugin reads of `AnalyticsStore`, over an adapter's `_select` (run one shared query, return tuples)
    and its `plugin_relations` allow-list. Adapters mix it in; only those two differ per engine."""

    plugin_relations: RelationText

    def _select(self, sql: str, params: list[object]) -> list[Sequence[object]]:
        raise NotImplementedError

    def best_attempts(self, user_ids: Sequence[str], content_ids: Sequence[str] | None = None,
                      course_ids: Sequence[str] | None = None,
                      batch_ids: Sequence[str] | None = None) -> list[BestAttemptRow]:
        users = list(dict.fromkeys(user_ids))
        filters = [None if v is None else list(dict.fromkeys(v)) for v in (content_ids, course_ids, batch_ids)]
        if not users or any(f == [] for f in filters):
            return []
        where, params = attempt_filter(users, *filters)
        rows = self._select(best_attempts_sql(self.plugin_relations, where), list(best_attempts_params(params)))
        return [BestAttemptRow(str(u), str(c), str(x), float(best), float(top), int(n), str(a), int(ets))  # type: ignore[arg-type]
                for u, c, x, best, top, n, a, ets in rows]

    def course_completions(self, user_ids: Sequence[str], course_ids: Sequence[str]) -> list[CourseCompletionRow]:
        users, courses = list(dict.fromkeys(user_ids)), list(dict.fromkeys(course_ids))
        if not users or not courses:
            return []
        rows = self._select(course_completions_sql(self.plugin_relations, len(users), len(courses)),
                            [*users, *courses])
        return [CourseCompletionRow(str(u), str(b), str(c), int(n), int(ets))  # type: ignore[arg-type]
                for u, b, c, n, ets in rows]

    def last_activity(self, user_ids: Sequence[str], course_ids: Sequence[str] | None = None) -> dict[str, int]:
        users = list(dict.fromkeys(user_ids))
        courses = None if course_ids is None else list(dict.fromkeys(course_ids))
        if not users or courses == []:
            return {}
        sql = last_activity_sql(self.plugin_relations, len(users), None if courses is None else len(courses))
        rows = self._select(sql, [*users, *(courses or [])])
        return {str(u): int(ets) for u, ets in rows}  # type: ignore[call-overload]
