"""lms-service's group activity aggregate, answered from the Progress Report's own computation.

completedCount is the report's `completed` for the course: completed non-optional leaves of the current
hierarchy in the learner's best batch (`progress.compute.best_batches` over `store.progress_rows`), and its
lastUpdatedOn the report's lastActivity (latest activity over all batches). `score:<assessmentId>` is the best
score over all attempts and batches (`store.best_attempts`). Like lms-service, only members with progress rows
are listed, and enrolmentCount counts the group's members enrolled (active) in a batch of the course.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from query_api.models import Batch, Enrolment, GroupMember
from query_api.progress.compute import best_batches
from query_api.services.access import require_member
from query_api.store.base import AnalyticsStore
from query_api.sunbird.groups import COURSE
from query_api.sunbird.requests import AggregateRequest


def _metric(name: str, value: int | float, last_updated_ms: int) -> dict[str, Any]:
    return {"metric": name, "value": value, "lastUpdatedOn": last_updated_ms}


def enrolled_members(session: Session, user_ids: Sequence[str], course_id: str) -> set[str]:
    """Members with an active enrolment in any batch that includes the course."""
    if not user_ids:
        return set()
    rows = session.execute(
        select(Enrolment.user_id, Batch.course_ids).join(Batch, Batch.id == Enrolment.batch_id)
        .where(Enrolment.user_id.in_(list(user_ids)), Enrolment.status == "active"))
    return {user_id for user_id, course_ids in rows if course_id in (course_ids or [])}


def aggregate(session: Session, store: AnalyticsStore, caller: str, body: AggregateRequest,
              now_ms: int | None = None) -> dict[str, Any]:
    """The `result` of POST /v1/group/activity/agg. The caller must be a member of the group (NotFound else);
    StoreError propagates (the view answers 503)."""
    require_member(session, body.groupId, caller)
    details = {m.user_id: m for m in session.scalars(select(GroupMember).where(
        GroupMember.group_id == body.groupId, GroupMember.status == "active"))}
    user_ids = sorted(details)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    listed: list[dict[str, Any]] = []
    enrolled = 0
    if body.activityType.lower() == COURSE.lower() and user_ids:
        course_id = body.activityId
        best = best_batches(store.progress_rows(user_ids, [course_id]).courses)
        scores: dict[str, list[dict[str, Any]]] = {}
        for row in sorted(store.best_attempts(user_ids, course_ids=[course_id]), key=lambda r: r.content_id):
            scores.setdefault(row.user_id, []).append(_metric(f"score:{row.content_id}", row.best_score, row.ets))
        for user_id in user_ids:
            chosen = best.get((user_id, course_id))
            if chosen is None:
                continue
            member = details[user_id]
            listed.append({"name": user_id, "userId": user_id, "role": member.role, "status": member.status,
                           "createdBy": member.created_by,
                           "agg": [_metric("completedCount", chosen.completed, chosen.last_ets),
                                   *scores.get(user_id, [])]})
        enrolled = len(enrolled_members(session, user_ids, course_id))
    return {"groupId": body.groupId,
            "activity": {"id": body.activityId, "type": body.activityType,
                         "agg": [_metric("enrolmentCount", enrolled, now_ms)]},
            "members": listed}

