"""The Sunbird paths: groups-service (`/api/group/v1/...` through the gateway, `/v1/group/...` on the service)
and lms-service's activity aggregate (`/api/data/v1/group/activity/agg`, `/v1/group/activity/agg`).

Every view goes through `_answer`, which authenticates the caller from `X-Authenticated-User-Token` (the
gateway's `Authorization: Bearer` key is ignored), runs the call, commits, and turns every failure into the
call's Sunbird code, message and status in its dialect -- never the project's own error shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from flask import Blueprint, Response, current_app, request
from sqlalchemy import text
from sqlalchemy.exc import DataError

from query_api import db
from query_api.auth import SUNBIRD_HEADER, decode_token
from query_api.errors import ApiError, Forbidden, GroupSuspended, Unauthorized, metadata_down
from query_api.store.base import StoreError
from query_api.sunbird import aggregate as agg
from query_api.sunbird import envelope
from query_api.sunbird import groups as calls
from query_api.sunbird.errors import UNAUTHORIZED_CODE, SunbirdError
from query_api.sunbird.requests import (
    AggregateRequest,
    BadRequest,
    CreateRequest,
    DeleteRequest,
    ListRequest,
    MembershipRequest,
    UpdateRequest,
    parse,
    read_fields,
    request_object,
)

log = logging.getLogger(__name__)
bp = Blueprint("sunbird", __name__)

GROUP_PATHS = ("/api/group/v1", "/v1/group")  # gateway path, service path
MEMBERSHIP_PATHS = ("/api/group/membership/v1/update", "/v1/group/membership/update")
AGGREGATE_PATHS = ("/api/data/v1/group/activity/agg", "/v1/group/activity/agg")
MAX_ACTIVITIES_KEY = "SUNBIRD_MAX_ACTIVITIES_PER_GROUP"


@dataclass(frozen=True)
class Call:
    """One groups-service call: its response id and the codes its failures map to."""

    api_id: str
    invalid: str  # *02: missing or invalid fields (400)
    failed: str  # *03: the store failed (500/503)
    not_found: str | None = None  # *07 (400)
    forbidden: str | None = None  # admin / creator / caller rules (401)
    unauthorised: str = UNAUTHORIZED_CODE
    dialect: Literal["groups", "lms"] = "groups"


CREATE = Call("api.group.create", "GS_CRT02", "GS_CRT03", forbidden="GS_CRT01")
UPDATE = Call("api.group.update", "GS_UDT02", "GS_UDT03", "GS_UDT07", "GS_UDT09")
READ = Call("api.group.read", "GS_RED02", "GS_RED03", "GS_RED07", "GS_RED01")
LIST = Call("api.group.list", "GS_LST02", "GS_LST03", forbidden="GS_LST01")
DELETE = Call("api.group.delete", "GS_DLT02", "GS_DLT03", "GS_DLT07", "GS_DLT10")
MEMBERSHIP = Call("api.group.membership.update", "GS_MBRSHP_UDT02", "GS_MBRSHP_UDT03",
                  forbidden="GS_MBRSHP_UDT01")
AGGREGATE = Call("api.group.activity.agg", "INVALID_REQUESTED_DATA", "SERVICE_UNAVAILABLE", "SERVER_ERROR",
                 unauthorised="UNAUTHORIZED_USER", dialect="lms")


def _caller(call: Call) -> str:
    token = request.headers.get(SUNBIRD_HEADER, "").strip()
    if not token:
        raise SunbirdError(call.unauthorised, 401)
    try:
        return decode_token(current_app.extensions["lpa.settings"], token, sunbird=True).user_id
    except Unauthorized as error:
        raise SunbirdError(call.unauthorised, 401, detail=error.message) from error


def _from_project(call: Call, error: ApiError) -> SunbirdError:
    """The project's rule errors -> this call's Sunbird code."""
    if isinstance(error, GroupSuspended):
        return SunbirdError("GS_UDT08" if call is UPDATE else call.invalid, 400)
    if error.status == 404 and call.not_found:
        return SunbirdError(call.not_found, 400)
    if (isinstance(error, Forbidden) or error.status == 409) and call.forbidden:
        return SunbirdError(call.forbidden, 401, detail=error.message)
    if error.status >= 500:
        return SunbirdError(call.failed, error.status, detail=error.message)
    return SunbirdError(call.invalid, 400, detail=error.message)


def _error_response(call: Call, error: SunbirdError) -> Response:
    if call.dialect == "lms":
        return envelope.lms_error(call.api_id, error.code, error.message, error.status)
    return envelope.groups_error(call.api_id, error.code, error.message, error.status)


def _answer(call: Call, work: Callable[[str], dict[str, Any]]) -> Response:
    session = db.session()
    try:
        result = work(_caller(call))
        session.commit()
    except Exception as raised:  # every failure gets Sunbird's shape; unexpected ones are logged
        session.rollback()
        error = _translate(call, raised)
        return _error_response(call, error)
    if call.dialect == "lms":
        return envelope.lms_ok(call.api_id, result)
    return envelope.groups_ok(call.api_id, result)


def _translate(call: Call, raised: Exception) -> SunbirdError:
    if isinstance(raised, SunbirdError):
        return raised
    if isinstance(raised, BadRequest):
        return SunbirdError(call.invalid, 400, detail=str(raised))
    if isinstance(raised, DataError):  # the database refused a value (too long, invalid characters)
        return SunbirdError(call.invalid, 400, detail=str(raised.orig))
    if isinstance(raised, StoreError):
        return SunbirdError(call.failed, raised.http_status, detail=str(raised))
    if isinstance(raised, ApiError):
        return _from_project(call, raised)
    if metadata_down(raised):  # PostgreSQL restarting: transient, like the project's 503 metadata_unavailable
        log.warning("sunbird %s: metadata store unavailable: %s", call.api_id, raised)
        return SunbirdError(call.failed, 503, detail="the metadata store cannot answer right now; try again shortly")
    log.error("sunbird %s failed: %s", call.api_id, raised, exc_info=raised)
    return SunbirdError(call.failed, 500)


def _max_activities() -> int:
    return int(current_app.config.get(MAX_ACTIVITIES_KEY, calls.DEFAULT_MAX_ACTIVITIES))


def _settings() -> Any:
    return current_app.extensions["lpa.settings"]


# -- groups-service ---------------------------------------------------------------------------------------------
def create() -> Response:
    def work(caller: str) -> dict[str, Any]:
        body = parse(CreateRequest, request_object())
        return calls.create(db.session(), _settings(), caller, body, _max_activities())

    return _answer(CREATE, work)


def update() -> Response:
    def work(caller: str) -> dict[str, Any]:
        body = parse(UpdateRequest, request_object())
        return calls.update(db.session(), _settings(), caller, body, _max_activities())

    return _answer(UPDATE, work)


def read(group_id: str) -> Response:
    def work(caller: str) -> dict[str, Any]:
        if not group_id.strip():
            raise BadRequest("groupId is blank")
        return calls.read(db.session(), caller, group_id, read_fields(request.args.get("fields")))

    return _answer(READ, work)


def list_groups() -> Response:
    def work(caller: str) -> dict[str, Any]:
        body = parse(ListRequest, request_object())
        if body.filters.userId != caller:  # a user lists their own groups only
            raise SunbirdError("GS_LST01", 401)
        return {"group": calls.list_groups(db.session(), caller)}

    return _answer(LIST, work)


def delete() -> Response:
    def work(caller: str) -> dict[str, Any]:
        body = parse(DeleteRequest, request_object())
        calls.delete(db.session(), caller, body.groupId)
        return {"response": "SUCCESS"}

    return _answer(DELETE, work)


def membership() -> Response:
    def work(caller: str) -> dict[str, Any]:
        body = parse(MembershipRequest, request_object())
        if body.userId != caller or any(g.role or g.status for g in body.groups):
            raise SunbirdError("GS_MBRSHP_UDT01", 401)  # only your own `visited` flag may change here
        calls.set_visited(db.session(), caller, [(g.groupId, g.visited) for g in body.groups])
        return {"response": "SUCCESS"}

    return _answer(MEMBERSHIP, work)


# -- lms-service ------------------------------------------------------------------------------------------------
_AGG_FIELDS = (("groupId", "GROUP_ID_MISSING"), ("activityId", "ACTIVITY_ID_MISSING"),
               ("activityType", "ACTIVITY_TYPE_MISSING"))


def _aggregate_body() -> AggregateRequest:
    try:
        data = request_object()
    except BadRequest:
        data = {}
    for field, code in _AGG_FIELDS:
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            raise SunbirdError(code, 400)
    try:
        return parse(AggregateRequest, data)
    except BadRequest as error:
        raise SunbirdError("INVALID_REQUESTED_DATA", 400, detail=str(error)) from error


def activity_aggregate() -> Response:
    def work(caller: str) -> dict[str, Any]:
        body = _aggregate_body()
        store = current_app.extensions.get("lpa.analytics")
        if store is None:
            raise SunbirdError("SERVICE_UNAVAILABLE", 503)
        return agg.aggregate(db.session(), store, caller, body)

    return _answer(AGGREGATE, work)


# -- health -----------------------------------------------------------------------------------------------------
def health() -> Response:
    try:
        with current_app.extensions["lpa.db"].engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        healthy = True
    except Exception as error:
        log.warning("health: metadata store failed: %s", error)
        healthy = False
    return envelope.health(healthy, [{"name": "metadata store", "healthy": healthy}])


def _route(paths: tuple[str, ...], suffix: str, view: Callable[..., Response], method: str) -> None:
    for index, prefix in enumerate(paths):
        bp.add_url_rule(prefix + suffix, endpoint=f"{view.__name__}_{index}", view_func=view, methods=[method])


_route(GROUP_PATHS, "/create", create, "POST")
_route(GROUP_PATHS, "/update", update, "PATCH")
_route(GROUP_PATHS, "/read/<group_id>", read, "GET")
_route(GROUP_PATHS, "/list", list_groups, "POST")
_route(GROUP_PATHS, "/delete", delete, "POST")
_route(MEMBERSHIP_PATHS, "", membership, "PATCH")
_route(AGGREGATE_PATHS, "", activity_aggregate, "POST")
bp.add_url_rule("/health", endpoint="health", view_func=health, methods=["GET"])
