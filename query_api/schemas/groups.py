"""Groups, members, activities (Sunbird groups-service field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from query_api.schemas.common import Id, LongText, Name, RequestModel, ResponseModel

Role = Literal["admin", "member"]
MembershipType = Literal["invite_only", "moderated"]
GroupStatus = Literal["active", "inactive", "suspended"]


class MemberIn(RequestModel):
    userId: Id
    role: Role = "member"


class ActivityIn(RequestModel):
    id: Id
    type: Id


class GroupCreate(RequestModel):
    name: Name
    description: LongText | None = None
    membershipType: MembershipType = "invite_only"
    members: list[MemberIn] = Field(default_factory=list, max_length=1000)
    activities: list[ActivityIn] = Field(default_factory=list, max_length=200)
    parentGroupId: Id | None = Field(default=None, description="makes a subgroup: members must be in the parent")

    @model_validator(mode="after")
    def _distinct(self) -> GroupCreate:
        users = [m.userId for m in self.members]
        if len(set(users)) != len(users):
            raise ValueError("members lists a userId twice")
        return self


class GroupUpdate(RequestModel):
    name: Name | None = None
    description: LongText | None = None
    membershipType: MembershipType | None = None
    status: GroupStatus | None = Field(default=None, description="suspended / active by admins; inactive deletes")

    @model_validator(mode="after")
    def _something(self) -> GroupUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of name, description, membershipType, status")
        return self


class MembersAdd(RequestModel):
    members: list[MemberIn] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _distinct(self) -> MembersAdd:
        users = [m.userId for m in self.members]
        if len(set(users)) != len(users):
            raise ValueError("members lists a userId twice")
        return self


class RoleChange(RequestModel):
    role: Role


class MemberOut(ResponseModel):
    userId: str
    groupId: str
    role: Role
    status: Literal["active", "inactive"]
    createdOn: datetime
    createdBy: str
    updatedOn: datetime | None = None
    updatedBy: str | None = None
    removedOn: datetime | None = None
    removedBy: str | None = None


class ActivityOut(ResponseModel):
    id: str
    type: str


class PluginLinkOut(ResponseModel):
    pluginId: str
    version: str
    config: dict[str, Any]
    createdOn: datetime
    createdBy: str
    updatedOn: datetime | None = None
    updatedBy: str | None = None


class GroupOut(ResponseModel):
    id: str
    name: str
    description: str | None = None
    membershipType: MembershipType
    status: GroupStatus
    batchId: str | None = None
    parentGroupId: str | None = None
    createdOn: datetime
    createdBy: str
    updatedOn: datetime | None = None
    updatedBy: str | None = None
    memberRole: Role | None = Field(default=None, description="the caller's role in the group")
    members: list[MemberOut] | None = None
    activities: list[ActivityOut] = Field(default_factory=list)
    plugins: list[PluginLinkOut] = Field(default_factory=list)


class GroupList(ResponseModel):
    groups: list[GroupOut]


class MemberList(ResponseModel):
    groupId: str
    members: list[MemberOut]
