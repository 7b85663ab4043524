"""The DuckDB adapter's Progress Report: the JSON text of every course entry with activity, as UTF-8 bytes from
DuckDB; Python only puts them in place in the answer's parts and joins.

Usually one small statement reads it as is (`kept_sql`): the writers keep each cell's text in course_best,
rendered with the course's plan (course_plan: the pieces of text that come from the hierarchy, written by
`replace_course_leaves` with the leaves; `plan_row`). It applies when the caller's hierarchy has the same plan
(`plan_signature`: ids and leaf counts in report order); a cell of any other course comes back NULL and
`ReportStatement.answer` runs the full statement (`report_sql`), which computes the text from the kept counts
with the caller's plan (a hierarchy newer than the store's, an unknown course).

Why not the shared two statements (queries.py) plus the Python writer: at 1,000 members x 20 courses those
scan content_state twice and group on four string keys, then Python picks best batches and formats ~20k
course and ~100k unit entries; that assembly cost as much again as the SQL. Here nothing is counted and no
best batch is chosen at read time: course_best holds, per (learner, course) with activity, the best batch
(most completed current leaves, then latest activity, then smallest batch id) with its counts and the latest
activity over all batches, kept by every writer (ingestion/sinks/duckdb_state.py). The cell's text has one
definition in SQL, `duckdb_state.entry_sql`: the writers render it with the store's plan, the full statement
with the caller's.

Same rules as `compute.build_report` (percent, best batch and its tie-breaks, units from the best batch and
capped at the unit's size, lastActivity over all batches); a property test holds the bytes equal to
`json_writer.report_json` over the shared SQL's rows. The catalog side (names, leaf counts, unit order) comes
from the hierarchies, written by Python's JSON encoder (`plan_row`); batch ids are escaped in SQL exactly as
`json.dumps` does.

Members, courses and the plans travel as list parameters (`unnest($users)`): never in the SQL text, and one
bound value instead of a thousand placeholders.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import duckdb

from ingestion.hierarchy import CourseHierarchy
from ingestion.sinks.duckdb_state import entry_sql
from query_api.progress.json_writer import (
    MEMBER_END,
    REPORT_END,
    course_head,
    idle_entry,
    member_head,
    report_head,
    unit_head,
)
from query_api.store.base import StoreUnavailable


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


_PLAN_UNITS_TYPE = "STRUCT(id VARCHAR, head VARCHAR, tail VARCHAR, leaves INTEGER)[][]"


def report_sql() -> str:
    """The full statement: every cell's text, the kept text where the store's plan is the caller's, else
    rendered from the kept counts with the caller's plan by the writers' own SQL (`entry_sql`), so the text
    has one definition in SQL. Parameters: `ReportStatement.params`."""
    return f"""
WITH
members AS (SELECT unnest($users) AS user_id, CAST(unnest(range(len($users))) AS INTEGER) AS uo),
courses AS (
    SELECT c.*, p.course_id IS NOT NULL AS planned
    FROM (SELECT unnest($courses) AS course_id, CAST(unnest(range(len($courses))) AS INTEGER) AS ci,
                 unnest($plan_signatures) AS signature, unnest($plan_heads) AS head,
                 unnest($plan_tails) AS tail, unnest($plan_leaves) AS leaves,
                 unnest($plan_units::{_PLAN_UNITS_TYPE}) AS units) c
    LEFT JOIN course_plan p ON p.course_id = c.course_id AND p.signature = c.signature),
slots AS (SELECT unnest($slots) AS ci, CAST(unnest(range(len($slots))) AS INTEGER) AS slot)
SELECT CAST(m.uo AS BIGINT) * $stride + s.slot + 2 AS part,
       encode(concat(CASE WHEN s.slot > 0 THEN ',' ELSE '' END,
                     CASE WHEN c.planned AND b.entry IS NOT NULL THEN b.entry ELSE {entry_sql("b", "c")} END)) AS entry
FROM course_best b
JOIN members m ON m.user_id = b.user_id
JOIN courses c ON c.course_id = b.course_id
JOIN slots s ON s.ci = c.ci
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
_KEPT_PARAMS = ("users", "courses", "plan_signatures", "slots", "stride")
_REPORT_SQL = report_sql()


@functools.lru_cache(maxsize=100_000)
def _member_opening(user_id: str, after_another: bool) -> bytes:
    """A member's opening in the answer (closing the member before it), as bytes: the same learners come back
    report after report, and encoding a thousand of them was a fifth of the Python side of an answer."""
    return ((MEMBER_END + "," if after_another else "") + member_head(user_id)).encode()


class ReportStatement:
    """The statement and parameters for these members (any order, repeats allowed) and courses (the report's
    order; a repeated course is read once). Immutable once built: `for_report` hands the same one to the
    same group's next report."""

    def __init__(self, courses: Sequence[CourseHierarchy], user_ids: Sequence[str]) -> None:
        self.courses = list(courses)
        self.members = sorted(set(user_ids))
        first: dict[str, CourseHierarchy] = {}
        for course in self.courses:
            first.setdefault(course.course_id, course)
        self.course_index = {course_id: i for i, course_id in enumerate(first)}
        plans = [plan_row(c) for c in first.values()]  # the caller's plan, as course_plan holds the store's
        params: dict[str, Any] = {"users": self.members, "courses": list(first),
                                  "plan_signatures": [p[1] for p in plans], "plan_heads": [p[2] for p in plans],
                                  "plan_tails": [p[3] for p in plans], "plan_leaves": [p[4] for p in plans],
                                  "plan_units": [p[5] for p in plans],
                                  "slots": [self.course_index[c.course_id] for c in self.courses],
                                  "stride": len(self.courses) + 1}
        self.sql = _REPORT_SQL
        self.params = params
        self._kept_params = {name: params[name] for name in _KEPT_PARAMS}
        self._template: list[bytes] | None = None

    @classmethod
    def for_report(cls, courses: Sequence[CourseHierarchy], user_ids: Sequence[str]) -> ReportStatement:
        """The statement for these courses and members, reused while they stay the same: a group's report is
        asked again and again, and building the parameters and the answer's template is ~2 ms of Python.
        Keyed by the course objects' identity (a republished course is parsed into a new object, see
        plugins/progress_report/report.py: hierarchies), which the cached statement keeps alive, so an id
        cannot be reused while its entry exists."""
        if len(user_ids) < _CACHE_FROM_MEMBERS:  # cheap to build; a learner's own view would crowd out groups
            return cls(courses, user_ids)
        key = (tuple(map(id, courses)), tuple(user_ids))
        with _STATEMENTS_LOCK:
            statement = _STATEMENTS.get(key)
            if statement is not None:
                _STATEMENTS.move_to_end(key)
                return statement
        statement = cls(courses, user_ids)
        with _STATEMENTS_LOCK:
            _STATEMENTS[key] = statement
            while len(_STATEMENTS) > _STATEMENTS_MAX:
                _STATEMENTS.popitem(last=False)
        return statement

    def kept_rows(self, cursor: duckdb.DuckDBPyConnection) -> list[tuple[int, bytes | None]]:
        """The kept cells (`kept_sql`); an entry is None where the store's plan is not the caller's."""
        return cursor.execute(_KEPT_SQL, self._kept_params).fetchall()

    def full_rows(self, cursor: duckdb.DuckDBPyConnection) -> list[tuple[int, bytes]]:
        """Every cell's text, computed with the caller's plan where the store's differs (`report_sql`)."""
        return cursor.execute(self.sql, self.params).fetchall()

    def answer(self, cursor: duckdb.DuckDBPyConnection, group_id: str) -> bytes:
        """The report's JSON: the kept cells, or -- when one of them is missing (another plan) -- the full
        statement's. The check costs nothing on the common path: the join of the answer's parts meets the
        missing cell (None) and fails, which a scan of 20k entries beforehand would have cost ~3 ms."""
        try:
            return self.assemble(group_id, self.kept_rows(cursor))  # type: ignore[arg-type]
        except _MissingCell:
            pass
        try:
            return self.assemble(group_id, self.full_rows(cursor))
        except _MissingCell as error:  # the full statement renders every cell; a NULL here is a store fault
            raise StoreUnavailable("the analytics store returned a report cell without text") from error

    @property
    def empty(self) -> bool:
        """Nothing to read: no members or no courses."""
        return not self.members or not self.course_index

    def assemble(self, group_id: str, rows: Sequence[tuple[int, bytes]]) -> bytes:
        """The report's JSON from the statement's rows: (part, entry bytes) where `part` is the entry's index
        in the answer's parts. Per member the parts are its opening and one entry per course (the statement
        writes the comma before every entry but the first), so the answer is one join of one list: building
        intermediate copies of a ~9 MB answer (per member, then str, then bytes) cost more than the join.
        Raises _MissingCell when an entry is None."""
        parts = list(self._parts_template())
        parts[0] = report_head(group_id, self.courses).encode()
        for part, entry in rows:
            parts[part] = entry
        try:
            return b"".join(parts)
        except TypeError as error:  # only a None entry can be there: every other part is bytes
            raise _MissingCell from error

    def _parts_template(self) -> list[bytes]:
        """The answer's parts with every cell idle: the head (replaced per answer), per member its opening
        and one idle entry per course, and the end."""
        template = self._template
        if template is None:
            idle = [(("," if slot else "") + idle_entry(c)).encode() for slot, c in enumerate(self.courses)]
            template = [b""]
            for m, user_id in enumerate(self.members):
                template.append(_member_opening(user_id, m > 0))
                template.extend(idle)
            template.append(((MEMBER_END if self.members else "") + REPORT_END).encode())
            self._template = template
        return template


class _MissingCell(Exception):
    """A kept cell is missing (NULL): the store's plan for its course is not the caller's."""


_STATEMENTS: OrderedDict[tuple[tuple[int, ...], tuple[str, ...]], ReportStatement] = OrderedDict()
_STATEMENTS_MAX = 64
_CACHE_FROM_MEMBERS = 50
_STATEMENTS_LOCK = threading.Lock()
