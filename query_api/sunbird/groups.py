"""groups-service's calls over this project's groups: the same rows as `/v1/groups`, the same rules
(`services.groups`), with Sunbird's partial success: a member or activity that cannot be added, changed or
removed is listed in `result.error` while the rest of the request is applied.

The project's rule functions check everything before they change anything, so a refused item leaves no
trace and the loop simply goes on to the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lpa.settings import Settings
from query_api.errors import ApiError, LimitExceeded
from query_api.models import Batch, Course, Group, GroupActivity, GroupMember, PluginLink, utcnow
from query_api.plugins.progress_report.plugin import PLUGIN_ID as PROGRESS_REPORT
from query_api.schemas.groups import GroupCreate, GroupUpdate
from query_api.schemas.groups import MemberIn as ProjectMemberIn
from query_api.services import groups as rules
from query_api.services.access import require_member
from query_api.sunbird.envelope import sunbird_ts
from query_api.sunbird.errors import SunbirdError, item_error
from query_api.sunbird.requests import ActivityIn, CreateRequest, MemberIn, UpdateRequest

COURSE = "Course"
COLLECTION_MIME = "application/vnd.ekstep.content-collection"
DEFAULT_MAX_ACTIVITIES = 100  # groups-service's default max_activity_limit

# The project's per-item error codes -> Sunbird's item codes (anything else keeps its project code upper-cased).
_ITEM_CODES = {"member_exists": "MEMBER_EXISTS", "member_not_found": "MEMBER_NOT_FOUND", "last_admin": "LAST_ADMIN",
               "not_in_parent": "NOT_IN_PARENT", "batch_managed": "BATCH_MANAGED"}

Errors = dict[str, list[dict[str, str]]]


def _item_code(error: ApiError, settings: Settings, over_groups_code: str) -> dict[str, Any]:
    if isinstance(error, LimitExceeded) and (error.details or {}).get("limit") == "max_groups_per_user":
        return {"code": over_groups_code, "args": (settings.max_groups_per_user,)}
    if isinstance(error, LimitExceeded):
        return {"code": "GS_UDT05", "args": (settings.max_members_per_group,)}
    return {"code": _ITEM_CODES.get(error.code, error.code.upper()), "args": ()}


def _refused(error: ApiError, settings: Settings, user_id: str, over_groups_code: str = "GS_CRT04") -> dict[str, str]:
    found = _item_code(error, settings, over_groups_code)
    try:
        return item_error(found["code"], *found["args"], userId=user_id)
    except KeyError:  # a project code with no Sunbird message: say what the project said
        return {"userId": user_id, "errorCode": found["code"], "errorMessage": error.message}


def _dedupe_members(members: Iterable[MemberIn], caller: str) -> list[MemberIn]:
    seen: dict[str, MemberIn] = {}
    for member in members:
        if member.userId != caller:
            seen.setdefault(member.userId, member)
    return list(seen.values())


def _add_members(session: Session, settings: Settings, caller: str, group_id: str, members: list[MemberIn],
                 over_groups_code: str) -> list[dict[str, str]]:
    refused = []
    for member in members:
        try:
            rules.add_members(session, settings, caller, group_id, [ProjectMemberIn(userId=member.userId,
                                                                                    role=member.role)])
        except ApiError as error:
            refused.append(_refused(error, settings, member.userId, over_groups_code))
    return refused


def _add_activities(session: Session, group: Group, caller: str, activities: list[ActivityIn]) -> None:
    have = {a.activity_id for a in group.activities}
    now = utcnow()
    for activity in activities:
        if activity.id not in have:
            have.add(activity.id)
            group.activities.append(GroupActivity(activity_id=activity.id, activity_type=activity.type,
                                                  created_on=now, created_by=caller))
    session.flush()


def _unique_activities(activities: Iterable[ActivityIn]) -> list[ActivityIn]:
    return list({a.id: a for a in reversed(list(activities))}.values())[::-1]


def create(session: Session, settings: Settings, caller: str, body: CreateRequest,
           max_activities: int = DEFAULT_MAX_ACTIVITIES) -> dict[str, Any]:
    """-> result: {groupId[, error]}. GS_CRT04 refuses the whole call when the caller has too many groups;
    too many members or activities are refused as a whole and listed (GS_CRT05 / GS_CRT06)."""
    try:
        group = rules.create_group(session, settings, caller, GroupCreate(
            name=body.name, description=body.description, membershipType=body.membershipType))
    except LimitExceeded as error:
        raise SunbirdError("GS_CRT04", 400, settings.max_groups_per_user) from error
    errors: Errors = {"members": [], "activities": []}
    members = _dedupe_members(body.members, caller)
    if 1 + len(members) > settings.max_members_per_group:
        errors["members"].append(item_error("GS_CRT05", settings.max_members_per_group))
    else:
        errors["members"] = _add_members(session, settings, caller, group.id, members, "GS_CRT04")
    activities = _unique_activities(body.activities)
    if len(activities) > max_activities:
        errors["activities"].append(item_error("GS_CRT06", max_activities))
    else:
        _add_activities(session, group, caller, activities)
    result: dict[str, Any] = {"groupId": group.id}
    if errors["members"] or errors["activities"]:
        result["error"] = errors
    return result


def _leaving_only(body: UpdateRequest, caller: str) -> bool:
    """A plain member may send an update that only removes themselves (leaving the group)."""
    changes = body.model_fields_set - {"groupId", "members"}
    members = body.members
    return (not changes and members is not None and not members.add and not members.edit
            and members.remove == [caller])


def update(session: Session, settings: Settings, caller: str, body: UpdateRequest,
           max_activities: int = DEFAULT_MAX_ACTIVITIES) -> dict[str, Any]:
    """-> result: {response: "success"[, error]}."""
    group, role = require_member(session, body.groupId, caller)  # NotFound -> GS_UDT07 in the view
    if role != "admin" and not _leaving_only(body, caller):
        raise SunbirdError("GS_UDT09", 401)
    if body.status == "inactive":
        rules.delete_group(session, caller, group.id)
        return {"response": "success"}
    if group.status == "suspended" and body.status != "active" and not _leaving_only(body, caller):
        raise SunbirdError("GS_UDT08", 400)
    if body.status == "active":  # reactivate first, so the rest of the request applies to an active group
        rules.update_group(session, caller, group.id, GroupUpdate(status=body.status))
    fields = {name: getattr(body, name) for name in ("name", "description", "membershipType")
              if name in body.model_fields_set and getattr(body, name) is not None}
    if fields:
        rules.update_group(session, caller, group.id, GroupUpdate(**fields))
    errors: Errors = {"members": [], "activities": []}
    if body.members is not None:
        errors["members"] = _change_members(session, settings, caller, group, body)
    if body.activities is not None:
        errors["activities"] = _change_activities(session, caller, group, body, max_activities)
    if body.status == "suspended":  # suspend last: a suspended group refuses every other change
        rules.update_group(session, caller, group.id, GroupUpdate(status=body.status))
    result: dict[str, Any] = {"response": "success"}
    if errors["members"] or errors["activities"]:
        result["error"] = errors
    return result


def _change_members(session: Session, settings: Settings, caller: str, group: Group,
                    body: UpdateRequest) -> list[dict[str, str]]:
    assert body.members is not None
    refused: list[dict[str, str]] = []
    adds = _dedupe_members(body.members.add, "")
    current = rules.active_members(group)
    new = [m for m in adds if m.userId not in current]
    if new and len(current) + len(new) > settings.max_members_per_group:
        refused.append(item_error("GS_UDT05", settings.max_members_per_group))
        refused += [item_error("MEMBER_EXISTS", userId=m.userId) for m in adds if m.userId in current]
    else:
        refused += _add_members(session, settings, caller, group.id, adds, "GS_CRT04")
    for member in body.members.edit:
        try:
            rules.change_role(session, caller, group.id, member.userId, member.role)
        except ApiError as error:
            refused.append(_refused(error, settings, member.userId))
    for user_id in dict.fromkeys(body.members.remove):
        try:
            rules.remove_member(session, caller, group.id, user_id)
        except ApiError as error:
            refused.append(_refused(error, settings, user_id))
    return refused


def _change_activities(session: Session, caller: str, group: Group, body: UpdateRequest,
                       max_activities: int) -> list[dict[str, str]]:
    assert body.activities is not None
    removing = set(body.activities.remove)
    for row in [a for a in group.activities if a.activity_id in removing]:
        group.activities.remove(row)
        session.delete(row)
    session.flush()
    have = {a.activity_id for a in group.activities}
    adds = [a for a in _unique_activities(body.activities.add) if a.id not in have]
    if len(have) + len(adds) > max_activities:
        return [item_error("GS_UDT06", max_activities)]
    _add_activities(session, group, caller, adds)
    group.updated_on, group.updated_by = utcnow(), caller
    return []


def delete(session: Session, caller: str, group_id: str) -> None:
    rules.delete_group(session, caller, group_id)


def set_visited(session: Session, user_id: str, visits: Iterable[tuple[str, bool]]) -> None:
    """The caller's `visited` flag per group; a group they are not an active member of is skipped (groups-service
    answers SUCCESS there too)."""
    wanted = dict(visits)
    if not wanted:
        return
    rows = session.scalars(select(GroupMember).where(GroupMember.user_id == user_id, GroupMember.status == "active",
                                                     GroupMember.group_id.in_(list(wanted))))
    for row in rows:
        row.visited = wanted[row.group_id]
    session.flush()


# -- reading ----------------------------------------------------------------------------------------------------
def _ts(moment: Any) -> str | None:
    return None if moment is None else sunbird_ts(moment)


def member_out(member: GroupMember) -> dict[str, Any]:
    """A member as groups-service shows it. There is no user directory here: `name` is the user id."""
    return {"userId": member.user_id, "groupId": member.group_id, "role": member.role, "status": member.status,
            "createdOn": _ts(member.created_on), "createdBy": member.created_by, "updatedOn": _ts(member.updated_on),
            "updatedBy": member.updated_by, "removedOn": _ts(member.removed_on), "removedBy": member.removed_by,
            "visited": bool(member.visited), "name": member.user_id}


def course_activity_ids(session: Session, group: Group) -> list[str]:
    """Courses the group follows without an activity row: its batch's courses and its Progress Report courses."""
    ids: list[str] = []
    if group.batch_id is not None:
        batch = session.get(Batch, group.batch_id)
        ids += list(batch.course_ids) if batch is not None else []
    link = session.get(PluginLink, (group.id, PROGRESS_REPORT))
    if link is not None:
        ids += [c for c in (link.config or {}).get("courseIds") or [] if isinstance(c, str)]
    return list(dict.fromkeys(ids))


def activity_info(course: Course) -> dict[str, Any]:
    return {"identifier": course.id, "name": course.name, "leafNodesCount": course.leaf_count,
            "contentType": COURSE, "primaryCategory": COURSE, "objectType": "Content", "mimeType": COLLECTION_MIME,
            "board": course.board, "medium": list(course.medium), "gradeLevel": list(course.grade_level),
            "subject": list(course.subject), "pkgVersion": course.version}


def activities_out(session: Session, group: Group) -> list[dict[str, Any]]:
    listed = [(a.activity_id, a.activity_type) for a in group.activities]
    known = {activity_id for activity_id, _ in listed}
    listed += [(course_id, COURSE) for course_id in course_activity_ids(session, group) if course_id not in known]
    ids = [activity_id for activity_id, _ in listed]
    courses = {c.id: c for c in session.scalars(select(Course).where(Course.id.in_(ids)))} if ids else {}
    out = []
    for activity_id, activity_type in listed:
        entry: dict[str, Any] = {"id": activity_id, "type": activity_type}
        if activity_id in courses:  # unknown to the catalog: listed without activityInfo, as groups-service does
            entry["activityInfo"] = activity_info(courses[activity_id])
        out.append(entry)
    return out


def read(session: Session, caller: str, group_id: str, fields: set[str] | None) -> dict[str, Any]:
    group, _ = require_member(session, group_id, caller)  # NotFound -> GS_RED07 in the view
    out: dict[str, Any] = {
        "id": group.id, "name": group.name, "description": group.description, "status": group.status,
        "membershipType": group.membership_type, "createdOn": _ts(group.created_on), "createdBy": group.created_by,
        "updatedOn": _ts(group.updated_on), "updatedBy": group.updated_by}
    if fields is not None and "members" in fields:
        out["members"] = [member_out(m) for m in group.members if m.status == "active"]
    if fields is None or "activities" in fields:
        out["activities"] = activities_out(session, group)
    return out


def list_groups(session: Session, user_id: str) -> list[dict[str, Any]]:
    """The user's live groups, admin role first (as groups-service sorts them)."""
    visited = dict(session.execute(select(GroupMember.group_id, GroupMember.visited).where(
        GroupMember.user_id == user_id, GroupMember.status == "active")).all())
    return [{"id": g.id, "name": g.name, "description": g.description, "status": g.status,
             "membershipType": g.membership_type, "createdOn": _ts(g.created_on), "createdBy": g.created_by,
             "memberRole": role, "visited": bool(visited.get(g.id, False))}
            for g, role in rules.groups_of(session, user_id)]
