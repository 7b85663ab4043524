"""Releasing assessments. An assessment is released to exactly one group: the group of the path. Members of
that group see it; anyone else gets the same 404 as for a missing group or assessment.

"A group or a private batch only": on a batch's own group the batch must be private (`invite-only` or
`private` enrolment); an open batch's group is refused (409 open_batch) -- anyone can join an open batch, so
its mentors release to a user-made (sub)group instead. Releasing writes an `assessment_released` entry to the
group's activity stream. Submissions are LPA_ASSESSMENT events; the gradebook reads them per released
assessment (content id, and course id unless standalone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ingestion.hierarchy import parse_hierarchy
from query_api.errors import Conflict, Invalid, NotFound
from query_api.models import Batch, Course, ReleasedAssessment, StreamEntry
from query_api.plugins import common
from query_api.plugins.assessment.plugin import PLUGIN_ID
from query_api.schemas.common import NO_NUL, Id

PRIVATE_ENROLMENT = ("invite-only", "private")


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contentId: Id
    courseId: Id | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL)
    instructions: str | None = Field(default=None, max_length=10_000, pattern=NO_NUL)
    dueOn: AwareDatetime | None = None


def out(row: ReleasedAssessment) -> dict[str, Any]:
    return {"id": row.id, "groupId": row.group_id, "contentId": row.content_id, "courseId": row.course_id,
            "title": row.title, "instructions": row.instructions, "dueOn": common.iso(row.due_on),
            "standalone": row.course_id is None, "releasedOn": common.iso(row.created_on),
            "releasedBy": row.created_by}


def active_assessments(session: Session, group_id: str) -> list[ReleasedAssessment]:
    """The group's released assessments, oldest first (the gradebook's default columns)."""
    return list(session.scalars(select(ReleasedAssessment)
                                .where(ReleasedAssessment.group_id == group_id, ReleasedAssessment.status == "active")
                                .order_by(ReleasedAssessment.created_on, ReleasedAssessment.id)))


def _check_target(session: Session, batch_id: str | None, group_id: str) -> None:
    if batch_id is None:
        return
    batch = session.get(Batch, batch_id)
    if batch is None or batch.enrollment_type not in PRIVATE_ENROLMENT:
        raise Conflict("assessments are released to a group or a private batch only; this is an open batch's group: "
                       "release it to a subgroup instead",
                       {"groupId": group_id, "batchId": batch_id,
                        "enrollmentType": None if batch is None else batch.enrollment_type}, code="open_batch")


def _title(session: Session, data: ReleaseIn, allow_standalone: bool) -> str:
    if data.courseId is None:
        if not allow_standalone:
            raise Invalid("this group's assessments must name their course (courseId)", code="course_required")
        return data.title or data.contentId
    course = session.get(Course, data.courseId)
    if course is None:
        raise Invalid("unknown course id (load it with `lpa catalog load`)", {"unknownCourseIds": [data.courseId]},
                      code="unknown_course")
    node = parse_hierarchy(course.hierarchy).nodes.get(data.contentId)
    if node is None or not node.is_leaf:
        raise Invalid(f"{data.contentId} is not a content of course {data.courseId}",
                      {"contentId": data.contentId, "courseId": data.courseId}, code="content_not_in_course")
    return data.title or data.contentId


def release(session: Session, group_id: str, user_id: str, data: ReleaseIn) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID, need_admin=True).writable()
    _check_target(session, ctx.access.batch_id, group_id)
    title = _title(session, data, bool(ctx.config.get("allowStandalone", True)))
    duplicate = session.scalar(select(ReleasedAssessment.id).where(
        ReleasedAssessment.group_id == group_id, ReleasedAssessment.status == "active",
        ReleasedAssessment.content_id == data.contentId,
        ReleasedAssessment.course_id.is_(None) if data.courseId is None
        else ReleasedAssessment.course_id == data.courseId))
    if duplicate is not None:
        raise Conflict("this assessment is already released to the group", {"assessmentId": duplicate},
                       code="already_released")
    now = common.clock()
    row = ReleasedAssessment(id=common.new_id(), group_id=group_id, content_id=data.contentId,
                             course_id=data.courseId, title=title, instructions=data.instructions, due_on=data.dueOn,
                             status="active", created_on=now, created_by=user_id)
    session.add(row)
    session.add(StreamEntry(id=common.new_id(), group_id=group_id, kind="assessment_released", body=None,
                            data={"assessmentId": row.id, "contentId": row.content_id, "courseId": row.course_id,
                                  "title": title},
                            status="active", created_on=now, created_by=user_id))
    session.commit()
    return out(row)


def listing(session: Session, group_id: str, user_id: str, page: common.Page) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID)
    where = (ReleasedAssessment.group_id == group_id, ReleasedAssessment.status == "active")
    total = session.scalar(select(func.count()).select_from(ReleasedAssessment).where(*where)) or 0
    rows = session.scalars(select(ReleasedAssessment).where(*where)
                           .order_by(ReleasedAssessment.created_on.desc(), ReleasedAssessment.id.desc())
                           .limit(page.limit).offset(page.offset))
    return {"groupId": group_id, **common.page_of([out(r) for r in rows], total, page, "assessments")}


def _find(session: Session, group_id: str, assessment_id: str) -> ReleasedAssessment:
    row = session.get(ReleasedAssessment, assessment_id)
    if row is None or row.group_id != group_id or row.status != "active":
        raise NotFound(f"assessment {assessment_id} not found", {"assessmentId": assessment_id},
                       code="assessment_not_found")
    return row


def get(session: Session, group_id: str, user_id: str, assessment_id: str) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID)
    return out(_find(session, group_id, assessment_id))


def withdraw(session: Session, group_id: str, user_id: str, assessment_id: str) -> None:
    common.context(session, group_id, user_id, PLUGIN_ID, need_admin=True)
    row = _find(session, group_id, assessment_id)
    now: datetime = common.clock()
    row.status, row.withdrawn_on, row.withdrawn_by = "withdrawn", now, user_id
    session.commit()
