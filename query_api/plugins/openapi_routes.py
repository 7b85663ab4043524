"""OpenAPI entries of the group plugins' own endpoints (everything but the Progress Report), as plain data
that `query_api.openapi` turns into its `Route`s -- kept here, next to the request models they name."""

from __future__ import annotations

from typing import Any

from query_api.plugins.activity_stream.service import UpdateIn
from query_api.plugins.announcements.service import AnnouncementIn, AnnouncementQuery
from query_api.plugins.assessment.service import ReleaseIn
from query_api.plugins.common import Page
from query_api.plugins.discussion_forum.service import PostIn, ThreadChange, ThreadIn
from query_api.plugins.supplementary_material.service import MaterialIn, SubgroupIn

TAG = "group plugins (docs/plugins.md)"
_P = "/v1/groups/{groupId}/plugins"
_READ = (401, 404, 422, 503)
_WRITE = (401, 403, 404, 409, 422)


def _route(method: str, path: str, summary: str, *, request: Any = None, query: Any = None, status: int = 200,
           errors: tuple[int, ...] = _READ) -> dict[str, Any]:
    return {"method": method, "path": _P + path, "summary": summary, "tag": TAG, "response": None,
            "request": request, "status": status, "query": query, "errors": errors}


PLUGIN_ROUTES: tuple[dict[str, Any], ...] = (
    _route("get", "/leaderboard/leaderboard", "Top learners (competition ranking; every member)"),
    _route("post", "/assessment/assessments", "Release an assessment to this group (admins)", request=ReleaseIn,
           status=201, errors=_WRITE),
    _route("get", "/assessment/assessments", "Assessments released to this group, newest first", query=Page),
    _route("get", "/assessment/assessments/{assessment_id}", "One released assessment"),
    _route("delete", "/assessment/assessments/{assessment_id}", "Withdraw (admins)", status=204, errors=_WRITE),
    _route("get", "/gradebook/grades", "Best attempts: every learner with averages (admins), else the caller's"),
    _route("get", "/gradebook/grades/{userId}", "One learner's grades (admins; learners: themselves only)",
           errors=(401, 403, 404, 503)),
    _route("post", "/supplementary-material/subgroups", "Make a subgroup from a rule over this group (admins)",
           request=SubgroupIn, status=201, errors=(*_WRITE, 503)),
    _route("get", "/supplementary-material/subgroups", "Rule-made subgroups of this group (admins)",
           errors=(401, 403, 404)),
    _route("post", "/supplementary-material/materials", "Attach material (admins)", request=MaterialIn, status=201,
           errors=_WRITE),
    _route("get", "/supplementary-material/materials", "This group's material (its members only)", query=Page),
    _route("delete", "/supplementary-material/materials/{material_id}", "Remove material (admins)", status=204,
           errors=_WRITE),
    _route("post", "/announcements/announcements", "Post an announcement (admins)", request=AnnouncementIn,
           status=201, errors=_WRITE),
    _route("get", "/announcements/announcements", "Unexpired announcements, newest first", query=AnnouncementQuery,
           errors=(401, 403, 404, 422)),
    _route("get", "/announcements/announcements/{announcement_id}", "One announcement"),
    _route("delete", "/announcements/announcements/{announcement_id}", "Remove (admins)", status=204,
           errors=_WRITE),
    _route("get", "/activity-stream/entries", "Updates and milestones, newest first", query=Page),
    _route("post", "/activity-stream/entries", "Post an update (members)", request=UpdateIn, status=201,
           errors=_WRITE),
    _route("delete", "/activity-stream/entries/{entry_id}", "Remove an entry (admins, or the author)", status=204,
           errors=_WRITE),
    _route("post", "/discussion-forum/threads", "Start a thread (members)", request=ThreadIn, status=201,
           errors=_WRITE),
    _route("get", "/discussion-forum/threads", "Threads, latest post first", query=Page),
    _route("get", "/discussion-forum/threads/{thread_id}", "A thread with its posts, oldest first", query=Page),
    _route("patch", "/discussion-forum/threads/{thread_id}", "Lock or unlock (admins)", request=ThreadChange,
           errors=_WRITE),
    _route("post", "/discussion-forum/threads/{thread_id}/posts", "Reply (409 when locked)", request=PostIn,
           status=201, errors=_WRITE),
    _route("delete", "/discussion-forum/threads/{thread_id}/posts/{post_id}", "Remove a post (admins, or the "
           "author)", status=204, errors=_WRITE),
)
