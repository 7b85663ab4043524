"""Announcements use cases (REST views and the group page tab share them).

Expired announcements leave the members' list at their expiry; admins can still list them
(`includeExpired=true`) and remove any announcement. Removal keeps the row (who and when).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from query_api.errors import Forbidden, Invalid, NotFound
from query_api.models import Announcement
from query_api.plugins import common
from query_api.plugins.announcements.plugin import PLUGIN_ID
from query_api.schemas.common import NO_NUL


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    body: str = Field(min_length=1, max_length=10_000, pattern=NO_NUL)
    expiresOn: AwareDatetime | None = None


class AnnouncementQuery(common.Page):
    includeExpired: bool = False


def out(row: Announcement, now: datetime) -> dict[str, Any]:
    return {"id": row.id, "groupId": row.group_id, "title": row.title, "body": row.body,
            "expiresOn": common.iso(row.expires_on), "expired": _expired(row, now),
            "createdOn": common.iso(row.created_on), "createdBy": row.created_by}


def _expired(row: Announcement, now: datetime) -> bool:
    expires = row.expires_on
    return expires is not None and expires <= now


def post(session: Session, group_id: str, user_id: str, data: AnnouncementIn) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID, need_admin=True).writable()
    now = common.clock()
    expires = data.expiresOn
    if expires is None and ctx.config.get("defaultExpiryDays"):
        expires = now + timedelta(days=int(ctx.config["defaultExpiryDays"]))
    if expires is not None and expires <= now:
        raise Invalid("expiresOn must be in the future", {"expiresOn": common.iso(expires), "now": common.iso(now)},
                      code="expiry_in_past")
    row = Announcement(id=common.new_id(), group_id=group_id, title=data.title, body=data.body, expires_on=expires,
                       status="active", created_on=now, created_by=user_id)
    session.add(row)
    session.commit()
    return out(row, now)


def listing(session: Session, group_id: str, user_id: str, params: AnnouncementQuery) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    if params.includeExpired and not ctx.access.is_admin:
        raise Forbidden("only admins can list expired announcements", {"groupId": group_id}, code="admin_required")
    now = common.clock()
    where = [Announcement.group_id == group_id, Announcement.status == "active"]
    if not params.includeExpired:
        where.append(or_(Announcement.expires_on.is_(None), Announcement.expires_on > now))
    total = session.scalar(select(func.count()).select_from(Announcement).where(*where)) or 0
    rows = session.scalars(select(Announcement).where(*where)
                           .order_by(Announcement.created_on.desc(), Announcement.id.desc())
                           .limit(params.limit).offset(params.offset))
    return {"groupId": group_id, **common.page_of([out(r, now) for r in rows], total, params, "announcements")}


def _find(session: Session, group_id: str, announcement_id: str) -> Announcement:
    row = session.get(Announcement, announcement_id)
    if row is None or row.group_id != group_id or row.status != "active":
        raise NotFound(f"announcement {announcement_id} not found", {"announcementId": announcement_id},
                       code="announcement_not_found")
    return row


def get(session: Session, group_id: str, user_id: str, announcement_id: str) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    row, now = _find(session, group_id, announcement_id), common.clock()
    if _expired(row, now) and not ctx.access.is_admin:
        raise NotFound(f"announcement {announcement_id} not found", {"announcementId": announcement_id},
                       code="announcement_not_found")
    return out(row, now)


def remove(session: Session, group_id: str, user_id: str, announcement_id: str) -> None:
    common.context(session, group_id, user_id, PLUGIN_ID, need_admin=True)
    row = _find(session, group_id, announcement_id)
    row.status, row.removed_on, row.removed_by = "removed", common.clock(), user_id
    session.commit()
