"""The DuckDB adapter's Progress Report: the JSON text of every course entry with activity, as UTF-8 bytes from
DuckDB; Python only puts them in place in the answer's parts and joins.

Usually one small statement reads it as is (`kept_sql`): the writers keep each cell's text in course_best,
rendered with the course's plan (course_plan: the pieces of text that come from the hierarchy, written by
`replace_course_leaves` with the leaves; `plan_row`). It applies when the caller's hierarchy has the same plan
(`plan_signature`: ids and leaf counts in report order); a cell of any other course comes back NULL and
`ReportStatement.rows` runs the full statement (`report_sql`), which computes the text from the kept counts
with the caller's plan (a hierarchy newer than the store's, an unknown course).

Why not the shared two statements (queries.py) plus the Python writer: at 1,000 members x 20 courses those
scan content_state twice and group on four string keys, then Python picks best batches and formats ~20k
course and ~100k unit entries; that assembly cost as much again as the SQL. In the full statement:

- course_best: per (learner, course) with activity, the best batch (most completed current leaves, then
  latest activity, then smallest batch id) with its course and unit counts, and the latest activity over
  all batches. Every writer keeps it (ingestion/sinks/duckdb_state.py), so no content_state scan and no
  best-batch choice runs at read time: counting the members' completed rows here (a GROUP BY over ~240 k
  rows on four strings) was ~2/3 of the statement, and choosing the best batch most of the rest;
- the entry text, with the units' text computed once per distinct (course, unit counts) combination; one
  `concat(...)` per text rather than a chain of `||`, which copied the growing string at every step (~15%
  of the statement).

Same rules as `compute.build_report` (percent, best batch and its tie-breaks, units from the best batch and
capped at the unit's size, lastActivity over all batches); a property test holds the bytes equal to
`json_writer.report_json` over the shared SQL's rows. The catalog side (names, leaf counts, unit order) comes
from the caller's hierarchies, as in the Python writer; ids other than batch ids are written by Python's
JSON encoder and passed as parameters; batch ids are escaped in SQL exactly as `json.dumps` does.

Members, courses and the plan travel as list parameters (`unnest($users)`): never in the SQL text, and one
bound value instead of a thousand placeholders. The text depends only on the most units a course has.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import duckdb

from ingestion.hierarchy import CourseHierarchy
from ingestion.sinks.json_sql import json_string_sql
from query_api.progress.json_writer import (
    MEMBER_END,
    REPORT_END,
    course_head,
    idle_entry,
    member_head,
    report_head,
    unit_head,
)


def plan_signature(course: CourseHierarchy) -> str:
    """What the text of a course's cells depends on besides the cell: ids and leaf counts, in report order."""
    shape = [course.course_id, course.leaf_count, [[u.unit_id, u.leaf_count] for u in course.reported_units]]
    return hashlib.sha1(json.dumps(shape, ensure_ascii=False).encode(), usedforsecurity=False).hexdigest()


def plan_row(course: CourseHierarchy) -> list[Any]:
    """course_plan's row for `course`: the pieces of the cells' text that come from the hierarchy, so that the
    writers can keep each cell's text (ingestion/sinks/duckdb_state.py: entry_sql)."""
    units = [{"id": u.unit_id, "head": unit_head(u.unit_id), "tail": f',"leafCount":{u.leaf_count},"percent":',
              "leaves": u.leaf_count} for u in course.reported_units]
    return [course.course_id, plan_signature(course), course_head(course.course_id),
            f',"leafCount":{course.leaf_count},"percent":', course.leaf_count, units]


def report_sql(max_units: int) -> str:
    """The statement for courses of at most `max_units` reported units; parameters: `ReportStatement.params`."""
    k = range(max_units)
    b_units = "".join(f", map_extract_value(b.units, c.uid{i}) AS n{i}" for i in k)
    b_counts = "".join(f", b.n{i}" for i in k)
    c_counts = "".join(f", c.n{i}" for i in k)
    plan_units = "".join(f", unnest($unit_ids_{i}) AS uid{i}, unnest($unit_head_{i}) AS uh{i},"
                         f" unnest($unit_tail_{i}) AS ut{i}, unnest($unit_leaves_{i}) AS ul{i}" for i in k)

    def unit_text(i: int) -> str:
        done = f"least(COALESCE(c.n{i}, 0), d.ul{i})"  # capped at the unit's size, as compute.build_report
        return (f"CASE WHEN d.uh{i} IS NOT NULL THEN concat(d.uh{i}, {done}, d.ut{i}, "
                f"CASE WHEN d.ul{i} <= 0 THEN 0 ELSE least(100, {done} * 100 // d.ul{i}) END, '}}') END")

    units = f"concat_ws(',', {', '.join(unit_text(i) for i in k)})" if max_units else "''"
    same_counts = "".join(f" AND t.n{i} IS NOT DISTINCT FROM b.n{i}" for i in k)
    return f"""
WITH
members AS (SELECT unnest($users) AS user_id, CAST(unnest(range(len($users))) AS INTEGER) AS uo),
courses AS (
    SELECT c.*, p.course_id IS NOT NULL AS planned
    FROM (SELECT unnest($courses) AS course_id, CAST(unnest(range(len($courses))) AS INTEGER) AS ci,
                 unnest($plan_signatures) AS signature, unnest($course_heads) AS head,
                 unnest($course_tails) AS tail, unnest($course_leaves) AS leaves{plan_units}) c
    LEFT JOIN course_plan p ON p.course_id = c.course_id AND p.signature = c.signature),
slots AS (SELECT unnest($slots) AS ci, CAST(unnest(range(len($slots))) AS INTEGER) AS slot),
cells AS (SELECT m.uo, c.ci, c.planned AND b.entry IS NOT NULL AS kept, b.batch_id, b.completed, b.units,
                 b.last_ets, b.entry
          FROM course_best b
          JOIN members m ON m.user_id = b.user_id
          JOIN courses c ON c.course_id = b.course_id),
best AS (SELECT b.uo, b.ci, b.batch_id, CAST(b.completed AS BIGINT) AS completed, b.last_ets{b_units}
         FROM cells b JOIN courses c ON c.ci = b.ci
         WHERE NOT b.kept),
combos AS (SELECT DISTINCT b.ci{b_counts} FROM best b),
unit_text AS (SELECT c.ci{c_counts}, {units} AS units FROM combos c JOIN courses d ON d.ci = c.ci)
SELECT CAST(b.uo AS BIGINT) * $stride + s.slot + 2 AS part,
       encode(concat(CASE WHEN s.slot > 0 THEN ',' ELSE '' END, b.entry)) AS entry
FROM cells b JOIN slots s ON s.ci = b.ci
WHERE b.kept
UNION ALL
SELECT CAST(b.uo AS BIGINT) * $stride + s.slot + 2 AS part,
       encode(concat(CASE WHEN s.slot > 0 THEN ',' ELSE '' END, d.head, {json_string_sql('b.batch_id')},
                     ',"completed":', b.completed, d.tail,
                     CASE WHEN d.leaves <= 0 THEN 0 ELSE least(100, b.completed * 100 // d.leaves) END,
                     ',"lastActivity":"', strftime(epoch_ms(b.last_ets), '%Y-%m-%dT%H:%M:%SZ'), '","units":[',
                     t.units, ']}}')) AS entry
FROM best b JOIN courses d ON d.ci = b.ci JOIN unit_text t ON t.ci = b.ci{same_counts}
JOIN slots s ON s.ci = b.ci
"""


def kept_sql() -> str:
    """The statement when the store keeps every cell's text for the caller's hierarchies (course_plan's
    signatures match): the cells as they are. A cell of a course whose plan differs comes back NULL, and the
    caller runs the full statement instead. Parameters: a subset of `ReportStatement.params`."""
    return """
WITH
members AS (SELECT unnest($users) AS user_id, CAST(unnest(range(len($users))) AS INTEGER) AS uo),
courses AS (
    SELECT c.ci, c.course_id, p.course_id IS NOT NULL AS planned
    FROM (SELECT unnest($courses) AS course_id, CAST(unnest(range(len($courses))) AS INTEGER) AS ci,
                 unnest($plan_signatures) AS signature) c
    LEFT JOIN course_plan p ON p.course_id = c.course_id AND p.signature = c.signature),
slots AS (SELECT unnest($slots) AS ci, CAST(unnest(range(len($slots))) AS INTEGER) AS slot)
SELECT CAST(m.uo AS BIGINT) * $stride + s.slot + 2 AS part,
       CASE WHEN c.planned THEN encode(concat(CASE WHEN s.slot > 0 THEN ',' ELSE '' END, b.entry)) END AS entry
FROM course_best b
JOIN members m ON m.user_id = b.user_id
JOIN courses c ON c.course_id = b.course_id
JOIN slots s ON s.ci = c.ci
"""


_KEPT_SQL = kept_sql()


@functools.lru_cache(maxsize=100_000)
def _member_opening(user_id: str, after_another: bool) -> bytes:
    """A member's opening in the answer (closing the member before it), as bytes: the same learners come back
    report after report, and encoding a thousand of them was a fifth of the Python side of an answer."""
    return ((MEMBER_END + "," if after_another else "") + member_head(user_id)).encode()
_KEPT_PARAMS = ("users", "courses", "plan_signatures", "slots", "stride")


class ReportStatement:
    """The statement and parameters for these members (any order, repeats allowed) and courses (the report's
    order; a repeated course is read once)."""

    def __init__(self, courses: Sequence[CourseHierarchy], user_ids: Sequence[str]) -> None:
        self.courses = list(courses)
        self.members = sorted(set(user_ids))
        first: dict[str, CourseHierarchy] = {}
        for course in self.courses:
            first.setdefault(course.course_id, course)
        self.course_index = {course_id: i for i, course_id in enumerate(first)}
        max_units = max((len(c.reported_units) for c in first.values()), default=0)
        params: dict[str, Any] = {"users": self.members, "courses": list(first),
                                  "plan_signatures": [plan_signature(c) for c in first.values()],
                                  "course_heads": [course_head(cid) for cid in first],
                                  "course_tails": [f',"leafCount":{c.leaf_count},"percent":' for c in first.values()],
                                  "course_leaves": [c.leaf_count for c in first.values()]}
        for pos in range(max_units):
            # Per unit position, one value per course (NULL where the course has fewer units).
            units = [c.reported_units[pos] if pos < len(c.reported_units) else None for c in first.values()]
            params[f"unit_ids_{pos}"] = [u.unit_id if u else None for u in units]
            params[f"unit_head_{pos}"] = [unit_head(u.unit_id) if u else None for u in units]
            params[f"unit_tail_{pos}"] = [f',"leafCount":{u.leaf_count},"percent":' if u else None for u in units]
            params[f"unit_leaves_{pos}"] = [u.leaf_count if u else None for u in units]
        params["slots"] = [self.course_index[c.course_id] for c in self.courses]
        params["stride"] = len(self.courses) + 1
        self.sql = report_sql(max_units)
        self.params = params

    def rows(self, cursor: duckdb.DuckDBPyConnection) -> list[tuple[int, bytes]]:
        """The entries, as `assemble` takes them: the kept cells when the store has them all for these
        hierarchies (the common case), else the full statement, which computes the text of cells whose
        course plan differs from the caller's (a hierarchy newer than the store's, an unknown course)."""
        kept = cursor.execute(_KEPT_SQL, {name: self.params[name] for name in _KEPT_PARAMS}).fetchall()
        if all(entry is not None for _, entry in kept):
            return kept
        return cursor.execute(self.sql, self.params).fetchall()

    @property
    def empty(self) -> bool:
        """Nothing to read: no members or no courses."""
        return not self.members or not self.course_index

    def assemble(self, group_id: str, rows: Sequence[tuple[int, bytes]]) -> bytes:
        """The report's JSON from the statement's rows: (part, entry bytes) where `part` is the entry's index
        in the answer's parts. Per member the parts are its opening and one entry per course (the statement
        writes the comma before every entry but the first), so the answer is one join of one list: building
        intermediate copies of a ~9 MB answer (per member, then str, then bytes) cost more than the join."""
        idle = [("," if slot else "") + idle_entry(c) for slot, c in enumerate(self.courses)]
        parts: list[bytes] = [report_head(group_id, self.courses).encode()]
        idle_parts = [text.encode() for text in idle]
        for m, user_id in enumerate(self.members):
            parts.append(_member_opening(user_id, m > 0))
            parts.extend(idle_parts)
        for part, entry in rows:
            parts[part] = entry
        parts.append(((MEMBER_END if self.members else "") + REPORT_END).encode())
        return b"".join(parts)
