"""ORM rows -> response models (one place, so the REST API and later compat layers agree)."""

from __future__ import annotations

from query_api.models import Batch, Course, Enrolment, Group, GroupMember, PluginLink
from query_api.schemas.batches import BatchOut, EnrolmentOut
from query_api.schemas.catalog import CourseOut, UnitOut
from query_api.schemas.groups import ActivityOut, GroupOut, MemberOut, PluginLinkOut


def member_out(m: GroupMember) -> MemberOut:
    return MemberOut(userId=m.user_id, groupId=m.group_id, role=m.role, status=m.status,  # type: ignore[arg-type]
                     createdOn=m.created_on, createdBy=m.created_by, updatedOn=m.updated_on,
                     updatedBy=m.updated_by, removedOn=m.removed_on, removedBy=m.removed_by)


def link_out(link: PluginLink) -> PluginLinkOut:
    return PluginLinkOut(pluginId=link.plugin_id, version=link.plugin_version, config=link.config,
                         createdOn=link.created_on, createdBy=link.created_by, updatedOn=link.updated_on,
                         updatedBy=link.updated_by)


def group_out(group: Group, role: str | None, *, with_members: bool = False) -> GroupOut:
    members = None
    if with_members:
        members = [member_out(m) for m in group.members if m.status == "active"]
    return GroupOut(
        id=group.id, name=group.name, description=group.description,
        membershipType=group.membership_type, status=group.status,  # type: ignore[arg-type]
        batchId=group.batch_id, parentGroupId=group.parent_group_id, createdOn=group.created_on,
        createdBy=group.created_by, updatedOn=group.updated_on, updatedBy=group.updated_by,
        memberRole=role, members=members,  # type: ignore[arg-type]
        activities=[ActivityOut(id=a.activity_id, type=a.activity_type) for a in group.activities],
        plugins=[link_out(link) for link in group.plugins])


def batch_out(batch: Batch, group_id: str | None) -> BatchOut:
    return BatchOut(batchId=batch.id, name=batch.name, courseIds=list(batch.course_ids), programId=batch.program_id,
                    enrollmentType=batch.enrollment_type, mentors=list(batch.mentors),  # type: ignore[arg-type]
                    createdBy=batch.created_by, status=batch.status, groupId=group_id,  # type: ignore[arg-type]
                    createdOn=batch.created_on, updatedOn=batch.updated_on, closedOn=batch.closed_on)


def enrolment_out(e: Enrolment) -> EnrolmentOut:
    return EnrolmentOut(batchId=e.batch_id, userId=e.user_id, status=e.status,  # type: ignore[arg-type]
                        enrolledOn=e.enrolled_on, updatedOn=e.updated_on)


def course_out(course: Course, *, with_units: bool = False) -> CourseOut:
    units = None
    if with_units:
        from ingestion.hierarchy import parse_hierarchy

        parsed = parse_hierarchy(course.hierarchy)
        units = [UnitOut(unitId=u.unit_id, name=u.name, leafCount=u.leaf_count, optional=u.optional)
                 for u in parsed.units]
    return CourseOut(courseId=course.id, name=course.name, board=course.board, medium=list(course.medium),
                     gradeLevel=list(course.grade_level), subject=list(course.subject), leafCount=course.leaf_count,
                     unitCount=course.unit_count, version=course.version, updatedOn=course.updated_on, units=units)
