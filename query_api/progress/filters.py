"""Report filters (`?status=`, `?inactiveDays=`), applied to whole member rows of a built report.

Status of one member in one course:
- `not-started`: no activity in the course at all (lastActivity null; then completed is 0 too);
- `completed`: percent 100 (every current leaf done; a course with no leaves is never completed);
- `in-progress`: everything else (some activity, percent below 100).
A member row is kept when at least one of the shown courses has the status (with `?courseId=` that is
exactly "learners with this status in this course"). `inactiveDays=N` keeps members whose latest activity
over the shown courses is more than N days before now, or who have none (learners at risk).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from query_api.progress.compute import Report, iso_utc

DAY_MS = 86_400_000


class Status(StrEnum):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"


def course_status(entry: dict[str, Any]) -> Status:
    if entry["lastActivity"] is None and entry["completed"] == 0:
        return Status.NOT_STARTED
    if entry["leafCount"] > 0 and entry["percent"] >= 100:
        return Status.COMPLETED
    return Status.IN_PROGRESS


def _last_activity(member: dict[str, Any]) -> str | None:
    # ISO 8601 UTC strings of one fixed format compare in time order.
    stamps = [c["lastActivity"] for c in member["courses"] if c["lastActivity"] is not None]
    return max(stamps) if stamps else None


def filter_members(report: Report, *, status: Status | None = None, inactive_days: int | None = None,
                   now_ms: int) -> Report:
    """A copy of `report` with only the member rows that pass every given filter."""
    cutoff = iso_utc(now_ms - inactive_days * DAY_MS) if inactive_days is not None else None
    kept = []
    for member in report["members"]:
        if status is not None and not any(course_status(c) == status for c in member["courses"]):
            continue
        if cutoff is not None:
            last = _last_activity(member)
            if last is not None and last >= cutoff:
                continue
        kept.append(member)
    return {**report, "members": kept}
