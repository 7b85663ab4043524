"""Batches, enrolments and their groups (contracts.md section 4), for broker events and REST calls alike.

Every change is applied through `apply_batch` / `apply_enrolment`, which take the validated event data
(`ingestion.events.BatchEdata` / `EnrolmentEdata`) and its `ets`. Application is idempotent and order-safe: an
event older than what a batch or enrolment already reflects changes nothing, and re-applying the same event
gives the same state. The batch group follows: mentors are admins, enrolled learners members.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingestion.events import BatchEdata, EnrolmentEdata
from query_api.auth import SYSTEM_USER
from query_api.errors import NotFound
from query_api.models import Batch, Enrolment, Group, GroupMember, PluginLink, utcnow
from query_api.services.counters import next_revision
from query_api.services.groups import _add_member, _deactivate, active_members

BATCH_GROUP_NAMESPACE = uuid.UUID("0b7c6f55-7d0f-5a3e-9c51-3c1f7e2a9d10")


@dataclass(frozen=True)
class Applied:
    """What an application did: `changed` is False for a stale or repeated event."""

    batch_id: str
    program_id: str | None
    changed: bool


def batch_group_id(batch_id: str) -> str:
    """Deterministic, so a rebuilt metadata store gives a batch the same group id."""
    return str(uuid.uuid5(BATCH_GROUP_NAMESPACE, batch_id))


def batch_not_found(batch_id: str) -> NotFound:
    return NotFound(f"batch {batch_id} not found", {"batchId": batch_id}, code="batch_not_found")


def group_of_batch(session: Session, batch_id: str) -> Group | None:
    return session.scalars(select(Group).where(Group.batch_id == batch_id)).first()


def _auto_link_progress_report(group: Group, course_ids: list[str], by: str) -> None:
    """Progress Report follows the batch's courses; other config keys an admin set are kept."""
    from query_api.plugins.progress_report.plugin import PLUGIN  # the batch contract names this plugin

    link = next((p for p in group.plugins if p.plugin_id == PLUGIN.id), None)
    if link is None:
        config = PLUGIN.default_config({"groupId": group.id, "courseIds": course_ids}) if PLUGIN.default_config \
            else {"courseIds": course_ids}
        group.plugins.append(PluginLink(plugin_id=PLUGIN.id, plugin_version=PLUGIN.version, config=config,
                                        created_on=utcnow(), created_by=by))
    elif link.config.get("courseIds") != course_ids:
        link.config = {**link.config, "courseIds": course_ids}
        link.updated_on, link.updated_by = utcnow(), by


def _sync_admins(session: Session, group: Group, batch: Batch, by: str) -> None:
    """Make the group's admins exactly the batch's mentors; a demoted mentor who is enrolled stays a member."""
    mentors = set(batch.mentors)
    enrolled = set(session.scalars(select(Enrolment.user_id).where(Enrolment.batch_id == batch.id,
                                                                   Enrolment.status == "active")))
    for user_id, member in active_members(group).items():
        if member.role == "admin" and user_id not in mentors:
            if user_id in enrolled:
                member.role, member.updated_on, member.updated_by = "member", utcnow(), by
            else:
                _deactivate(session, member, by)
    current = active_members(group)
    for user_id in sorted(mentors):
        member = current.get(user_id)
        if member is None:
            _add_member(session, group, user_id, "admin", by)
        elif member.role != "admin":
            member.role, member.updated_on, member.updated_by = "admin", utcnow(), by


def _create(session: Session, edata: BatchEdata, ets: int, actor: str) -> Batch:
    now = utcnow()
    creator = edata.createdBy or (edata.mentors[0] if edata.mentors else None) or actor
    batch = Batch(id=edata.batchId, name=edata.name, program_id=edata.programId,
                  enrollment_type=edata.enrollmentType or "open", status="active",
                  course_ids=list(edata.courseIds or []), mentors=list(dict.fromkeys(edata.mentors or [])),
                  created_by=creator, created_on=now, last_ets=ets, revision=next_revision(session, "batches"))
    session.add(batch)
    group = Group(id=batch_group_id(batch.id), name=edata.name or batch.id, membership_type="invite_only",
                  status="active", batch_id=batch.id, created_on=now, created_by=creator or SYSTEM_USER)
    session.add(group)
    _sync_admins(session, group, batch, actor)
    _auto_link_progress_report(group, batch.course_ids, actor)
    return batch


def apply_batch(session: Session, edata: BatchEdata, ets: int, actor: str = SYSTEM_USER) -> Applied:
    """create / update / close. A create of a known batch is applied as an update (a redelivery is harmless)."""
    batch = session.get(Batch, edata.batchId, with_for_update=True)
    if batch is None:
        if edata.action != "create":
            raise batch_not_found(edata.batchId)
        batch = _create(session, edata, ets, actor)
        session.flush()
        return Applied(batch.id, batch.program_id, True)
    if ets < batch.last_ets:
        return Applied(batch.id, batch.program_id, False)  # older than what we have: a replay
    before = (batch.name, batch.program_id, batch.enrollment_type, list(batch.course_ids), list(batch.mentors),
              batch.status)
    given = edata.model_fields_set
    if edata.action == "close":
        if batch.status != "closed":
            batch.status, batch.closed_on = "closed", utcnow()
    else:
        if "name" in given and edata.name is not None:
            batch.name = edata.name
        if "programId" in given:
            batch.program_id = edata.programId
        if "enrollmentType" in given and edata.enrollmentType is not None:
            batch.enrollment_type = edata.enrollmentType
        if "courseIds" in given and edata.courseIds:
            batch.course_ids = list(edata.courseIds)
        if "mentors" in given and edata.mentors is not None:
            batch.mentors = list(dict.fromkeys(edata.mentors))
    batch.last_ets = ets
    after = (batch.name, batch.program_id, batch.enrollment_type, list(batch.course_ids), list(batch.mentors),
             batch.status)
    if after == before:
        return Applied(batch.id, batch.program_id, False)
    batch.updated_on = utcnow()
    batch.revision = next_revision(session, "batches")
    group = group_of_batch(session, batch.id)
    if group is not None:
        if after[4] != before[4]:
            _sync_admins(session, group, batch, actor)
        if after[3] != before[3]:
            _auto_link_progress_report(group, batch.course_ids, actor)
        if after[0] != before[0] and batch.name:
            group.name = batch.name
        group.updated_on, group.updated_by = utcnow(), actor
    session.flush()
    return Applied(batch.id, batch.program_id, True)


def apply_enrolment(session: Session, edata: EnrolmentEdata, ets: int, actor: str = SYSTEM_USER) -> Applied:
    batch = session.get(Batch, edata.batchId)
    if batch is None:
        raise batch_not_found(edata.batchId)
    enrolment = session.get(Enrolment, (batch.id, edata.userId), with_for_update=True)
    wanted = "active" if edata.action == "enrol" else "inactive"
    if enrolment is not None and (ets < enrolment.last_ets or enrolment.status == wanted):
        if enrolment.status == wanted:
            enrolment.last_ets = max(enrolment.last_ets, ets)
        return Applied(batch.id, batch.program_id, False)
    if enrolment is None:
        if wanted == "inactive":
            return Applied(batch.id, batch.program_id, False)  # unenrolling someone never enrolled
        enrolment = Enrolment(batch_id=batch.id, user_id=edata.userId, status="active", enrolled_on=utcnow(),
                              last_ets=ets)
        session.add(enrolment)
    else:
        enrolment.status, enrolment.last_ets, enrolment.updated_on = wanted, ets, utcnow()
        if wanted == "active":
            enrolment.enrolled_on = utcnow()
    group = group_of_batch(session, batch.id)
    if group is not None:
        member = active_members(group).get(edata.userId)
        if wanted == "active" and member is None:
            _add_member(session, group, edata.userId, "admin" if edata.userId in batch.mentors else "member", actor)
        elif wanted == "inactive" and member is not None and edata.userId not in batch.mentors:
            _deactivate(session, member, actor)
    session.flush()
    return Applied(batch.id, batch.program_id, True)


def enrolments_of(session: Session, batch_id: str) -> list[Enrolment]:
    return list(session.scalars(select(Enrolment).where(Enrolment.batch_id == batch_id)
                                .order_by(Enrolment.user_id)))


def batch_members(session: Session, group: Group) -> list[GroupMember]:
    return sorted(active_members(group).values(), key=lambda m: m.user_id)
