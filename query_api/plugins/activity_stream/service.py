"""Activity stream: stored entries merged with course-completion milestones derived at read time.

Why derive completions instead of writing them when they happen: completion is a fact of the analytics store
(the same rule as the progress report: every current non-optional leaf completed, in some batch), which the
pipeline computes without knowing groups; a learner may complete before joining, a republish may change what
"complete" means, and the stream must agree with the report. So the milestone is computed from the store
for the group's current learners and courses, timed at the moment the last leaf was first completed (stable
under replays and revisits), with a stable id `course_completed:<userId>:<courseId>`.
"Assessment released" entries are written by the Assessment plugin when a mentor releases one.

Pagination is `limit`/`offset` over the merged list, newest first: the top offset+limit stored entries and
all milestones (bounded by learners x courses) are merged, so any page is exact.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from query_api.auth import SYSTEM_USER
from query_api.errors import Forbidden, NotFound
from query_api.models import PluginLink, StreamEntry
from query_api.plugins import common
from query_api.plugins.activity_stream.plugin import PLUGIN_ID
from query_api.plugins.progress_report.plugin import PLUGIN_ID as PROGRESS_REPORT
from query_api.plugins.progress_report.report import hierarchies
from query_api.schemas.common import NO_NUL

COURSE_COMPLETED = "course_completed"


class UpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000, pattern=NO_NUL)


def entry_out(row: StreamEntry) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "body": row.body, "data": dict(row.data or {}),
            "createdOn": common.iso(row.created_on), "createdBy": row.created_by}


def milestone_courses(session: Session, group_id: str, config: dict[str, Any]) -> list[str]:
    if "courseIds" in config:
        return list(config["courseIds"])
    link = session.get(PluginLink, (group_id, PROGRESS_REPORT))
    return list((link.config or {}).get("courseIds") or []) if link is not None else []


def milestones(session: Session, group_id: str, course_ids: list[str]) -> list[tuple[datetime, dict[str, Any]]]:
    user_ids = common.learners(session, group_id)
    if not user_ids or not course_ids:
        return []
    courses = {c.course_id: c for c in hierarchies(session, course_ids)}
    rows = common.store_call(lambda store: store.course_completions(user_ids, course_ids))
    first: dict[tuple[str, str], tuple[int, str]] = {}
    for user_id, batch_id, course_id, completed, completed_ets in rows:
        leaf_count = len(courses[course_id].leaf_ids) if course_id in courses else 0
        if leaf_count and completed >= leaf_count:
            key = (user_id, course_id)
            first[key] = min(first.get(key, (completed_ets, batch_id)), (completed_ets, batch_id))
    out = []
    for (user_id, course_id), (ets, batch_id) in first.items():
        when = datetime.fromtimestamp(ets / 1000, UTC)
        out.append((when, {"id": f"{COURSE_COMPLETED}:{user_id}:{course_id}", "kind": COURSE_COMPLETED,
                           "body": None, "data": {"userId": user_id, "courseId": course_id,
                                                  "courseName": courses[course_id].name, "batchId": batch_id},
                           "createdOn": common.iso(when), "createdBy": SYSTEM_USER}))
    return out


def entries(session: Session, group_id: str, user_id: str, page: common.Page) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    derived = milestones(session, group_id, milestone_courses(session, group_id, ctx.config))
    where = (StreamEntry.group_id == group_id, StreamEntry.status == "active")
    stored_total = session.scalar(select(func.count()).select_from(StreamEntry).where(*where)) or 0
    stored = session.scalars(select(StreamEntry).where(*where)
                             .order_by(StreamEntry.created_on.desc(), StreamEntry.id.desc())
                             .limit(page.offset + page.limit))
    merged = [(row.created_on, entry_out(row)) for row in stored] + derived
    merged.sort(key=lambda item: (item[0], item[1]["id"]), reverse=True)
    items = [entry for _, entry in merged[page.offset:page.offset + page.limit]]
    return {"groupId": group_id, **common.page_of(items, stored_total + len(derived), page, "entries")}


def post_update(session: Session, group_id: str, user_id: str, data: UpdateIn) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID).writable()
    row = StreamEntry(id=common.new_id(), group_id=group_id, kind="update", body=data.body, data={},
                      status="active", created_on=common.clock(), created_by=user_id)
    session.add(row)
    session.commit()
    return entry_out(row)


def remove(session: Session, group_id: str, user_id: str, entry_id: str) -> None:
    """Admins remove any stored entry; a member only their own update. Milestones are facts: not removable."""
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    row = session.get(StreamEntry, entry_id)
    if row is None or row.group_id != group_id or row.status != "active":
        raise NotFound(f"entry {entry_id} not found", {"entryId": entry_id}, code="entry_not_found")
    if not ctx.access.is_admin and not (row.kind == "update" and row.created_by == user_id):
        raise Forbidden("only an admin or the author can remove an entry", {"entryId": entry_id},
                        code="admin_required")
    row.status, row.removed_on, row.removed_by = "removed", common.clock(), user_id
    session.commit()
