"""Sunbird's error codes with their exact messages, and the errors the compat views raise.

`error_messages.json` is groups-service's IResponseMessage table (codes -> messages), copied into the package
so the product never reads ../shared at run time. Messages with `{0}` are formatted with the limit, as
Sunbird's MessageFormat does. The activity aggregate (lms-service) has codes of its own, kept here too.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

MESSAGES_FILE = Path(__file__).with_name("error_messages.json")

# groups-service answers a missing/invalid user token with the `UNAUTHORIZED` message under this code.
UNAUTHORIZED_CODE = "GS_UNAUTHORIZED"

# lms-service (activity aggregate) codes: not in groups-service's table.
LMS_MESSAGES: dict[str, str] = {
    "GROUP_ID_MISSING": "Group id is a mandatory parameter.",
    "ACTIVITY_ID_MISSING": "Activity id is a mandatory parameter.",
    "ACTIVITY_TYPE_MISSING": "Activity type is a mandatory parameter.",
    "INVALID_REQUESTED_DATA": "Requested data for this operation is not valid.",
    "UNAUTHORIZED_USER": "You are not authorized.",
    # lms-service's answer when reading the group's members (a groups-service read as the caller) fails.
    "SERVER_ERROR": "Error while fetching group members record.",
    "SERVICE_UNAVAILABLE": "The analytics store cannot answer right now; try again shortly.",
}

# Per-item codes of partial success (result.error lists); not in IResponseMessage either.
ITEM_MESSAGES: dict[str, str] = {
    "MEMBER_EXISTS": "Member already exists in the group.",
    "MEMBER_NOT_FOUND": "Member is not part of the group.",
    "LAST_ADMIN": "The group needs at least one admin: make another member admin first.",
    "NOT_IN_PARENT": "Members of a subgroup must be members of its parent group.",
    "BATCH_MANAGED": "Members of a batch's group follow the batch's enrolments and mentors.",
}


@cache
def messages() -> dict[str, str]:
    """groups-service's code -> message table."""
    table: dict[str, str] = json.loads(MESSAGES_FILE.read_text(encoding="utf-8"))
    return table


def message(code: str, *args: object) -> str:
    """The exact message of `code`, with `{0}`, `{1}`... filled like Java's MessageFormat."""
    if code == UNAUTHORIZED_CODE:
        text = messages()["UNAUTHORIZED"]
    else:
        text = messages().get(code) or LMS_MESSAGES.get(code) or ITEM_MESSAGES[code]
    for index, value in enumerate(args):
        text = text.replace("{" + str(index) + "}", str(value))
    return text


class SunbirdError(Exception):
    """An error answered in the caller's dialect: `code` (params.err), HTTP `status`, exact message."""

    def __init__(self, code: str, status: int = 400, *args: object, detail: Any = None) -> None:
        self.code, self.status = code, status
        self.message = message(code, *args)
        self.detail = detail  # for logs only; never part of Sunbird's wire shape
        super().__init__(f"{code}: {self.message}")


def item_error(code: str, *args: object, **fields: str) -> dict[str, str]:
    """One entry of a result.error list: `{userId?, errorCode, errorMessage}` as groups-service writes it."""
    return {**fields, "errorCode": code, "errorMessage": message(code, *args)}
