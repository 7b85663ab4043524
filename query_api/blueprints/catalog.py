"""/v1/courses: search, read, and PUT a hierarchy (operators only: the catalog is shared by every group)."""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, Response, current_app, jsonify, request

from query_api import db
from query_api.auth import current_caller, login_required
from query_api.errors import Forbidden, Invalid, Unavailable
from query_api.http import query, respond
from query_api.schemas.catalog import CoursePage, CourseQuery, HierarchyStored
from query_api.services import catalog as service
from query_api.services.present import course_out

log = logging.getLogger(__name__)
bp = Blueprint("catalog", __name__, url_prefix="/v1/courses")


# Two PUTs of one course (a republish and a resend, say) must not leave the older hierarchy's leaves in the
# analytics store: each writes the catalog's latest committed hierarchy, reading and writing in turn. The
# turns are per course (striped locks), and in-process: they order the embedded store's single writer
# process; Druid behind several gunicorn workers is not ordered by them.
_LEAVES_TURNS = [threading.Lock() for _ in range(64)]


def refresh_analytics_leaves(stored: service.Stored) -> None:
    """Keep the analytics store's current leaves in step with the catalog (after the catalog's commit). The
    same hierarchy again is written too when the store does not hold its leaves (the advice after a failed
    write below). What is written is the latest committed version, which may be newer than `stored`."""
    analytics = current_app.extensions.get("lpa.analytics")
    if analytics is None:
        return
    try:
        with _LEAVES_TURNS[hash(stored.course.id) % len(_LEAVES_TURNS)]:
            with db.session_scope(current_app.extensions["lpa.db"].session_factory) as fresh:
                latest_hash = service.content_hash(fresh, stored.course.id)
                if latest_hash is None:  # deleted meanwhile: nothing to count against
                    return
                # the document just stored is usually still the latest: no second parse of it
                current = (stored.hierarchy if latest_hash == stored.course.content_hash
                           else service.current_hierarchy(fresh, stored.course.id))
            if current is None:
                return
            stale_courses = getattr(analytics, "stale_courses", None)  # adapters may predate it
            if not stored.changed and (stale_courses is None or not stale_courses([current])):
                return
            analytics.replace_course_leaves(current)
    except Exception as error:
        log.error("course %s stored but its analytics leaves were not refreshed: %s", stored.course.id, error,
                  exc_info=error)
        raise Unavailable(f"course {stored.course.id} was stored, but the analytics store could not take its "
                          "leaves; send the same hierarchy again", {"courseId": stored.course.id},
                          code="analytics_unavailable") from error


@bp.get("")
@login_required
def search() -> Response:
    params = query(CourseQuery)
    total, rows = service.search(db.session(), params)
    return respond(CoursePage(count=total, limit=params.limit, offset=params.offset,
                              courses=[course_out(c) for c in rows]))


@bp.get("/<course_id>")
@login_required
def read(course_id: str) -> Response:
    return respond(course_out(service.get_course(db.session(), course_id), with_units=True))


@bp.get("/<course_id>/hierarchy")
@login_required
def hierarchy(course_id: str) -> Response:
    return jsonify(service.get_course(db.session(), course_id).hierarchy)


@bp.put("/<course_id>/hierarchy")
@login_required
def put_hierarchy(course_id: str) -> Response:
    if not current_caller().is_operator:
        raise Forbidden("only an operator can load course hierarchies", code="operator_required")
    doc = request.get_json(silent=True, force=True)
    if doc is None:
        raise Invalid("the request body must be the course hierarchy as JSON", code="invalid_json")
    session = db.session()
    stored = service.store_hierarchy(session, doc, expected_id=course_id)
    session.commit()
    refresh_analytics_leaves(stored)
    return respond(HierarchyStored(course=course_out(stored.course, with_units=True), changed=stored.changed),
                   201 if stored.changed and stored.course.version == 1 else 200)
