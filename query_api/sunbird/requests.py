"""Request bodies of the Sunbird paths: `{"request": {...}}`, validated by pydantic.

Unknown fields are ignored, as groups-service does (its clients send more than it reads); anything required
that is missing, blank or of the wrong type fails validation, and the view answers that call's *02 code.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from query_api.schemas.common import Id, LongText, Name

MembershipType = Literal["invite_only", "moderated"]
Role = Literal["admin", "member"]
MAX_ITEMS = 10_000  # a sanity bound on list sizes; the group limits proper give partial success below it

M = TypeVar("M", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MemberIn(_Body):
    userId: Id
    role: Role = "member"
    status: str | None = None  # accepted and ignored on create, as groups-service does


class ActivityIn(_Body):
    id: Id
    type: Id


class CreateRequest(_Body):
    name: Name
    description: LongText | None = None
    membershipType: MembershipType = "invite_only"
    members: list[MemberIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    activities: list[ActivityIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class MembersChange(_Body):
    add: list[MemberIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    edit: list[MemberIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    remove: list[Id] = Field(default_factory=list, max_length=MAX_ITEMS)


class ActivitiesChange(_Body):
    add: list[ActivityIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    remove: list[Id] = Field(default_factory=list, max_length=MAX_ITEMS)


class UpdateRequest(_Body):
    groupId: Id
    name: Name | None = None
    description: LongText | None = None
    membershipType: MembershipType | None = None
    status: Literal["active", "suspended", "inactive"] | None = None
    members: MembersChange | None = None
    activities: ActivitiesChange | None = None


class ListFilters(_Body):
    userId: Id


class ListRequest(_Body):
    filters: ListFilters


class DeleteRequest(_Body):
    groupId: Id


class VisitIn(_Body):
    groupId: Id
    visited: StrictBool
    role: str | None = None  # groups-service refuses these here (only `visited` may change): 401
    status: str | None = None


class MembershipRequest(_Body):
    userId: Id
    groups: list[VisitIn] = Field(min_length=1, max_length=MAX_ITEMS)


class AggregateRequest(_Body):
    groupId: Id
    activityId: Id
    activityType: Id


class BadRequest(ValueError):
    """The body is not `{"request": {...}}` or does not validate."""


def request_object() -> dict[str, Any]:
    """The `request` object of the JSON body; BadRequest when the body is not JSON or has none."""
    data = request.get_json(silent=True, force=True) if request.get_data(cache=True) else None
    inner = data.get("request") if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise BadRequest('the body must be a JSON object {"request": {...}}')
    return inner


def parse(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest(str(error)) from error


def read_fields(raw: str | None) -> set[str] | None:
    """`?fields=members,activities` -> {"members", "activities"}; None when not given."""
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


# -- the bodies as sent (`{"request": {...}}`), for the OpenAPI document ------------------------------------------
class CreateBody(_Body):
    request: CreateRequest


class UpdateBody(_Body):
    request: UpdateRequest


class ListBody(_Body):
    request: ListRequest


class DeleteBody(_Body):
    request: DeleteRequest


class MembershipBody(_Body):
    request: MembershipRequest


class AggregateBody(_Body):
    request: AggregateRequest
