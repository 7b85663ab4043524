"""`/v1/groups/<group_id>/plugins/assessment`: `POST /assessments` (admins release), `GET /assessments`
(members, newest first), `GET /assessments/<id>`, `DELETE /assessments/<id>` (admins withdraw)."""

from __future__ import annotations

from flask import Blueprint, Response

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, no_content, query
from query_api.plugins.assessment import service
from query_api.plugins.common import Page, json_response

blueprint = Blueprint("assessment", __name__)


@blueprint.post("/assessments")
@login_required
def release(group_id: str) -> Response:
    return json_response(service.release(db.session(), group_id, current_user_id(), body(service.ReleaseIn)), 201)


@blueprint.get("/assessments")
@login_required
def listing(group_id: str) -> Response:
    return json_response(service.listing(db.session(), group_id, current_user_id(), query(Page)))


@blueprint.get("/assessments/<assessment_id>")
@login_required
def get(group_id: str, assessment_id: str) -> Response:
    return json_response(service.get(db.session(), group_id, current_user_id(), assessment_id))


@blueprint.delete("/assessments/<assessment_id>")
@login_required
def withdraw(group_id: str, assessment_id: str) -> Response:
    service.withdraw(db.session(), group_id, current_user_id(), assessment_id)
    return no_content()
