"""Metadata store models. Importing this package registers every table on `Base.metadata` (Alembic uses it)."""

from query_api.models.base import Base, UtcDateTime, utcnow
from query_api.models.batches import Batch, Enrolment
from query_api.models.catalog import Counter, Course, CourseFacet
from query_api.models.groups import Group, GroupActivity, GroupMember, PluginLink
from query_api.models.plugin_content import (
    Announcement,
    ForumPost,
    ForumThread,
    Material,
    ReleasedAssessment,
    StreamEntry,
    SubgroupRule,
)

__all__ = ["Announcement", "Base", "Batch", "Counter", "Course", "CourseFacet", "Enrolment", "ForumPost",
           "ForumThread", "Group", "GroupActivity", "GroupMember", "Material", "PluginLink", "ReleasedAssessment",
           "StreamEntry", "SubgroupRule", "UtcDateTime", "utcnow"]
