"""`/v1/groups/<group_id>/plugins/discussion-forum`: `GET|POST /threads`, `GET|PATCH /threads/<id>` (PATCH
`{"locked"}`: admins), `POST /threads/<id>/posts`, `DELETE /threads/<id>/posts/<postId>` (admins, or the author).
"""

from __future__ import annotations

from flask import Blueprint, Response

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, no_content, query
from query_api.plugins.common import Page, json_response
from query_api.plugins.discussion_forum import service

blueprint = Blueprint("discussion_forum", __name__)


@blueprint.post("/threads")
@login_required
def start_thread(group_id: str) -> Response:
    return json_response(service.start_thread(db.session(), group_id, current_user_id(), body(service.ThreadIn)), 201)


@blueprint.get("/threads")
@login_required
def threads(group_id: str) -> Response:
    return json_response(service.threads(db.session(), group_id, current_user_id(), query(Page)))


@blueprint.get("/threads/<thread_id>")
@login_required
def thread(group_id: str, thread_id: str) -> Response:
    return json_response(service.thread(db.session(), group_id, current_user_id(), thread_id, query(Page)))


@blueprint.patch("/threads/<thread_id>")
@login_required
def change_thread(group_id: str, thread_id: str) -> Response:
    return json_response(service.change_thread(db.session(), group_id, current_user_id(), thread_id,
                                               body(service.ThreadChange)))


@blueprint.post("/threads/<thread_id>/posts")
@login_required
def reply(group_id: str, thread_id: str) -> Response:
    return json_response(service.reply(db.session(), group_id, current_user_id(), thread_id, body(service.PostIn)),
                         201)


@blueprint.delete("/threads/<thread_id>/posts/<post_id>")
@login_required
def remove_post(group_id: str, thread_id: str, post_id: str) -> Response:
    service.remove_post(db.session(), group_id, current_user_id(), thread_id, post_id)
    return no_content()
