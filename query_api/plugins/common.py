"""What the group plugins share: who is calling in which group (with the plugin's config), the clock, ids,
pagination and JSON answers. Access always goes through `services.access` (404 non-member, 403 non-admin),
then `plugin_config` (404 plugin_not_linked), so a plugin is only reachable on a group that links it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from sqlalchemy.orm import Session

from query_api.errors import GroupSuspended
from query_api.plugins.progress_report.report import analytics, store_failure
from query_api.services.access import GroupAccess, group_for_user, group_learners, plugin_config
from query_api.store.base import AnalyticsStore, StoreError

T = TypeVar("T")

__all__ = ["Page", "PluginContext", "analytics", "clock", "context", "iso", "json_response", "learners",
           "new_id", "page_of", "store_call"]


def clock() -> datetime:
    """Now, in UTC. The one place plugins read the time (tests move it to check expiry and day windows)."""
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_ms(epoch_ms: int) -> str:
    return iso(datetime.fromtimestamp(epoch_ms / 1000, UTC)) or ""


@dataclass(frozen=True)
class PluginContext:
    access: GroupAccess
    config: dict[str, Any]

    @property
    def group_id(self) -> str:
        return self.access.group_id

    def writable(self) -> PluginContext:
        """Suspended groups allow only leaving and reactivation (groups-service rule): no new content."""
        if self.access.status == "suspended":
            raise GroupSuspended(self.access.group_id)
        return self


def context(session: Session, group_id: str, user_id: str, plugin_id: str, *,
            need_admin: bool = False) -> PluginContext:
    """404 for non-members (as for a missing group), 403 when an admin is needed, 404 when not linked."""
    access = group_for_user(group_id, user_id, need_admin=need_admin, session=session)
    return PluginContext(access, plugin_config(group_id, plugin_id, session=session))


def learners(session: Session, group_id: str) -> list[str]:
    """The group's active non-admin members, in userId order (the rows of every per-learner view)."""
    return group_learners(group_id, session=session)


class Page(BaseModel):
    """`?limit=&offset=` of every list; newest first unless the endpoint says otherwise."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


def page_of(items: Sequence[Any], total: int, page: Page, key: str = "items") -> dict[str, Any]:
    return {key: list(items), "total": total, "limit": page.limit, "offset": page.offset,
            "hasMore": page.offset + len(items) < total}


def json_response(data: object, status: int = 200) -> Response:
    return Response(to_json(data), status=status, mimetype="application/json")


def store_call(work: Callable[[AnalyticsStore], T]) -> T:
    """Run one analytics read; a store that is down or slow becomes the API's 503 (never a hang or a 500)."""
    store = analytics()
    try:
        return work(store)
    except StoreError as error:
        raise store_failure(error) from error
