"""`/v1/groups/<group_id>/plugins/leaderboard`: `GET /leaderboard` (every member)."""

from __future__ import annotations

from flask import Blueprint, Response

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.plugins.common import json_response
from query_api.plugins.leaderboard import service

blueprint = Blueprint("leaderboard", __name__)


@blueprint.get("/leaderboard")
@login_required
def leaderboard(group_id: str) -> Response:
    return json_response(service.leaderboard(db.session(), group_id, current_user_id()))
