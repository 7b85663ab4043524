"""The report as CSV: one row per member and course (contracts.md section 6), unit figures left to JSON.

Cells that a spreadsheet would run as a formula (leading = + - @ tab CR) get a leading apostrophe: course
names come from the platform and must not execute on the mentor's machine.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from query_api.progress.compute import Report

COLUMNS = ("userId", "courseId", "courseName", "batchId", "completed", "leafCount", "percent", "lastActivity")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def report_csv(report: Report) -> str:
    names = {c["courseId"]: c["name"] for c in report["courses"]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for member in report["members"]:
        for entry in member["courses"]:
            writer.writerow([_safe(v) for v in (
                member["userId"], entry["courseId"], names.get(entry["courseId"], entry["courseId"]),
                entry["batchId"], entry["completed"], entry["leafCount"], entry["percent"], entry["lastActivity"])])
    return out.getvalue()
