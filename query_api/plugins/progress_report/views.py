"""The Progress Report blueprint, mounted by the plugin registry at
`/v1/groups/<group_id>/plugins/progress-report`:

- `GET  /report[?courseId=&status=&inactiveDays=&format=csv]` (contracts.md section 6);
- `GET  /courses` the configured courses; `POST /courses {"courseId"}` and `DELETE /courses/<courseId>` (admins);
- `GET  /courses/search?board=&medium=&gradeLevel=&subject=&q=` the catalog, defaulting to the config's filters.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, query
from query_api.plugins.progress_report import report as use
from query_api.plugins.progress_report.csv_export import report_csv
from query_api.schemas.catalog import CourseQuery
from query_api.services import catalog
from query_api.services.present import course_out

blueprint = Blueprint("progress_report", __name__)


class CourseAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    courseId: str = Field(min_length=1, max_length=256)


def _json(data: object, status: int = 200) -> Response:
    return Response(to_json(data), status=status, mimetype="application/json")


@blueprint.get("/report")
@login_required
def get_report(group_id: str) -> Response:
    params = query(use.ReportQuery)
    if params.format == "csv":
        result = use.report(db.session(), group_id, current_user_id(), params)
        return Response(report_csv(result), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="progress-report-{group_id}.csv"'})
    body_json = use.report_body(db.session(), group_id, current_user_id(), params)
    return Response(body_json, mimetype="application/json")


@blueprint.get("/courses")
@login_required
def list_courses(group_id: str) -> Response:
    ctx, courses = use.course_list(db.session(), group_id, current_user_id())
    return _json({"groupId": group_id, "courses": courses, "filters": ctx.config.get("filters") or {},
                  "canEdit": ctx.access.is_admin})


@blueprint.post("/courses")
@login_required
def add_course(group_id: str) -> Response:
    course_id = body(CourseAdd).courseId
    course_ids = use.change_courses(db.session(), group_id, current_user_id(), add=course_id)
    return _json({"groupId": group_id, "courseIds": course_ids})


@blueprint.delete("/courses/<course_id>")
@login_required
def remove_course(group_id: str, course_id: str) -> Response:
    course_ids = use.change_courses(db.session(), group_id, current_user_id(), remove=course_id)
    return _json({"groupId": group_id, "courseIds": course_ids})


@blueprint.get("/courses/search")
@login_required
def search_courses(group_id: str) -> Response:
    session = db.session()
    ctx = use.context(session, group_id, current_user_id())
    params = search_params(ctx.config, request.args.to_dict())
    total, rows = catalog.search(session, params)
    configured = set(ctx.course_ids)
    return _json({"count": total, "limit": params.limit, "offset": params.offset,
                  "courses": [{**course_out(c).model_dump(mode="json"), "configured": c.id in configured}
                              for c in rows]})


def search_params(config: dict, args: dict[str, str]) -> CourseQuery:
    """The config's `filters` are the default facets; the query string overrides them (empty clears one)."""
    merged: dict[str, str] = {k: v for k, v in (config.get("filters") or {}).items() if v}
    for key, value in args.items():
        if value.strip():
            merged[key] = value
        else:
            merged.pop(key, None)
    return CourseQuery.model_validate(merged)
