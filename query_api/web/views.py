"""Routes of the group page. The page uses the same use cases as the REST API
(query_api.plugins.progress_report.report), so access rules, filters and errors are the API's own."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from query_api import db
from query_api.auth import decode_token
from query_api.errors import ApiError, Unauthorized
from query_api.plugins.progress_report import report as use
from query_api.plugins.progress_report.csv_export import report_csv
from query_api.plugins.progress_report.views import search_params
from query_api.progress.filters import Status
from query_api.services import catalog
from query_api.services.access import group_for_user
from query_api.services.groups import groups_of
from query_api.web import session as web_session
from query_api.web import view_models

blueprint = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/web")

FILTER_KEYS = ("courseId", "status", "inactiveDays")
SEARCH_KEYS = ("board", "medium", "gradeLevel", "subject", "q")


def _login_redirect() -> BaseResponse:
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))


def _error_page(error: ApiError) -> tuple[str, int]:
    return render_template("web/error.html", error=error), error.status


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[str, int]:
    return _error_page(error)


@blueprint.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> tuple[str, int]:
    messages = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
    return _error_page(ApiError(422, "invalid_input", messages))


@blueprint.get("/login")
def login() -> str:
    return render_template("web/login.html", next=web_session.safe_next(request.args.get("next")), error=None)


@blueprint.post("/login")
def login_submit() -> BaseResponse | tuple[str, int]:
    token = (request.form.get("token") or "").strip()
    target = web_session.safe_next(request.form.get("next"))
    try:
        if not token:
            raise Unauthorized("paste the token that `lpa token USER_ID` printed")
        decode_token(web_session.settings(), token)
    except ApiError as error:
        return render_template("web/login.html", next=target, error=error.message), 401
    response = redirect(target)
    _set_session(response, token)
    return response


@blueprint.post("/logout")
def logout() -> BaseResponse:
    response = redirect(url_for("web.login"))
    response.delete_cookie(web_session.COOKIE)
    return response


@blueprint.get("/groups")
def my_groups() -> BaseResponse | str:
    caller = web_session.caller_from_cookie()
    if caller is None:
        return _login_redirect()
    return render_template("web/groups.html", user_id=caller.user_id, groups=groups_of(db.session(), caller.user_id))


def _report_params() -> use.ReportQuery:
    args = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v.strip()}
    return use.ReportQuery.model_validate(args)


def _login_link(token: str) -> BaseResponse:
    """`?token=` on a page (the link `lpa demo` prints): verify it, keep it in the cookie, and redirect to the
    same page without it, so the token does not stay in the address bar or reach a Referer."""
    try:
        decode_token(web_session.settings(), token)
    except ApiError as error:
        return make_response(render_template("web/login.html", next=request.path, error=error.message), 401)
    args = {k: v for k, v in request.args.items() if k != "token"}
    response = redirect(request.path + (f"?{urlencode(args)}" if args else ""))
    _set_session(response, token)
    return response


def _set_session(response: BaseResponse, token: str) -> None:
    response.set_cookie(web_session.COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure,
                        max_age=web_session.settings().token_ttl_s)


@blueprint.get("/groups/<group_id>")
def group_page(group_id: str) -> BaseResponse | tuple[str, int]:
    if request.args.get("token"):
        return _login_link(request.args["token"])
    caller = web_session.caller_from_cookie()
    if caller is None:
        return _login_redirect()
    session = db.session()
    access = group_for_user(group_id, caller.user_id, session=session)
    ctx, courses = use.course_list(session, group_id, caller.user_id)
    params = _report_params()
    store_error: str | None = None
    status = 200
    try:
        data = use.report(session, group_id, caller.user_id, params)
    except ApiError as error:
        if error.status != 503:
            raise
        store_error, status = error.message, 503
        data = {"groupId": group_id, "courses": [], "members": []}
    search: dict[str, Any] | None = None
    search_args = {k: request.args[k] for k in SEARCH_KEYS if k in request.args}
    if ctx.access.is_admin and request.args.get("search"):
        found_total, found = catalog.search(session, search_params(ctx.config, search_args))
        search = {"total": found_total, "courses": found, "configured": set(ctx.course_ids)}
    filters = {k: request.args.get(k, "") for k in FILTER_KEYS}
    csv_query = urlencode({k: v for k, v in filters.items() if v})
    html = render_template(
        "web/group.html", access=access, user_id=caller.user_id, courses=courses, report=data,
        filters=filters, statuses=[s.value for s in Status], csv_query=csv_query, store_error=store_error,
        search=search, search_args={**(ctx.config.get("filters") or {}), **search_args},
        csrf=web_session.csrf_token(), cell_style=view_models.cell_style,
        averages=view_models.course_averages(data), counts=view_models.status_counts(data),
        course_names={c["courseId"]: c["name"] for c in data["courses"]},
        unit_names=view_models.unit_names(data), sees_all=access.is_admin or bool(ctx.config.get("membersSeeAll")))
    return html, status


@blueprint.get("/groups/<group_id>/progress-report.csv")
def group_csv(group_id: str) -> BaseResponse:
    caller = web_session.caller_from_cookie()
    if caller is None:
        return _login_redirect()
    data = use.report(db.session(), group_id, caller.user_id, _report_params())
    return Response(report_csv(data), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="progress-report-{group_id}.csv"'})


@blueprint.post("/groups/<group_id>/courses")
def add_course(group_id: str) -> BaseResponse:
    caller = web_session.caller_from_cookie()
    if caller is None:
        return _login_redirect()
    web_session.check_csrf()
    course_id = (request.form.get("courseId") or "").strip()
    use.change_courses(db.session(), group_id, caller.user_id, add=course_id)
    return make_response(redirect(url_for("web.group_page", group_id=group_id)))


@blueprint.post("/groups/<group_id>/courses/<course_id>/remove")
def remove_course(group_id: str, course_id: str) -> BaseResponse:
    caller = web_session.caller_from_cookie()
    if caller is None:
        return _login_redirect()
    web_session.check_csrf()
    use.change_courses(db.session(), group_id, caller.user_id, remove=course_id)
    return redirect(url_for("web.group_page", group_id=group_id))
