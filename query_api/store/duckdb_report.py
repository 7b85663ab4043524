"""The DuckDB adapter's one-statement Progress Report: the figures and the JSON text of every course entry with
activity, computed by DuckDB as UTF-8 bytes; Python only puts them in place in the answer's parts and joins.

Why not the shared two statements (queries.py) plus the Python writer: at 1,000 members x 20 courses those
scan content_state twice and group on four string keys, then Python picks best batches and formats ~20k
course and ~100k unit entries; that assembly cost as much again as the SQL. Here, in one statement:

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

from collections.abc import Sequence
from typing import Any

from ingestion.hierarchy import CourseHierarchy
from query_api.progress.json_writer import (
    MEMBER_END,
    REPORT_END,
    course_head,
    idle_entry,
    member_head,
    report_head,
    unit_head,
)

# json.dumps(ensure_ascii=False) escapes exactly these: '"', '\\' and the control characters below 0x20.
_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_string_sql(expr: str) -> str:
    """SQL for the JSON string literal of the VARCHAR `expr` (a column reference, never input), as
    `json.dumps(value, ensure_ascii=False)` writes it. The replace chain only runs on values that need it."""
    chain = f"replace(replace({expr}, '\\', '\\\\'), '\"', '\\\"')"
    for code in range(0x20):
        escaped = _SHORT_ESCAPES.get(chr(code), f"\\u{code:04x}")
        chain = f"replace({chain}, chr({code}), '{escaped}')"
    return f"""'"' || CASE WHEN regexp_matches({expr}, '[\\x00-\\x1f"\\\\]') THEN {chain} ELSE {expr} END || '"'"""


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
courses AS (SELECT unnest($courses) AS course_id, CAST(unnest(range(len($courses))) AS INTEGER) AS ci,
                   unnest($course_heads) AS head, unnest($course_tails) AS tail,
                   unnest($course_leaves) AS leaves{plan_units}),
best AS (SELECT m.uo, c.ci, b.batch_id, CAST(b.completed AS BIGINT) AS completed, b.last_ets{b_units}
         FROM course_best b
         JOIN members m ON m.user_id = b.user_id
         JOIN courses c ON c.course_id = b.course_id),
combos AS (SELECT DISTINCT b.ci{b_counts} FROM best b),
unit_text AS (SELECT c.ci{c_counts}, {units} AS units FROM combos c JOIN courses d ON d.ci = c.ci)
SELECT CAST(b.uo AS BIGINT) * $stride + s.slot + 2 AS part,
       encode(concat(CASE WHEN s.slot > 0 THEN ',' ELSE '' END, d.head, {json_string_sql('b.batch_id')},
                     ',"completed":', b.completed, d.tail,
                     CASE WHEN d.leaves <= 0 THEN 0 ELSE least(100, b.completed * 100 // d.leaves) END,
                     ',"lastActivity":"', strftime(epoch_ms(b.last_ets), '%Y-%m-%dT%H:%M:%SZ'), '","units":[',
                     t.units, ']}}')) AS entry
FROM best b JOIN courses d ON d.ci = b.ci JOIN unit_text t ON t.ci = b.ci{same_counts}
JOIN (SELECT unnest($slots) AS ci, CAST(unnest(range(len($slots))) AS INTEGER) AS slot) s ON s.ci = b.ci
"""


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
            parts.append(((MEMBER_END + "," if m else "") + member_head(user_id)).encode())
            parts.extend(idle_parts)
        for part, entry in rows:
            parts[part] = entry
        parts.append(((MEMBER_END if self.members else "") + REPORT_END).encode())
        return b"".join(parts)
