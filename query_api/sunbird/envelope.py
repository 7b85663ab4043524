"""The two response dialects Sunbird's clients parse.

- groups-service: `responseCode` is a number; success has `params: null`, an error has `ver: null` and
  `params {resmsgid, msgid, err, status: "failed", errmsg}`.
- lms-service (activity aggregate): `responseCode` is a name ("OK", "CLIENT_ERROR"...), `params` is always
  an object; on an error `params.status` repeats the error code, as lms-service's BaseController does.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Response, request

GROUPS_VERSION = "v1"
LMS_STATUS_NAMES = {200: "OK", 400: "CLIENT_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "RESOURCE_NOT_FOUND",
                    429: "TOO_MANY_REQUESTS", 500: "SERVER_ERROR", 503: "SERVICE_UNAVAILABLE"}


def sunbird_ts(now: datetime | None = None) -> str:
    """Sunbird's timestamp format: "2023-09-06 09:51:17:026+0000" (UTC, milliseconds after a colon)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S:") + f"{moment.microsecond // 1000:03d}+0000"


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def request_msgid() -> str | None:
    """The caller's X-Request-Id (Sunbird echoes it as params.msgid), else null."""
    value = request.headers.get("X-Request-Id", "").strip()
    return value[:256] or None


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def groups_ok(api_id: str, result: dict[str, Any]) -> Response:
    return _json({"id": api_id, "ver": GROUPS_VERSION, "ts": sunbird_ts(), "params": None, "result": result,
                  "responseCode": 200}, 200)


def groups_error(api_id: str, code: str, message: str, status: int) -> Response:
    params = {"resmsgid": None, "msgid": request_msgid(), "err": code, "status": "failed", "errmsg": message}
    return _json({"id": api_id, "ver": None, "ts": sunbird_ts(), "params": params, "result": {},
                  "responseCode": status}, status)


def lms_ok(api_id: str, result: dict[str, Any]) -> Response:
    params = {"resmsgid": None, "msgid": request_msgid() or str(uuid.uuid4()), "err": None, "status": "success",
              "errmsg": None}
    return _json({"id": api_id, "ver": GROUPS_VERSION, "ts": sunbird_ts(), "params": params, "responseCode": "OK",
                  "result": result}, 200)


def lms_error(api_id: str, code: str, message: str, status: int) -> Response:
    params = {"resmsgid": None, "msgid": request_msgid() or str(uuid.uuid4()), "err": code, "status": code,
              "errmsg": message}
    return _json({"id": api_id, "ver": GROUPS_VERSION, "ts": sunbird_ts(), "params": params,
                  "responseCode": LMS_STATUS_NAMES.get(status, "SERVER_ERROR"), "result": {}}, status)


def health(healthy: bool, checks: list[dict[str, Any]]) -> Response:
    """The portal-style health answer Sunbird's API test collection checks (`GET /health`)."""
    message_id = request_msgid() or str(uuid.uuid4())
    params = {"resmsgid": str(uuid.uuid4()), "msgid": message_id, "status": "success" if healthy else "failed",
              "err": None, "errmsg": None}
    body = {"id": "portal.Health.API", "ver": "1.0", "ts": sunbird_ts(), "params": params,
            "responseCode": "OK" if healthy else "SERVICE_UNAVAILABLE",
            "result": {"name": "learning-progress-analytics", "version": "1.0", "healthy": healthy, "check": checks}}
    return _json(body, 200 if healthy else 503)
