"""One flat module of the API's errors and the one handler that turns every failure into the same JSON shape.

Codes are stable (clients branch on them); messages are for humans. A non-member asking about a group gets
the same 404 as for a group that does not exist, so group ids cannot be probed.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base of every error the API answers on purpose."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, status: int | None = None, code: str | None = None, message: str = "",
                 details: Any = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.message = message or self.code.replace("_", " ")
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class _FixedStatus(ApiError):
    """A kind of error with a fixed status; callers give the message, details and may refine the code."""

    def __init__(self, message: str = "", details: Any = None, *, code: str | None = None) -> None:
        super().__init__(None, code, message, details)


class Unauthorized(_FixedStatus):
    status, code = 401, "unauthorized"


class Forbidden(_FixedStatus):
    status, code = 403, "forbidden"


class NotFound(_FixedStatus):
    status, code = 404, "not_found"


class Conflict(_FixedStatus):
    status, code = 409, "conflict"


class Invalid(_FixedStatus):
    status, code = 422, "invalid_input"


class Unavailable(_FixedStatus):
    status, code = 503, "unavailable"


class GroupSuspended(ApiError):
    status, code = 409, "group_suspended"

    def __init__(self, group_id: str) -> None:
        super().__init__(message=f"group {group_id} is suspended: only leaving and reactivation are allowed",
                         details={"groupId": group_id})


class LimitExceeded(ApiError):
    status, code = 409, "limit_exceeded"

    def __init__(self, limit: str, maximum: int, message: str, **details: Any) -> None:
        super().__init__(message=message, details={"limit": limit, "max": maximum, **details})


def validation_details(error: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": [str(p) for p in item["loc"]], "msg": item["msg"], "type": item["type"]}
            for item in error.errors(include_url=False, include_context=False, include_input=False)]


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid_input", 429: "too_many_requests"}


def metadata_down(error: BaseException) -> bool:
    """A lost or refused database connection, as opposed to a bug or a refused value."""
    if isinstance(error, OperationalError) and type(error.orig).__module__.startswith("sqlite3"):
        return "locked" in str(error.orig) or "busy" in str(error.orig)  # not "no such table": that is a bug
    if isinstance(error, OperationalError | InterfaceError | DisconnectionError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def to_response(error: BaseException) -> tuple[Response, int]:
    """Any exception -> (JSON body, status). Unexpected ones are logged with their traceback, answered 500."""
    if isinstance(error, ApiError):
        api = error
    elif isinstance(error, ValidationError):
        api = Invalid("the request is invalid", validation_details(error))
    elif isinstance(error, DataError):
        # The database refused a value (too long, NUL byte, out of range): the input's fault, not ours.
        log.warning("database refused a value: %s", error.orig)
        api = Invalid("a value in the request cannot be stored (too long or invalid characters)", code="invalid_value")
    elif metadata_down(error):
        # PostgreSQL restarting or unreachable (or SQLite locked past its timeout): transient, retry later.
        log.warning("metadata store unavailable: %s", error)
        api = Unavailable("the metadata store cannot answer right now; try again shortly", {"store": "metadata"},
                          code="metadata_unavailable")
    elif isinstance(error, HTTPException):
        status = error.code or 500
        api = ApiError(status, _HTTP_CODES.get(status, "http_error"), error.description or error.name)
    else:
        log.error("unexpected error: %s", error, exc_info=error)
        api = ApiError(500, "internal", "internal error; it has been logged")
    response = jsonify(api.body())
    if api.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lpa"'
    return response, api.status


def _refuse_nul() -> None:
    """NUL bytes in the path or query string are never valid ids; PostgreSQL could not even compare them."""
    if "\x00" in request.path or any("\x00" in k + v for k, v in request.args.items(multi=True)):
        raise Invalid("the URL contains a NUL byte", code="invalid_value")


def init_app(app: Flask) -> None:
    app.register_error_handler(Exception, to_response)
    app.before_request(_refuse_nul)
