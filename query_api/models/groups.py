"""Users' groups (Sunbird groups-service compatible fields), their members, activities and plugin links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from query_api.models.base import Base, UtcDateTime, utcnow


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    membership_type: Mapped[str] = mapped_column(String(20), default="invite_only")  # invite_only | moderated
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | inactive | suspended
    batch_id: Mapped[str | None] = mapped_column(String(256), unique=True)  # set on a batch's own group
    parent_group_id: Mapped[str | None] = mapped_column(ForeignKey("groups.id"), index=True)
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    updated_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(256))

    members: Mapped[list[GroupMember]] = relationship(back_populates="group", order_by="GroupMember.user_id")
    activities: Mapped[list[GroupActivity]] = relationship(order_by="GroupActivity.activity_id")
    plugins: Mapped[list[PluginLink]] = relationship(order_by="PluginLink.plugin_id")


class GroupMember(Base):
    """A removed member keeps its row with status inactive (who removed them and when), as Sunbird does."""

    __tablename__ = "group_members"
    __table_args__ = (Index("ix_group_members_user_status", "user_id", "status"),)

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))  # admin | member
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | inactive
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    updated_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(256))
    removed_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(256))
    visited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # Sunbird's flag

    group: Mapped[Group] = relationship(back_populates="members")


class GroupActivity(Base):
    __tablename__ = "group_activities"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))


class PluginLink(Base):
    """A plugin linked to a group, with its validated config: the group's plugin metadata."""

    __tablename__ = "group_plugins"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    plugin_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    plugin_version: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    updated_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(256))
