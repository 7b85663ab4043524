"""Report filters: status per course, members kept when a shown course matches, learners at risk."""

from __future__ import annotations

import pytest

from ingestion.hierarchy import parse_hierarchy
from query_api.progress.compute import build_report
from query_api.progress.filters import DAY_MS, Status, course_status, filter_members
from query_api.store.base import CourseProgressRow as C
from query_api.store.base import ProgressRows
from tests.fixtures.courses import simple_course

NOW = 1732500000000


@pytest.fixture
def report() -> dict:
    c1 = parse_hierarchy(simple_course("c1", {"u": ["a", "b"]}))
    c2 = parse_hierarchy(simple_course("c2", {"u": ["x"]}))
    rows = ProgressRows(courses=[
        C("done", "b", "c1", 2, NOW - 1 * DAY_MS),          # c1 completed, c2 not started
        C("busy", "b", "c1", 0, NOW - 10 * DAY_MS),         # activity without completions: in progress
        C("busy", "b", "c2", 0, NOW - 20 * DAY_MS),
    ], units=[])
    return build_report("g", [c1, c2], ["done", "busy", "idle"], rows)


def _ids(report: dict) -> list[str]:
    return [m["userId"] for m in report["members"]]


def test_status_of_a_course_entry() -> None:
    assert course_status({"lastActivity": None, "completed": 0, "leafCount": 3, "percent": 0}) is Status.NOT_STARTED
    assert course_status({"lastActivity": "t", "completed": 0, "leafCount": 3, "percent": 0}) is Status.IN_PROGRESS
    assert course_status({"lastActivity": "t", "completed": 1, "leafCount": 300, "percent": 0}) is Status.IN_PROGRESS
    assert course_status({"lastActivity": "t", "completed": 3, "leafCount": 3, "percent": 100}) is Status.COMPLETED
    # a course without leaves can never be completed
    assert course_status({"lastActivity": "t", "completed": 0, "leafCount": 0, "percent": 0}) is Status.IN_PROGRESS


@pytest.mark.parametrize(("status", "expected"), [
    (Status.COMPLETED, ["done"]),
    (Status.IN_PROGRESS, ["busy"]),
    (Status.NOT_STARTED, ["done", "idle"]),  # "done" has not started c2
])
def test_status_keeps_members_with_a_matching_shown_course(report: dict, status: Status, expected: list) -> None:
    assert _ids(filter_members(report, status=status, now_ms=NOW)) == expected


def test_inactive_days_keeps_members_idle_for_longer_or_never_active(report: dict) -> None:
    assert _ids(filter_members(report, inactive_days=5, now_ms=NOW)) == ["busy", "idle"]
    assert _ids(filter_members(report, inactive_days=0, now_ms=NOW)) == ["busy", "done", "idle"]
    assert _ids(filter_members(report, inactive_days=30, now_ms=NOW)) == ["idle"]


def test_filters_combine_and_leave_the_original_untouched(report: dict) -> None:
    filtered = filter_members(report, status=Status.NOT_STARTED, inactive_days=5, now_ms=NOW)
    assert _ids(filtered) == ["idle"]
    assert _ids(report) == ["busy", "done", "idle"]
    assert filtered["courses"] == report["courses"]
