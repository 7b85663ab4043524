"""What the group plugins store in the metadata store: released assessments, announcements, activity-stream
posts, forum threads and posts, supplementary material and the rules that made subgroups.

Scores, progress and activity stay in the analytics store; these tables hold only what people write. Every
row names its group, so a plugin view that checks membership of the path's group and filters by it can never
show another group's content. Removal keeps the row (who and when), as group members do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from query_api.models.base import Base, UtcDateTime, utcnow


class ReleasedAssessment(Base):
    """An assessment a mentor released to one group (a user-made group or a private batch's group)."""

    __tablename__ = "plugin_assessments"
    __table_args__ = (Index("ix_plugin_assessments_group_status", "group_id", "status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"))
    content_id: Mapped[str] = mapped_column(String(256))
    course_id: Mapped[str | None] = mapped_column(String(256))  # None: a standalone assessment
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | withdrawn
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    withdrawn_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(256))


class Announcement(Base):
    __tablename__ = "plugin_announcements"
    __table_args__ = (Index("ix_plugin_announcements_group_created", "group_id", "created_on"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | removed
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    removed_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(256))


class StreamEntry(Base):
    """An activity-stream entry written at the time it happened: a member's update, or a system entry
    (`assessment_released`). Course completions are derived from progress at read time (not stored)."""

    __tablename__ = "plugin_stream_entries"
    __table_args__ = (Index("ix_plugin_stream_entries_group_created", "group_id", "created_on"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"))
    kind: Mapped[str] = mapped_column(String(40))  # update | assessment_released
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | removed
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    removed_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(256))


class ForumThread(Base):
    __tablename__ = "plugin_forum_threads"
    __table_args__ = (Index("ix_plugin_forum_threads_group_last", "group_id", "last_post_on"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"))
    title: Mapped[str] = mapped_column(String(200))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    last_post_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(256))


class ForumPost(Base):
    __tablename__ = "plugin_forum_posts"
    __table_args__ = (Index("ix_plugin_forum_posts_thread_created", "thread_id", "created_on"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str] = mapped_column(ForeignKey("plugin_forum_threads.id"))
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | removed
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    removed_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(256))


class Material(Base):
    """Supplementary material of one (sub)group: a content id or a URL, with a note."""

    __tablename__ = "plugin_materials"
    __table_args__ = (Index("ix_plugin_materials_group_status", "group_id", "status"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"))
    title: Mapped[str] = mapped_column(String(200))
    content_id: Mapped[str | None] = mapped_column(String(256))
    url: Mapped[str | None] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | removed
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    removed_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(256))


class SubgroupRule(Base):
    """The rule a subgroup was made from, and the learners it matched then (a snapshot, shown to admins)."""

    __tablename__ = "plugin_subgroup_rules"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    parent_group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), index=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    matched: Mapped[list[str]] = mapped_column(JSON)
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
