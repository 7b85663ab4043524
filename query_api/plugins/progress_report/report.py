"""The Progress Report use cases, shared by the REST views and the group page: who sees which rows, the
configured courses, building the report, and changing the course list. Views stay thin around these.

Access (contracts.md section 6): a non-member gets 404 (as for a missing group); admins see every member's
row; a plain member sees every row only when the config says `membersSeeAll`, else only their own. Rows are
the group's non-admin members.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from sqlalchemy import select
from sqlalchemy.orm import Session

from ingestion.hierarchy import CourseHierarchy, parse_hierarchy
from query_api.errors import ApiError, Conflict, Invalid
from query_api.models import Course
from query_api.plugins.progress_report.plugin import PLUGIN_ID
from query_api.progress.compute import Report, build_report
from query_api.progress.filters import Status, filter_members
from query_api.progress.json_writer import report_json
from query_api.services.access import GroupAccess, group_for_user, group_learners, plugin_config
from query_api.store.base import ERROR_CODE, AnalyticsStore, StoreError


class ReportQuery(BaseModel):
    """`?courseId=&status=&inactiveDays=&format=` of the report endpoint."""

    model_config = ConfigDict(extra="forbid")

    courseId: str | None = Field(default=None, min_length=1, max_length=256)
    status: Status | None = None
    inactiveDays: int | None = Field(default=None, ge=0, le=36500)
    format: Literal["json", "csv"] = "json"


@dataclass(frozen=True)
class ReportContext:
    access: GroupAccess
    config: dict[str, Any]
    course_ids: list[str]
    visible_user_ids: list[str]


def analytics() -> AnalyticsStore:
    store = current_app.extensions.get("lpa.analytics")
    if store is None:
        raise ApiError(503, ERROR_CODE, "no analytics store is configured for this API")
    return store


def store_failure(error: StoreError) -> ApiError:
    return ApiError(error.http_status, error.api_code,
                    "the analytics store cannot answer right now; try again shortly", error.details())


def context(session: Session, group_id: str, user_id: str) -> ReportContext:
    access = group_for_user(group_id, user_id, session=session)  # 404 for non-members
    config = plugin_config(group_id, PLUGIN_ID, session=session)  # 404 plugin_not_linked
    learners = group_learners(group_id, session=session)
    if access.is_admin or config.get("membersSeeAll"):
        visible = learners
    else:
        visible = [u for u in learners if u == user_id]
    return ReportContext(access, config, list(config.get("courseIds") or []), visible)


_PARSED: dict[tuple[str, str], CourseHierarchy] = {}
_PARSED_MAX = 512


def hierarchies(session: Session, course_ids: Sequence[str]) -> list[CourseHierarchy]:
    """The configured courses, current version, in config order; one missing from the catalog is shown
    with no leaves rather than dropped. Parsed hierarchies are kept per process by (course, content hash):
    immutable, so never stale. Only the hashes are read per request; a course document (JSON of up to
    megabytes) is read and parsed once per version, not on every report."""
    if not course_ids:
        return []
    hashes: dict[str, str] = dict(session.execute(  # type: ignore[arg-type]
        select(Course.id, Course.content_hash).where(Course.id.in_(list(course_ids)))).all())
    found = {cid: _PARSED[(cid, digest)] for cid, digest in hashes.items() if (cid, digest) in _PARSED}
    missing = [cid for cid in hashes if cid not in found]
    if missing:
        if len(_PARSED) + len(missing) > _PARSED_MAX:
            _PARSED.clear()
        for cid, digest, doc in session.execute(
                select(Course.id, Course.content_hash, Course.hierarchy).where(Course.id.in_(missing))):
            found[cid] = _PARSED[(cid, digest)] = parse_hierarchy(doc)  # republished meanwhile: the newer one
    return [found.get(cid) or _placeholder(cid) for cid in course_ids]


@functools.lru_cache(maxsize=1024)
def _placeholder(course_id: str) -> CourseHierarchy:
    """A course missing from the catalog, shown with no leaves; the same object each time, so the store's
    statement cache (keyed by the courses' identity) does not miss on every report of such a group."""
    return CourseHierarchy(course_id=course_id, name=course_id)


def _courses(session: Session, group_id: str, user_id: str,
             params: ReportQuery) -> tuple[ReportContext, list[CourseHierarchy]]:
    ctx = context(session, group_id, user_id)
    course_ids = ctx.course_ids
    if params.courseId is not None:
        if params.courseId not in course_ids:
            raise Invalid(f"course {params.courseId} is not one of the group's report courses",
                          {"courseId": params.courseId, "courseIds": course_ids}, code="course_not_configured")
        course_ids = [params.courseId]
    return ctx, hierarchies(session, course_ids)


def built_report(group_id: str, courses: Sequence[CourseHierarchy], members: Sequence[str]) -> Report:
    """The unfiltered report as dicts. From the engine's JSON when the store writes it (the DuckDB adapter's
    kept cells: ~20 ms plus a parse of the text, against ~330 ms for the shared statements' rows and
    `build_report` at 1,000 members x 20 courses; tests hold the two equal), else built from the rows."""
    store = analytics()
    try:
        written = store.progress_json(group_id, courses, members)
        if written is not None:
            parsed: Report = orjson.loads(written)
            return parsed
        rows = store.progress_rows(members, [c.course_id for c in courses])
    except StoreError as error:
        raise store_failure(error) from error
    return build_report(group_id, courses, members, rows)


def report(session: Session, group_id: str, user_id: str, params: ReportQuery,
           now_ms: int | None = None) -> Report:
    """The report as dicts (filters applied), for the CSV, the group page and filtered JSON answers."""
    ctx, courses = _courses(session, group_id, user_id, params)
    built = built_report(group_id, courses, ctx.visible_user_ids)
    if params.status is None and params.inactiveDays is None:
        return built
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return filter_members(built, status=params.status, inactive_days=params.inactiveDays, now_ms=now_ms)


def report_body(session: Session, group_id: str, user_id: str, params: ReportQuery) -> bytes:
    """The report as JSON text. Without member filters the store writes it when it can (the DuckDB adapter's
    one statement, query_api/store/duckdb_report.py), else it is written directly from the store's rows
    (json_writer): either keeps a 1,000 x 20 report close to the cost of its query."""
    if params.status is not None or params.inactiveDays is not None:
        return to_json(report(session, group_id, user_id, params))
    ctx, courses = _courses(session, group_id, user_id, params)
    store = analytics()
    try:
        written = store.progress_json(group_id, courses, ctx.visible_user_ids)
        if written is not None:
            return written
        rows = store.progress_rows(ctx.visible_user_ids, [c.course_id for c in courses])
    except StoreError as error:
        raise store_failure(error) from error
    return report_json(group_id, courses, ctx.visible_user_ids, rows)


def course_list(session: Session, group_id: str, user_id: str) -> tuple[ReportContext, list[dict[str, Any]]]:
    ctx = context(session, group_id, user_id)
    rows = {c.id: c for c in session.scalars(select(Course).where(Course.id.in_(ctx.course_ids)))} \
        if ctx.course_ids else {}
    listed = []
    for course_id in ctx.course_ids:
        row = rows.get(course_id)
        listed.append({"courseId": course_id, "name": row.name if row else course_id,
                       "leafCount": row.leaf_count if row else 0, "board": row.board if row else None,
                       "medium": list(row.medium) if row else [], "gradeLevel": list(row.grade_level) if row else [],
                       "subject": list(row.subject) if row else [], "inCatalog": row is not None})
    return ctx, listed


def change_courses(session: Session, group_id: str, user_id: str, *, add: str | None = None,
                   remove: str | None = None) -> list[str]:
    """Add or remove one configured course (admins only; the link service validates and stores the config)."""
    from query_api.services.catalog import require_courses
    from query_api.services.plugin_links import link_plugin

    group_for_user(group_id, user_id, need_admin=True, session=session)  # 404 / 403 before anything else
    config = plugin_config(group_id, PLUGIN_ID, session=session)
    course_ids = list(config.get("courseIds") or [])
    if add is not None:
        require_courses(session, [add])  # 422 unknown_course
        if add in course_ids:
            return course_ids
        course_ids.append(add)
    if remove is not None:
        if remove not in course_ids:
            raise Invalid(f"course {remove} is not one of the group's report courses",
                          {"courseId": remove}, code="course_not_configured")
        if len(course_ids) == 1:
            raise Conflict("the report needs at least one course: add another before removing this one",
                           {"courseId": remove}, code="last_course")
        course_ids.remove(remove)
    link_plugin(session, current_app.extensions["lpa.settings"], current_app.extensions["lpa.plugins"], user_id,
                group_id, PLUGIN_ID, {**config, "courseIds": course_ids})
    session.commit()
    return course_ids
