"""Contract section 3 as pure functions: aggregated store rows -> the section 6 report (plain dicts).

The store returns, per (learner, batch, course) with activity, the completed current leaves and the
batch's last activity, and per (learner, batch, course, unit) the completed leaves of the unit. Here:
- percent = min(100, completed * 100 // leafCount), 0 when leafCount is 0;
- the best batch of (u, c) has the most completed leaves; ties go to the latest activity, then (for a
  stable answer) the smallest batch id; unit figures come from that same batch;
- lastActivity of (u, c) is the latest activity over *all* its batches, not only the chosen one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from ingestion.hierarchy import CourseHierarchy
from query_api.store.base import CourseRow, ProgressRows, UnitRow

Report = dict[str, Any]


class BestBatch(NamedTuple):
    batch_id: str
    completed: int
    batch_last_ets: int  # the chosen batch's own last activity (the tie-breaker)
    last_ets: int  # the latest activity over every batch of (u, c): the report's lastActivity


def percent(completed: int, leaf_count: int) -> int:
    if leaf_count <= 0:
        return 0
    return min(100, completed * 100 // leaf_count)


@lru_cache(maxsize=4096)
def _utc_day(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y-%m-%dT")


def iso_utc(ets_ms: int | None) -> str | None:
    """Epoch ms -> "2024-11-25T02:00:00Z" (whole seconds, UTC). The date part is cached per day: a report
    formats one stamp per member and course, and strftime for each costs more than the rest of the row."""
    if ets_ms is None:
        return None
    day, second = divmod(ets_ms // 1000, 86_400)
    return f"{_utc_day(day)}{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"


def best_batches(rows: Iterable[CourseRow]) -> dict[tuple[str, str], BestBatch]:
    """(user, course) -> the batch whose figures the report shows, with lastActivity over all batches.
    Rows are (user, batch, course, completed, batch last ets), see CourseProgressRow."""
    best: dict[tuple[str, str], BestBatch] = {}
    for user_id, batch_id, course_id, completed, last_ets in rows:
        key = (user_id, course_id)
        current = best.get(key)
        if current is None:
            best[key] = BestBatch(batch_id, completed, last_ets, last_ets)
            continue
        if (completed, last_ets) > (current.completed, current.batch_last_ets) or (
                (completed, last_ets) == (current.completed, current.batch_last_ets) and batch_id < current.batch_id):
            best[key] = BestBatch(batch_id, completed, last_ets, max(current.last_ets, last_ets))
        elif last_ets > current.last_ets:
            best[key] = current._replace(last_ets=last_ets)
    return best


def unit_completions(rows: Iterable[UnitRow]) -> dict[tuple[str, str, str], dict[str, int]]:
    """(user, batch, course) -> unit id -> completed leaves. Rows are (user, batch, course, unit, completed),
    see UnitProgressRow. The report reads the entry of the best batch only: units never pick their own."""
    out: dict[tuple[str, str, str], dict[str, int]] = {}
    for user_id, batch_id, course_id, unit_id, completed in rows:
        key = (user_id, batch_id, course_id)
        done = out.get(key)
        if done is None:
            out[key] = {unit_id: completed}
        else:
            done[unit_id] = completed
    return out


def course_info(course: CourseHierarchy) -> dict[str, Any]:
    return {"courseId": course.course_id, "name": course.name, "leafCount": course.leaf_count,
            "units": [{"unitId": u.unit_id, "name": u.name, "leafCount": u.leaf_count}
                      for u in course.reported_units]}


def _unit_entries(unit_id: str, leaf_count: int) -> list[dict[str, Any]]:
    """Every possible entry of one unit, indexed by completed leaves (0..leafCount): a report of 1,000 members
    x 20 courses has ~100k unit entries but only a few distinct ones, so they are built once and shared."""
    return [{"unitId": unit_id, "completed": n, "leafCount": leaf_count, "percent": percent(n, leaf_count)}
            for n in range(leaf_count + 1)]


def build_report(group_id: str, courses: Sequence[CourseHierarchy], user_ids: Iterable[str],
                 rows: ProgressRows) -> Report:
    """The section 6 report for these members (sorted by userId here) and courses (kept in the given order).

    Members with no activity in a course get completed 0, percent 0, batchId null, lastActivity null.
    Entries are shared between members where they are equal (all-zero courses, unit entries): treat the
    report as read-only.
    """
    best = best_batches(rows.courses)
    units_done = unit_completions(rows.units)
    plan = [(c.course_id, c.leaf_count,
             [(u.unit_id, u.leaf_count, _unit_entries(u.unit_id, u.leaf_count)) for u in c.reported_units])
            for c in courses]
    idle = {cid: {"courseId": cid, "batchId": None, "completed": 0, "leafCount": leaves, "percent": 0,
                  "lastActivity": None, "units": [entries[0] for _, _, entries in units]}
            for cid, leaves, units in plan}
    no_units: dict[str, int] = {}
    members = []
    for user_id in sorted(set(user_ids)):
        member_courses = []
        for course_id, leaves, units in plan:
            chosen = best.get((user_id, course_id))
            if chosen is None:
                member_courses.append(idle[course_id])
                continue
            done = units_done.get((user_id, chosen.batch_id, course_id), no_units)
            member_courses.append({
                "courseId": course_id, "batchId": chosen.batch_id, "completed": chosen.completed,
                "leafCount": leaves, "percent": percent(chosen.completed, leaves),
                "lastActivity": iso_utc(chosen.last_ets),
                # min(): a completion count above the unit's size (a republish racing the query) caps at 100%
                "units": [entries[min(done.get(unit_id, 0), n)] for unit_id, n, entries in units],
            })
        members.append({"userId": user_id, "courses": member_courses})
    return {"groupId": group_id, "courses": [course_info(c) for c in courses], "members": members}
