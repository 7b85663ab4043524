"""Group rules, mirroring the platform's groups-service: the creator becomes admin; admins manage members and
roles; any member may leave; a group keeps at least one admin; a suspended group allows only leaving and
reactivation; only the creator deletes (status inactive); subgroups draw their members from the parent.

Batch groups (`batch_id` set) are kept in sync by `services.batches` from enrolments and mentors, so their
membership cannot be edited here, and the per-user and per-group limits (which guard user-made groups) do not
apply to them: refusing an enrolment would make the group disagree with the batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lpa.settings import Settings
from query_api.errors import Conflict, Forbidden, GroupSuspended, Invalid, LimitExceeded, NotFound
from query_api.models import Group, GroupActivity, GroupMember, utcnow
from query_api.schemas.groups import GroupCreate, GroupUpdate, MemberIn
from query_api.services.access import group_not_found, load_group, require_member


def active_members(group: Group) -> dict[str, GroupMember]:
    return {m.user_id: m for m in group.members if m.status == "active"}


def ensure_not_suspended(group: Group) -> None:
    if group.status == "suspended":
        raise GroupSuspended(group.id)


def ensure_not_batch_group(group: Group) -> None:
    if group.batch_id is not None:
        raise Conflict(f"the members of group {group.id} follow batch {group.batch_id}: change its enrolments "
                       "or mentors instead", {"groupId": group.id, "batchId": group.batch_id}, code="batch_managed")


def user_group_counts(session: Session, user_ids: Iterable[str]) -> dict[str, int]:
    """Live user-made groups each user belongs to (batch groups are not counted)."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(GroupMember.user_id, func.count())
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(ids), GroupMember.status == "active", Group.status != "inactive",
               Group.batch_id.is_(None))
        .group_by(GroupMember.user_id))
    return {user_id: int(count) for user_id, count in rows}


def check_groups_per_user(session: Session, settings: Settings, user_ids: Sequence[str]) -> None:
    maximum = settings.max_groups_per_user
    counts = user_group_counts(session, user_ids)
    over = sorted(u for u in set(user_ids) if counts.get(u, 0) >= maximum)
    if over:
        raise LimitExceeded("max_groups_per_user", maximum,
                            f"{len(over)} user(s) already belong to the maximum of {maximum} groups", userIds=over)


def check_members_per_group(settings: Settings, current: int, adding: int) -> None:
    maximum = settings.max_members_per_group
    if current + adding > maximum:
        raise LimitExceeded("max_members_per_group", maximum,
                            f"a group has at most {maximum} members ({current} now, {adding} to add)",
                            current=current, adding=adding)


def check_in_parent(session: Session, group_id: str | None, parent_id: str, user_ids: Iterable[str]) -> None:
    parent = load_group(session, parent_id)
    members = active_members(parent) if parent is not None else {}
    offenders = sorted(u for u in set(user_ids) if u not in members)
    if offenders:
        raise Invalid("every member of a subgroup must be a member of its parent group",
                      {"groupId": group_id, "parentGroupId": parent_id, "notInParent": offenders},
                      code="not_in_parent")


def _add_member(session: Session, group: Group, user_id: str, role: str, by: str) -> None:
    """Insert, or reactivate a removed member's row."""
    now = utcnow()
    existing = next((m for m in group.members if m.user_id == user_id), None)
    if existing is None:
        group.members.append(GroupMember(user_id=user_id, role=role, status="active", created_on=now,
                                         created_by=by))
        return
    existing.role, existing.status = role, "active"
    existing.updated_on, existing.updated_by = now, by
    existing.removed_on = existing.removed_by = None


def _deactivate(session: Session, member: GroupMember, by: str) -> None:
    now = utcnow()
    member.status, member.removed_on, member.removed_by = "inactive", now, by
    member.updated_on, member.updated_by = now, by
    remove_from_subgroups(session, member.group_id, member.user_id, by)


def remove_from_subgroups(session: Session, group_id: str, user_id: str, by: str) -> None:
    """Whoever leaves a group leaves its subgroups too (they may only hold the parent's members)."""
    children = session.scalars(select(Group).where(Group.parent_group_id == group_id, Group.status != "inactive"))
    for child in children:
        member = active_members(child).get(user_id)
        if member is not None:
            _deactivate(session, member, by)


def _touch(group: Group, by: str) -> None:
    group.updated_on, group.updated_by = utcnow(), by


def create_group(session: Session, settings: Settings, caller: str, body: GroupCreate) -> Group:
    roles = {m.userId: m.role for m in body.members}
    roles[caller] = "admin"  # the creator is always an admin
    if body.parentGroupId is not None:
        parent, parent_role = require_member(session, body.parentGroupId, caller)
        ensure_not_suspended(parent)
        if parent_role != "admin":
            raise Forbidden("only an admin (mentor) of the parent group can create a subgroup",
                            {"parentGroupId": body.parentGroupId}, code="admin_required")
        check_in_parent(session, None, body.parentGroupId, roles)
    check_members_per_group(settings, 0, len(roles))
    check_groups_per_user(session, settings, list(roles))
    now = utcnow()
    group = Group(id=str(uuid.uuid4()), name=body.name, description=body.description,
                  membership_type=body.membershipType, status="active", parent_group_id=body.parentGroupId,
                  created_on=now, created_by=caller)
    session.add(group)
    for user_id in sorted(roles):
        group.members.append(GroupMember(user_id=user_id, role=roles[user_id], status="active", created_on=now,
                                         created_by=caller))
    seen: set[str] = set()
    for activity in body.activities:
        if activity.id not in seen:
            seen.add(activity.id)
            group.activities.append(GroupActivity(activity_id=activity.id, activity_type=activity.type,
                                                  created_on=now, created_by=caller))
    session.flush()
    return group


def update_group(session: Session, caller: str, group_id: str, body: GroupUpdate) -> Group:
    group, _ = require_member(session, group_id, caller, need_admin=True, for_update=True)
    if body.status == "inactive":
        delete_group(session, caller, group_id)
        return group
    fields = body.model_fields_set - {"status"}
    if group.status == "suspended" and (fields or body.status != "active"):
        raise GroupSuspended(group.id)  # only reactivation (and leaving) on a suspended group
    if "name" in fields and body.name is not None:
        group.name = body.name
    if "description" in fields:
        group.description = body.description
    if "membershipType" in fields and body.membershipType is not None:
        group.membership_type = body.membershipType
    if body.status is not None:
        group.status = body.status
    _touch(group, caller)
    session.flush()
    return group


def delete_group(session: Session, caller: str, group_id: str) -> None:
    group, _ = require_member(session, group_id, caller, for_update=True)
    if group.created_by != caller:
        raise Forbidden(f"only the creator of group {group_id} can delete it", {"groupId": group_id},
                        code="creator_only")
    if group.batch_id is not None:
        raise Conflict(f"group {group_id} belongs to batch {group.batch_id}: close the batch instead",
                       {"groupId": group_id, "batchId": group.batch_id}, code="batch_managed")
    group.status = "inactive"
    _touch(group, caller)
    session.flush()


def add_members(session: Session, settings: Settings, caller: str, group_id: str,
                members: Sequence[MemberIn]) -> Group:
    group, _ = require_member(session, group_id, caller, need_admin=True, for_update=True)
    ensure_not_suspended(group)
    ensure_not_batch_group(group)
    current = active_members(group)
    already = sorted(m.userId for m in members if m.userId in current)
    if already:
        raise Conflict("already members of the group (change a role with PATCH .../members/{userId})",
                       {"groupId": group_id, "userIds": already}, code="member_exists")
    new_ids = [m.userId for m in members]
    if group.parent_group_id is not None:
        check_in_parent(session, group.id, group.parent_group_id, new_ids)
    check_members_per_group(settings, len(current), len(new_ids))
    check_groups_per_user(session, settings, new_ids)
    for m in members:
        _add_member(session, group, m.userId, m.role, caller)
    _touch(group, caller)
    session.flush()
    return group


def _target(group: Group, user_id: str) -> GroupMember:
    member = active_members(group).get(user_id)
    if member is None:
        raise NotFound(f"user {user_id} is not a member of group {group.id}",
                       {"groupId": group.id, "userId": user_id}, code="member_not_found")
    return member


def _ensure_another_admin(group: Group, user_id: str) -> None:
    admins = [u for u, m in active_members(group).items() if m.role == "admin"]
    if admins == [user_id]:
        raise Conflict(f"{user_id} is the last admin of group {group.id}: make another member admin first "
                       "(or delete the group)", {"groupId": group.id, "userId": user_id}, code="last_admin")


def change_role(session: Session, caller: str, group_id: str, user_id: str, role: str) -> GroupMember:
    group, _ = require_member(session, group_id, caller, need_admin=True, for_update=True)
    ensure_not_suspended(group)
    ensure_not_batch_group(group)
    member = _target(group, user_id)
    if member.role == "admin" and role != "admin":
        _ensure_another_admin(group, user_id)
    member.role = role
    member.updated_on, member.updated_by = utcnow(), caller
    _touch(group, caller)
    session.flush()
    return member


def remove_member(session: Session, caller: str, group_id: str, user_id: str) -> None:
    """An admin removes someone; a member removing themselves is leaving (allowed even when suspended)."""
    if user_id == caller:
        leave_group(session, caller, group_id)
        return
    group, _ = require_member(session, group_id, caller, need_admin=True, for_update=True)
    ensure_not_suspended(group)
    ensure_not_batch_group(group)
    member = _target(group, user_id)
    _deactivate(session, member, caller)
    _touch(group, caller)
    session.flush()


def leave_group(session: Session, caller: str, group_id: str) -> None:
    group, _ = require_member(session, group_id, caller, for_update=True)
    ensure_not_batch_group(group)
    member = _target(group, caller)
    if member.role == "admin":
        _ensure_another_admin(group, caller)
    _deactivate(session, member, caller)
    _touch(group, caller)
    session.flush()


def groups_of(session: Session, user_id: str) -> list[tuple[Group, str]]:
    """The user's live groups with their role: admin first, then by name."""
    rows = session.execute(
        select(Group, GroupMember.role).join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user_id, GroupMember.status == "active", Group.status != "inactive")
        .order_by(GroupMember.role, Group.name, Group.id))
    return [(group, role) for group, role in rows]


def get_group(session: Session, caller: str, group_id: str) -> tuple[Group, str]:
    group, role = require_member(session, group_id, caller)
    if group is None:  # pragma: no cover - require_member raises
        raise group_not_found(group_id)
    return group, role
