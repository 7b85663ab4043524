"""Forum use cases. Threads are listed by latest post first; a thread's posts oldest first (a conversation).

Moderation: admins lock/unlock a thread (no new posts, 409 thread_locked) and remove any post; an author may
remove their own post. A removed post stays in the thread as a placeholder (`removed: true`, no body), so
replies keep their context; the thread's opening post counts as a post.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from query_api.errors import Conflict, Forbidden, NotFound
from query_api.models import ForumPost, ForumThread
from query_api.plugins import common
from query_api.plugins.discussion_forum.plugin import PLUGIN_ID
from query_api.schemas.common import NO_NUL

Text = Field(min_length=1, max_length=10_000, pattern=NO_NUL)


class ThreadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    body: str = Text


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Text


class ThreadChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locked: bool


def thread_out(row: ForumThread) -> dict[str, Any]:
    return {"id": row.id, "groupId": row.group_id, "title": row.title, "locked": row.locked,
            "postCount": row.post_count, "createdOn": common.iso(row.created_on), "createdBy": row.created_by,
            "lastPostOn": common.iso(row.last_post_on), "lockedBy": row.locked_by}


def post_out(row: ForumPost) -> dict[str, Any]:
    removed = row.status == "removed"
    return {"id": row.id, "threadId": row.thread_id, "body": None if removed else row.body, "removed": removed,
            "createdOn": common.iso(row.created_on), "createdBy": row.created_by,
            "removedBy": row.removed_by, "removedOn": common.iso(row.removed_on)}


def _thread(session: Session, group_id: str, thread_id: str) -> ForumThread:
    row = session.get(ForumThread, thread_id)
    if row is None or row.group_id != group_id:
        raise NotFound(f"thread {thread_id} not found", {"threadId": thread_id}, code="thread_not_found")
    return row


def _add_post(session: Session, thread: ForumThread, user_id: str, text: str) -> ForumPost:
    now = common.clock()
    post = ForumPost(id=common.new_id(), thread_id=thread.id, group_id=thread.group_id, body=text, status="active",
                     created_on=now, created_by=user_id)
    session.add(post)
    thread.post_count, thread.last_post_on = thread.post_count + 1, now
    return post


def start_thread(session: Session, group_id: str, user_id: str, data: ThreadIn) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID).writable()
    if not ctx.config.get("membersCanStartThreads", True) and not ctx.access.is_admin:
        raise Forbidden("only admins start threads in this group", {"groupId": group_id}, code="admin_required")
    now = common.clock()
    thread = ForumThread(id=common.new_id(), group_id=group_id, title=data.title, locked=False, post_count=0,
                         created_on=now, created_by=user_id, last_post_on=now)
    session.add(thread)
    session.flush()
    post = _add_post(session, thread, user_id, data.body)
    session.commit()
    return {**thread_out(thread), "posts": [post_out(post)]}


def threads(session: Session, group_id: str, user_id: str, page: common.Page) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID)
    total = session.scalar(select(func.count()).select_from(ForumThread).where(ForumThread.group_id == group_id)) or 0
    rows = session.scalars(select(ForumThread).where(ForumThread.group_id == group_id)
                           .order_by(ForumThread.last_post_on.desc(), ForumThread.id.desc())
                           .limit(page.limit).offset(page.offset))
    return {"groupId": group_id, **common.page_of([thread_out(r) for r in rows], total, page, "threads")}


def thread(session: Session, group_id: str, user_id: str, thread_id: str, page: common.Page) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID)
    row = _thread(session, group_id, thread_id)
    where = ForumPost.thread_id == thread_id
    total = session.scalar(select(func.count()).select_from(ForumPost).where(where)) or 0
    posts = session.scalars(select(ForumPost).where(where).order_by(ForumPost.created_on, ForumPost.id)
                            .limit(page.limit).offset(page.offset))
    return {**thread_out(row), **common.page_of([post_out(p) for p in posts], total, page, "posts")}


def reply(session: Session, group_id: str, user_id: str, thread_id: str, data: PostIn) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID).writable()
    row = _thread(session, group_id, thread_id)
    if row.locked:
        raise Conflict(f"thread {thread_id} is locked", {"threadId": thread_id}, code="thread_locked")
    post = _add_post(session, row, user_id, data.body)
    session.commit()
    return post_out(post)


def change_thread(session: Session, group_id: str, user_id: str, thread_id: str,
                  data: ThreadChange) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID, need_admin=True)
    row = _thread(session, group_id, thread_id)
    row.locked = data.locked
    row.locked_on, row.locked_by = (common.clock(), user_id) if data.locked else (None, None)
    session.commit()
    return thread_out(row)


def remove_post(session: Session, group_id: str, user_id: str, thread_id: str, post_id: str) -> None:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    _thread(session, group_id, thread_id)
    post = session.get(ForumPost, post_id)
    if post is None or post.thread_id != thread_id or post.status != "active":
        raise NotFound(f"post {post_id} not found", {"postId": post_id}, code="post_not_found")
    if not ctx.access.is_admin and post.created_by != user_id:
        raise Forbidden("only an admin or the author can remove a post", {"postId": post_id}, code="admin_required")
    post.status, post.removed_on, post.removed_by = "removed", common.clock(), user_id
    session.commit()
