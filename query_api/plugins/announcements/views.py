"""`/v1/groups/<group_id>/plugins/announcements`: `POST /announcements` (admins), `GET /announcements`
(members; newest first; `?limit=&offset=&includeExpired=` the last for admins), `GET|DELETE
/announcements/<id>` (DELETE: admins)."""

from __future__ import annotations

from flask import Blueprint, Response

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, no_content, query
from query_api.plugins.announcements import service
from query_api.plugins.common import json_response

blueprint = Blueprint("announcements", __name__)


@blueprint.post("/announcements")
@login_required
def post(group_id: str) -> Response:
    return json_response(service.post(db.session(), group_id, current_user_id(), body(service.AnnouncementIn)), 201)


@blueprint.get("/announcements")
@login_required
def listing(group_id: str) -> Response:
    return json_response(service.listing(db.session(), group_id, current_user_id(),
                                         query(service.AnnouncementQuery)))


@blueprint.get("/announcements/<announcement_id>")
@login_required
def get(group_id: str, announcement_id: str) -> Response:
    return json_response(service.get(db.session(), group_id, current_user_id(), announcement_id))


@blueprint.delete("/announcements/<announcement_id>")
@login_required
def remove(group_id: str, announcement_id: str) -> Response:
    service.remove(db.session(), group_id, current_user_id(), announcement_id)
    return no_content()
