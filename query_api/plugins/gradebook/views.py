"""`/v1/groups/<group_id>/plugins/gradebook`: `GET /grades` (admins: every learner with averages; others:
their own row) and `GET /grades/<userId>` (admins: any learner; others: themselves only, else 403)."""

from __future__ import annotations

from flask import Blueprint, Response

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.plugins.common import json_response
from query_api.plugins.gradebook import service

blueprint = Blueprint("gradebook", __name__)


@blueprint.get("/grades")
@login_required
def grades(group_id: str) -> Response:
    return json_response(service.grades(db.session(), group_id, current_user_id()))


@blueprint.get("/grades/<user_id>")
@login_required
def learner_grades(group_id: str, user_id: str) -> Response:
    return json_response(service.learner_grades(db.session(), group_id, current_user_id(), user_id))
