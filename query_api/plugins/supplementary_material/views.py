"""`/v1/groups/<group_id>/plugins/supplementary-material`:
- `POST /subgroups {"name", "rule"}` (admins of this, the parent, group) and `GET /subgroups` (admins);
- `GET /materials` (members of this group), `POST /materials` and `DELETE /materials/<id>` (its admins).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, no_content, query, settings
from query_api.plugins.common import Page, json_response
from query_api.plugins.supplementary_material import service

blueprint = Blueprint("supplementary_material", __name__)


@blueprint.post("/subgroups")
@login_required
def create_subgroup(group_id: str) -> Response:
    data = body(service.SubgroupIn)
    return json_response(service.create_subgroup(db.session(), settings(), current_app.extensions["lpa.plugins"],
                                                  group_id, current_user_id(), data), 201)


@blueprint.get("/subgroups")
@login_required
def subgroups(group_id: str) -> Response:
    return json_response(service.subgroups(db.session(), group_id, current_user_id()))


@blueprint.post("/materials")
@login_required
def add_material(group_id: str) -> Response:
    return json_response(service.add_material(db.session(), group_id, current_user_id(), body(service.MaterialIn)),
                         201)


@blueprint.get("/materials")
@login_required
def materials(group_id: str) -> Response:
    return json_response(service.materials(db.session(), group_id, current_user_id(), query(Page)))


@blueprint.delete("/materials/<material_id>")
@login_required
def remove_material(group_id: str, material_id: str) -> Response:
    service.remove_material(db.session(), group_id, current_user_id(), material_id)
    return no_content()
