"""Subgroup rules: which learners (non-admin members) of a parent group match.

- score_below {assessmentId, percent[, includeNotAttempted]}: best attempt (as the gradebook counts it) below
  `percent` of the maximum score in an assessment released to the parent group; learners who never attempted
  it match only with includeNotAttempted.
- enrolled_within_days {days}: joined the parent group (for a batch's group: enrolled) in the last `days` days.
- inactive_days {days[, courseIds]}: no content activity (in any course, or in courseIds) for `days` days,
  including learners with no activity at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from query_api.errors import NotFound
from query_api.models import GroupMember, ReleasedAssessment
from query_api.plugins import common
from query_api.plugins.gradebook.service import best_of
from query_api.schemas.common import Id


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreBelow(_Rule):
    type: Literal["score_below"]
    assessmentId: Id
    percent: float = Field(gt=0, le=100)
    includeNotAttempted: bool = False


class EnrolledWithinDays(_Rule):
    type: Literal["enrolled_within_days"]
    days: int = Field(ge=1, le=3650)


class InactiveDays(_Rule):
    type: Literal["inactive_days"]
    days: int = Field(ge=1, le=3650)
    courseIds: list[Id] | None = Field(default=None, min_length=1, max_length=200)


Rule = Annotated[ScoreBelow | EnrolledWithinDays | InactiveDays, Field(discriminator="type")]


def _score_below(session: Session, parent_id: str, learners: list[str], rule: ScoreBelow) -> list[str]:
    assessment = session.get(ReleasedAssessment, rule.assessmentId)
    if assessment is None or assessment.group_id != parent_id or assessment.status != "active":
        raise NotFound(f"assessment {rule.assessmentId} is not released to group {parent_id}",
                       {"assessmentId": rule.assessmentId, "groupId": parent_id}, code="assessment_not_found")
    course_ids = None if assessment.course_id is None else [assessment.course_id]
    rows = common.store_call(lambda store: store.best_attempts(learners, [assessment.content_id], course_ids))
    matched = []
    for user_id in learners:
        best, _ = best_of(r for r in rows if r.user_id == user_id)
        if best is None:
            if rule.includeNotAttempted:
                matched.append(user_id)
        elif best.best_score * 100 < rule.percent * best.max_score:  # exact: no division, no rounding
            matched.append(user_id)
    return matched


def _enrolled_within(session: Session, parent_id: str, learners: list[str], rule: EnrolledWithinDays) -> list[str]:
    since = common.clock() - timedelta(days=rule.days)
    joined = session.execute(select(GroupMember.user_id, GroupMember.created_on).where(
        GroupMember.group_id == parent_id, GroupMember.status == "active"))
    recent = {user_id for user_id, created_on in joined if created_on >= since}
    return [u for u in learners if u in recent]


def _inactive(learners: list[str], rule: InactiveDays) -> list[str]:
    cutoff_ms = int((common.clock() - timedelta(days=rule.days)).timestamp() * 1000)
    last = common.store_call(lambda store: store.last_activity(learners, rule.courseIds))
    return [u for u in learners if last.get(u, -1) < cutoff_ms]


def matching(session: Session, parent_id: str, rule: ScoreBelow | EnrolledWithinDays | InactiveDays) -> list[str]:
    """The parent's learners that match, in userId order."""
    learners = common.learners(session, parent_id)
    if not learners:
        return []
    if isinstance(rule, ScoreBelow):
        return _score_below(session, parent_id, learners, rule)
    if isinstance(rule, EnrolledWithinDays):
        return _enrolled_within(session, parent_id, learners, rule)
    return _inactive(learners, rule)
