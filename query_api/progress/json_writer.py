"""The section 6 report written straight to JSON text, for the unfiltered REST answer.

Why a second writer next to `compute.build_report`: a report for 1,000 members x 20 courses has ~20k course
entries and ~100k unit entries. Building them as dicts and then serialising costs about as much as the SQL
itself; here every fragment that repeats (a unit at n completed leaves, a course entry with no activity, a
batch id) is serialised once and the text is joined. Same figures, same rules: both writers share
`best_batches`, `unit_completions`, `percent` and `iso_utc`, and a property test holds
`json.loads(report_json(...)) == build_report(...)` for arbitrary rows and hierarchies.

The DuckDB adapter writes the same text in SQL (query_api/store/duckdb_report.py) and reuses the fragments
here (`json_str`, `course_head`, `unit_head`, `idle_entry`); a property test holds its bytes equal to
`report_json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ingestion.hierarchy import CourseHierarchy
from query_api.progress.compute import best_batches, course_info, iso_utc, percent, unit_completions
from query_api.store.base import ProgressRows


def json_str(value: str) -> str:
    """A JSON string literal exactly as the report writes it (UTF-8 kept, no ASCII escapes)."""
    return json.dumps(value, ensure_ascii=False)


_s = json_str


def course_head(course_id: str) -> str:
    return '{"courseId":' + _s(course_id) + ',"batchId":'


def unit_head(unit_id: str) -> str:
    return '{"unitId":' + _s(unit_id) + ',"completed":'


def _unit_fragments(unit_id: str, leaf_count: int) -> list[str]:
    """The unit's JSON at every possible completed count (0..leafCount)."""
    head = unit_head(unit_id)
    return [f'{head}{n},"leafCount":{leaf_count},"percent":{percent(n, leaf_count)}}}' for n in range(leaf_count + 1)]


def idle_entry(course: CourseHierarchy) -> str:
    """The entry of a member with no activity in the course."""
    units = ",".join(_unit_fragments(u.unit_id, u.leaf_count)[0] for u in course.reported_units)
    return (f'{course_head(course.course_id)}null,"completed":0,"leafCount":{course.leaf_count},"percent":0,'
            f'"lastActivity":null,"units":[{units}]}}')


def report_head(group_id: str, courses: Sequence[CourseHierarchy]) -> str:
    """The report's text up to its first member: group id, the courses' catalog side, the members' opening."""
    course_text = json.dumps([course_info(c) for c in courses], ensure_ascii=False, separators=(",", ":"))
    return '{"groupId":' + _s(group_id) + ',"courses":' + course_text + ',"members":['


def member_head(user_id: str) -> str:
    """A member's text up to its first course entry."""
    return '{"userId":' + _s(user_id) + ',"courses":['


MEMBER_END = "]}"  # after a member's last course entry
REPORT_END = "]}"  # after the last member


def assemble(group_id: str, courses: Sequence[CourseHierarchy], members: Sequence[str],
             member_courses: Iterable[list[str]]) -> bytes:
    """The report's text. `members` are sorted and distinct; `member_courses` yields, per member in that
    order, the entry texts of `courses` in order (`idle_entry` where the member has no activity)."""
    parts = [report_head(group_id, courses)]
    add = parts.extend
    for user_id, texts in zip(members, member_courses, strict=True):
        add((member_head(user_id), ",".join(texts), MEMBER_END, ","))
    if members:
        parts.pop()  # no comma after the last member
    parts.append(REPORT_END)
    # one join of the ~9 MB answer: every intermediate copy of that size costs milliseconds of page faults
    return "".join(parts).encode("utf-8")


def report_json(group_id: str, courses: Sequence[CourseHierarchy], user_ids: Iterable[str],
                rows: ProgressRows) -> bytes:
    best = best_batches(rows.courses)
    units_done = unit_completions(rows.units)
    plans = [(course.course_id, course.leaf_count, course_head(course.course_id),
              f',"leafCount":{course.leaf_count},"percent":',
              [(u.unit_id, u.leaf_count, _unit_fragments(u.unit_id, u.leaf_count)) for u in course.reported_units])
             for course in courses]
    idle = [idle_entry(c) for c in courses]
    batch_json: dict[str, str] = {}
    no_units: dict[str, int] = {}

    def entries(user_id: str) -> list[str]:
        texts = []
        for (course_id, leaf_count, head, leaves, units), idle_text in zip(plans, idle, strict=True):
            chosen = best.get((user_id, course_id))
            if chosen is None:
                texts.append(idle_text)
                continue
            batch = batch_json.get(chosen.batch_id)
            if batch is None:
                batch = batch_json[chosen.batch_id] = _s(chosen.batch_id)
            done = units_done.get((user_id, chosen.batch_id, course_id), no_units)
            unit_text = ",".join([fragments[min(done.get(unit_id, 0), n)] for unit_id, n, fragments in units])
            texts.append(f'{head}{batch},"completed":{chosen.completed}{leaves}'
                         f'{percent(chosen.completed, leaf_count)},"lastActivity":"{iso_utc(chosen.last_ets)}",'
                         f'"units":[{unit_text}]}}')
        return texts

    members = sorted(set(user_ids))
    return assemble(group_id, courses, members, (entries(u) for u in members))
