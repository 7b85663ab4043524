"""What the group page template shows, computed from the report (pure functions, no Flask)."""

from __future__ import annotations

from typing import Any

from query_api.progress.filters import Status, course_status


def cell_style(entry: dict[str, Any]) -> str:
    """Background on a red (0%) -> amber -> green (100%) scale; grey when not started."""
    if course_status(entry) is Status.NOT_STARTED:
        return "background-color: hsl(0, 0%, 93%)"
    hue = round(entry["percent"] * 1.2)
    return f"background-color: hsl({hue}, 70%, 80%)"


def course_averages(report: dict[str, Any]) -> dict[str, int]:
    """Average percent per course over the shown members (0 when there are none)."""
    totals: dict[str, list[int]] = {c["courseId"]: [] for c in report["courses"]}
    for member in report["members"]:
        for entry in member["courses"]:
            totals[entry["courseId"]].append(entry["percent"])
    return {cid: (sum(v) // len(v) if v else 0) for cid, v in totals.items()}


def status_counts(report: dict[str, Any]) -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    for member in report["members"]:
        for entry in member["courses"]:
            counts[course_status(entry).value] += 1
    return counts


def unit_names(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["courseId"]: {u["unitId"]: u["name"] for u in c["units"]} for c in report["courses"]}
