"""The section 6 report written straight to JSON text, for the unfiltered REST answer.

Why a second writer next to `compute.build_report`: a report for 1,000 members x 20 courses has ~20k course
entries and ~100k unit entries. Building them as dicts and then serialising costs about as much as the SQL
itself; here every fragment that repeats (a unit at n completed leaves, a course entry with no activity, a
batch id) is serialised once and the text is joined. Same figures, same rules: both writers share
`best_batches`, `unit_completions`, `percent` and `iso_utc`, and a property test holds
`json.loads(report_json(...)) == build_report(...)` for arbitrary rows and hierarchies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ingestion.hierarchy import CourseHierarchy
from query_api.progress.compute import best_batches, course_info, iso_utc, percent, unit_completions
from query_api.store.base import ProgressRows


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _unit_fragments(unit_id: str, leaf_count: int) -> list[str]:
    """The unit's JSON at every possible completed count (0..leafCount)."""
    head = '{"unitId":' + _s(unit_id) + ',"completed":'
    return [f'{head}{n},"leafCount":{leaf_count},"percent":{percent(n, leaf_count)}}}' for n in range(leaf_count + 1)]


def report_json(group_id: str, courses: Sequence[CourseHierarchy], user_ids: Iterable[str],
                rows: ProgressRows) -> bytes:
    best = best_batches(rows.courses)
    units_done = unit_completions(rows.units)
    plans = []
    for course in courses:
        head = '{"courseId":' + _s(course.course_id) + ',"batchId":'
        leaves = f',"leafCount":{course.leaf_count},"percent":'
        units = [(u.unit_id, u.leaf_count, _unit_fragments(u.unit_id, u.leaf_count)) for u in course.reported_units]
        idle = (f'{head}null,"completed":0{leaves}0,"lastActivity":null,"units":['
                + ",".join(fragments[0] for _, _, fragments in units) + "]}")
        plans.append((course.course_id, course.leaf_count, head, leaves, units, idle))
    batch_json: dict[str, str] = {}
    no_units: dict[str, int] = {}
    members = []
    for user_id in sorted(set(user_ids)):
        entries = []
        for course_id, leaf_count, head, leaves, units, idle in plans:
            chosen = best.get((user_id, course_id))
            if chosen is None:
                entries.append(idle)
                continue
            batch = batch_json.get(chosen.batch_id)
            if batch is None:
                batch = batch_json[chosen.batch_id] = _s(chosen.batch_id)
            done = units_done.get((user_id, chosen.batch_id, course_id), no_units)
            unit_text = ",".join([fragments[min(done.get(unit_id, 0), n)] for unit_id, n, fragments in units])
            entries.append(f'{head}{batch},"completed":{chosen.completed}{leaves}'
                           f'{percent(chosen.completed, leaf_count)},"lastActivity":"{iso_utc(chosen.last_ets)}",'
                           f'"units":[{unit_text}]}}')
        members.append('{"userId":' + _s(user_id) + ',"courses":[' + ",".join(entries) + "]}")
    course_text = json.dumps([course_info(c) for c in courses], ensure_ascii=False, separators=(",", ":"))
    text = '{"groupId":' + _s(group_id) + ',"courses":' + course_text + ',"members":[' + ",".join(members) + "]}"
    return text.encode("utf-8")
