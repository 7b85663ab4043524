"""The course catalog: store a hierarchy (a republish replaces it), read it back, search it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from ingestion.hierarchy import CourseHierarchy, HierarchyError, parse_hierarchy
from query_api.errors import Invalid, NotFound
from query_api.models import Course, CourseFacet, utcnow
from query_api.schemas.catalog import CourseQuery
from query_api.services.counters import next_revision

if TYPE_CHECKING:
    from query_api.store.base import AnalyticsStore

FACETS = ("board", "medium", "gradeLevel", "subject")  # the allow-list of searchable facets


@dataclass(frozen=True)
class Stored:
    course: Course
    hierarchy: CourseHierarchy
    changed: bool


def unwrap(doc: Any) -> Any:
    """The platform's read API wraps the hierarchy in result.content; keep only the course itself."""
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        return doc["result"].get("content", doc["result"])
    return doc


def parse_or_invalid(doc: Any) -> CourseHierarchy:
    try:
        return parse_hierarchy(doc)
    except HierarchyError as error:
        raise Invalid(f"invalid course hierarchy: {error}", {"reason": str(error)},
                      code="invalid_hierarchy") from error


def _facet_values(hierarchy: CourseHierarchy) -> dict[str, tuple[str, ...]]:
    return {"board": (hierarchy.board,) if hierarchy.board else (), "medium": hierarchy.medium,
            "gradeLevel": hierarchy.grade_level, "subject": hierarchy.subject}


def store_hierarchy(session: Session, doc: Any, expected_id: str | None = None) -> Stored:
    """Validate and store one course; the same JSON again changes nothing (and keeps its version)."""
    doc = unwrap(doc)
    hierarchy = parse_or_invalid(doc)
    if expected_id is not None and hierarchy.course_id != expected_id:
        raise Invalid(f"the document's identifier {hierarchy.course_id!r} differs from the course id in the path",
                      {"path": expected_id, "identifier": hierarchy.course_id}, code="id_mismatch")
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    course = session.get(Course, hierarchy.course_id, with_for_update=True)
    if course is not None and course.content_hash == digest:
        return Stored(course, hierarchy, False)
    now = utcnow()
    if course is None:
        course = Course(id=hierarchy.course_id, version=1, created_on=now)
        session.add(course)
    else:
        course.version += 1
    course.name, course.board = hierarchy.name, hierarchy.board
    course.medium, course.grade_level, course.subject = (list(hierarchy.medium), list(hierarchy.grade_level),
                                                         list(hierarchy.subject))
    course.leaf_count, course.unit_count = hierarchy.leaf_count, len(hierarchy.reported_units)
    course.hierarchy, course.content_hash, course.updated_on = doc, digest, now
    course.revision = next_revision(session, "catalog")
    session.flush()
    session.execute(delete(CourseFacet).where(CourseFacet.course_id == course.id))
    values = {(facet, v.strip().lower()) for facet, vs in _facet_values(hierarchy).items() for v in vs if v.strip()}
    session.add_all(CourseFacet(course_id=course.id, facet=f, value=v[:256]) for f, v in sorted(values))
    session.flush()
    return Stored(course, hierarchy, True)


def content_hash(session: Session, course_id: str) -> str | None:
    """The stored document's hash; None when the catalog does not hold the course."""
    return session.scalar(select(Course.content_hash).where(Course.id == course_id))


def current_hierarchy(session: Session, course_id: str) -> CourseHierarchy | None:
    """The course's stored hierarchy, parsed; None when the catalog does not hold it."""
    doc = session.scalar(select(Course.hierarchy).where(Course.id == course_id))
    return None if doc is None else parse_hierarchy(doc)


def get_course(session: Session, course_id: str) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"course {course_id} not found", {"courseId": course_id}, code="course_not_found")
    return course


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(query: Select[Any], params: CourseQuery) -> Select[Any]:
    for facet in FACETS:
        value = getattr(params, facet)
        if value:
            query = query.where(select(CourseFacet.course_id).where(
                CourseFacet.course_id == Course.id, CourseFacet.facet == facet,
                CourseFacet.value == value.strip().lower()).exists())
    if params.q and params.q.strip():
        pattern = f"%{_escape_like(params.q.strip().lower())}%"
        query = query.where(or_(func.lower(Course.name).like(pattern, escape="\\"),
                                func.lower(Course.id).like(pattern, escape="\\")))
    return query


def search(session: Session, params: CourseQuery) -> tuple[int, list[Course]]:
    total = session.scalar(_filtered(select(func.count()).select_from(Course), params)) or 0
    rows = session.scalars(_filtered(select(Course), params).order_by(Course.name, Course.id)
                           .limit(params.limit).offset(params.offset))
    return int(total), list(rows)


def known_course_ids(session: Session, course_ids: list[str]) -> set[str]:
    if not course_ids:
        return set()
    return set(session.scalars(select(Course.id).where(Course.id.in_(course_ids))))


def require_courses(session: Session, course_ids: list[str]) -> None:
    missing = sorted(set(course_ids) - known_course_ids(session, course_ids))
    if missing:
        raise Invalid("unknown course ids (load them with `lpa catalog load`)", {"unknownCourseIds": missing},
                      code="unknown_course")


def sync_analytics_leaves(session: Session, analytics: AnalyticsStore,
                          chunk: int = 200) -> tuple[list[str], dict[str, str]]:
    """Hand every catalog course whose current leaves the analytics store does not hold to
    `replace_course_leaves` (run at start-up: a store written by an earlier version, or one rebuilt beside an
    older catalog, would otherwise count against missing leaves until each course is republished).
    Returns the ids brought up to date and, per course that could not be, why: one course must not keep the
    stack from starting (it is written again when its hierarchy is PUT). An adapter that cannot tell which
    courses are stale (`stale_courses` not overridden, e.g. Druid) is left alone."""
    from query_api.store.base import AnalyticsStore  # the store package imports services: late import

    synced: list[str] = []
    failed: dict[str, str] = {}
    if type(analytics).stale_courses is AnalyticsStore.stale_courses:
        return synced, failed
    course_ids = list(session.scalars(select(Course.id).order_by(Course.id)))
    for start in range(0, len(course_ids), chunk):
        hierarchies: dict[str, CourseHierarchy] = {}
        for course in session.scalars(select(Course).where(Course.id.in_(course_ids[start:start + chunk]))):
            try:
                hierarchies[course.id] = parse_hierarchy(course.hierarchy)
            except HierarchyError as error:
                failed[course.id] = f"its stored hierarchy no longer parses: {error}"
        for course_id in analytics.stale_courses(list(hierarchies.values())):
            try:
                analytics.replace_course_leaves(hierarchies[course_id])
            except Exception as error:  # reported to the caller; the next PUT of the course writes it again
                failed[course_id] = f"{type(error).__name__}: {error}"
            else:
                synced.append(course_id)
    return synced, failed
