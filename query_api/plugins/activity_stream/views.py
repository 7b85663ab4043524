"""`/v1/groups/<group_id>/plugins/activity-stream`: `GET /entries?limit=&offset=` (members; newest first),
`POST /entries {"body"}` (members), `DELETE /entries/<id>` (admins, or the author of an update)."""

from __future__ import annotations

from flask import Blueprint, Response

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, no_content, query
from query_api.plugins.activity_stream import service
from query_api.plugins.common import Page, json_response

blueprint = Blueprint("activity_stream", __name__)


@blueprint.get("/entries")
@login_required
def entries(group_id: str) -> Response:
    return json_response(service.entries(db.session(), group_id, current_user_id(), query(Page)))


@blueprint.post("/entries")
@login_required
def post_update(group_id: str) -> Response:
    return json_response(service.post_update(db.session(), group_id, current_user_id(), body(service.UpdateIn)), 201)


@blueprint.delete("/entries/<entry_id>")
@login_required
def remove(group_id: str, entry_id: str) -> Response:
    service.remove(db.session(), group_id, current_user_id(), entry_id)
    return no_content()
