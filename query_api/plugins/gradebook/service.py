"""Gradebook use cases.

Columns are the config's `assessments`, else the assessments released to the group. A cell is the learner's
best attempt: the highest score, ties going to the latest attempt (the analytics store picks it, in SQL both
engines run); `attempts` counts distinct attempt ids. A course-bound column reads attempts in that course; a
standalone one (no courseId) reads the content in any course, merging with the same rule.

Who sees what is enforced here, not by the client: admins get every non-admin member's row with averages;
anyone else gets only their own row, and asking for another learner's row is 403 own_grades_only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from query_api.errors import Forbidden, NotFound
from query_api.plugins import common
from query_api.plugins.assessment.service import active_assessments
from query_api.plugins.gradebook.plugin import PLUGIN_ID
from query_api.store.plugin_queries import BestAttemptRow


@dataclass(frozen=True)
class Column:
    content_id: str
    course_id: str | None
    title: str
    assessment_id: str | None = None

    @property
    def key(self) -> str:
        return f"{self.course_id or '*'}/{self.content_id}"

    def out(self) -> dict[str, Any]:
        return {"key": self.key, "contentId": self.content_id, "courseId": self.course_id, "title": self.title,
                "assessmentId": self.assessment_id}


def columns(session: Session, group_id: str, config: dict[str, Any]) -> list[Column]:
    configured = config.get("assessments")
    if configured:
        return [Column(a["contentId"], a.get("courseId"), a.get("title") or a["contentId"]) for a in configured]
    return [Column(a.content_id, a.course_id, a.title, a.id) for a in active_assessments(session, group_id)]


def best_of(rows: Iterable[BestAttemptRow]) -> tuple[BestAttemptRow | None, int]:
    """The best of several courses' best attempts (standalone columns), by the same rule; attempts add up."""
    best: BestAttemptRow | None = None
    attempts = 0
    for row in rows:
        attempts += row.attempts
        if best is None or (row.best_score, row.ets, row.attempt_id) > (best.best_score, best.ets, best.attempt_id):
            best = row
    return best, attempts


def percent(score: float, maximum: float) -> float:
    return round(score * 100.0 / maximum, 2) if maximum > 0 else 0.0


def cell(rows: Sequence[BestAttemptRow]) -> dict[str, Any]:
    best, attempts = best_of(rows)
    if best is None:
        return {"attempts": 0, "bestScore": None, "maxScore": None, "percent": None, "bestAttemptId": None,
                "bestAttemptOn": None}
    return {"attempts": attempts, "bestScore": best.best_score, "maxScore": best.max_score,
            "percent": percent(best.best_score, best.max_score), "bestAttemptId": best.attempt_id,
            "bestAttemptOn": common.iso_ms(best.ets)}


def _average(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def grade_rows(cols: list[Column], user_ids: list[str]) -> list[dict[str, Any]]:
    if not cols or not user_ids:
        return [{"userId": u, "grades": {}, "average": None} for u in user_ids]
    content_ids = sorted({c.content_id for c in cols})
    found = common.store_call(lambda store: store.best_attempts(user_ids, content_ids))
    by_key: dict[tuple[str, str], list[BestAttemptRow]] = {}
    for row in found:
        by_key.setdefault((row.user_id, row.content_id), []).append(row)
    out = []
    for user_id in user_ids:
        grades = {}
        for col in cols:
            rows = [r for r in by_key.get((user_id, col.content_id), [])
                    if col.course_id is None or r.course_id == col.course_id]
            grades[col.key] = cell(rows)
        out.append({"userId": user_id, "grades": grades,
                    "average": _average([g["percent"] for g in grades.values() if g["percent"] is not None])})
    return out


def column_averages(cols: list[Column], rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per column: mean best percent over the learners who attempted it, and how many did."""
    averages = {}
    for col in cols:
        values = [r["grades"][col.key]["percent"] for r in rows if r["grades"][col.key]["percent"] is not None]
        averages[col.key] = {"averagePercent": _average(values), "attempted": len(values), "learners": len(rows)}
    return averages


def grades(session: Session, group_id: str, user_id: str) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    cols = columns(session, group_id, ctx.config)
    if ctx.access.is_admin:
        rows = grade_rows(cols, common.learners(session, group_id))
        return {"groupId": group_id, "view": "teacher", "assessments": [c.out() for c in cols], "members": rows,
                "averages": column_averages(cols, rows)}
    rows = grade_rows(cols, [user_id])
    return {"groupId": group_id, "view": "learner", "assessments": [c.out() for c in cols], "members": rows}


def learner_grades(session: Session, group_id: str, user_id: str, learner_id: str) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    if learner_id != user_id and not ctx.access.is_admin:
        raise Forbidden("learners see only their own grades", {"groupId": group_id, "userId": learner_id},
                        code="own_grades_only")
    if learner_id not in common.learners(session, group_id):
        raise NotFound(f"user {learner_id} is not a learner of group {group_id}",
                       {"groupId": group_id, "userId": learner_id}, code="member_not_found")
    cols = columns(session, group_id, ctx.config)
    row = grade_rows(cols, [learner_id])[0]
    return {"groupId": group_id, "assessments": [c.out() for c in cols], **row}
