"""/v1/groups: create, read, update, list mine, delete; members; leave."""

from __future__ import annotations

from flask import Blueprint, Response

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, no_content, respond, settings
from query_api.schemas.groups import GroupCreate, GroupList, GroupUpdate, MemberList, MembersAdd, RoleChange
from query_api.services import groups as rules
from query_api.services.access import require_member
from query_api.services.present import group_out, member_out

bp = Blueprint("groups", __name__, url_prefix="/v1/groups")


@bp.post("")
@login_required
def create() -> Response:
    session = db.session()
    group = rules.create_group(session, settings(), current_user_id(), body(GroupCreate))
    session.commit()
    return respond(group_out(group, "admin", with_members=True), 201)


@bp.get("")
@login_required
def list_mine() -> Response:
    rows = rules.groups_of(db.session(), current_user_id())
    return respond(GroupList(groups=[group_out(group, role) for group, role in rows]))


@bp.get("/<group_id>")
@login_required
def read(group_id: str) -> Response:
    group, role = require_member(db.session(), group_id, current_user_id())
    return respond(group_out(group, role, with_members=True))


@bp.patch("/<group_id>")
@login_required
def update(group_id: str) -> Response:
    session = db.session()
    changes = body(GroupUpdate)
    group = rules.update_group(session, current_user_id(), group_id, changes)
    session.commit()
    if group.status == "inactive":
        return no_content()
    _, role = require_member(session, group_id, current_user_id())
    return respond(group_out(group, role, with_members=True))


@bp.delete("/<group_id>")
@login_required
def delete(group_id: str) -> Response:
    session = db.session()
    rules.delete_group(session, current_user_id(), group_id)
    session.commit()
    return no_content()


@bp.get("/<group_id>/members")
@login_required
def members(group_id: str) -> Response:
    group, _ = require_member(db.session(), group_id, current_user_id())
    active = [member_out(m) for m in group.members if m.status == "active"]
    return respond(MemberList(groupId=group_id, members=active))


@bp.post("/<group_id>/members")
@login_required
def add_members(group_id: str) -> Response:
    session = db.session()
    request_body = body(MembersAdd)
    group = rules.add_members(session, settings(), current_user_id(), group_id, request_body.members)
    session.commit()
    return respond(MemberList(groupId=group_id, members=[member_out(m) for m in group.members
                                                         if m.status == "active"]))


@bp.patch("/<group_id>/members/<user_id>")
@login_required
def change_role(group_id: str, user_id: str) -> Response:
    session = db.session()
    change = body(RoleChange)
    member = rules.change_role(session, current_user_id(), group_id, user_id, change.role)
    session.commit()
    return respond(member_out(member))


@bp.delete("/<group_id>/members/<user_id>")
@login_required
def remove_member(group_id: str, user_id: str) -> Response:
    session = db.session()
    rules.remove_member(session, current_user_id(), group_id, user_id)
    session.commit()
    return no_content()


@bp.post("/<group_id>/leave")
@login_required
def leave(group_id: str) -> Response:
    session = db.session()
    rules.leave_group(session, current_user_id(), group_id)
    session.commit()
    return no_content()
