"""Discussion forum: threads and replies, lock and remove by admins, authors removing their own, pages, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from query_api.plugins import common
from tests.api_fixtures import *  # noqa: F403
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import PluginApi

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [NOW]

    def tick() -> datetime:
        now[0] += timedelta(seconds=1)  # every write a second later: a strict order to assert on
        return now[0]

    monkeypatch.setattr(common, "clock", tick)
    return now


@pytest.fixture
def group(papi: PluginApi, clock: list[datetime]) -> str:
    group_id = papi.group("mentor", members=[{"userId": "u_a"}, {"userId": "u_b"}])
    papi.link(group_id, "discussion-forum")
    return group_id


def url(papi: PluginApi, group: str, path: str) -> str:
    return papi.url(group, "discussion-forum", path)


def start(papi: PluginApi, group: str, user: str = "u_a", title: str = "Help with halves") -> dict:
    response = papi.post(url(papi, group, "/threads"), user, json={"title": title, "body": "How do I..."})
    assert response.status_code == 201, response.json
    return response.json


def test_threads_and_replies(papi: PluginApi, group: str) -> None:
    thread = start(papi, group)
    assert thread["postCount"] == 1 and thread["posts"][0]["body"] == "How do I..."
    reply = papi.post(url(papi, group, f"/threads/{thread['id']}/posts"), "u_b", json={"body": "Like this"})
    assert reply.status_code == 201
    read = papi.get(url(papi, group, f"/threads/{thread['id']}"), "mentor").json
    assert [p["body"] for p in read["posts"]] == ["How do I...", "Like this"] and read["postCount"] == 2


def test_threads_are_listed_by_latest_post_with_pages(papi: PluginApi, group: str) -> None:
    first, second, third = (start(papi, group, title=t) for t in ("t1", "t2", "t3"))
    papi.post(url(papi, group, f"/threads/{first['id']}/posts"), "u_b", json={"body": "bump"})
    listed = papi.get(url(papi, group, "/threads"), "u_b").json
    assert [t["title"] for t in listed["threads"]] == ["t1", "t3", "t2"]
    page = papi.get(url(papi, group, "/threads?limit=1&offset=1"), "u_b").json
    assert [t["title"] for t in page["threads"]] == ["t3"] and page["total"] == 3 and page["hasMore"] is True
    posts = papi.get(url(papi, group, f"/threads/{first['id']}?limit=1&offset=1"), "u_b").json
    assert [p["body"] for p in posts["posts"]] == ["bump"] and posts["total"] == 2
    assert second["id"] != third["id"]


def test_admins_lock_a_thread_and_then_nobody_replies(papi: PluginApi, group: str) -> None:
    thread = start(papi, group)
    item = url(papi, group, f"/threads/{thread['id']}")
    member = papi.patch(item, "u_a", json={"locked": True})
    assert member.status_code == 403 and member.json["error"]["code"] == "admin_required"
    locked = papi.patch(item, "mentor", json={"locked": True})
    assert locked.status_code == 200 and locked.json["locked"] is True and locked.json["lockedBy"] == "mentor"
    for user in ("u_b", "mentor"):
        response = papi.post(f"{item}/posts", user, json={"body": "late"})
        assert response.status_code == 409 and response.json["error"]["code"] == "thread_locked"
    assert papi.patch(item, "mentor", json={"locked": False}).json["locked"] is False
    assert papi.post(f"{item}/posts", "u_b", json={"body": "again"}).status_code == 201


def test_admins_remove_any_post_authors_their_own_only(papi: PluginApi, group: str) -> None:
    thread = start(papi, group)
    item = url(papi, group, f"/threads/{thread['id']}")
    reply = papi.post(f"{item}/posts", "u_b", json={"body": "spam"}).json
    opening = thread["posts"][0]
    other = papi.delete(f"{item}/posts/{reply['id']}", "u_a")
    assert other.status_code == 403
    assert papi.delete(f"{item}/posts/{reply['id']}", "mentor").status_code == 204
    assert papi.delete(f"{item}/posts/{opening['id']}", "u_a").status_code == 204  # the author
    posts = papi.get(item, "u_b").json["posts"]
    assert [(p["removed"], p["body"], p["removedBy"]) for p in posts] == [(True, None, "u_a"), (True, None, "mentor")]
    again = papi.delete(f"{item}/posts/{reply['id']}", "mentor")
    assert again.status_code == 404 and again.json["error"]["code"] == "post_not_found"


def test_authorisation_matrix_and_cross_group_ids(papi: PluginApi, group: str) -> None:
    thread = start(papi, group)
    item = url(papi, group, f"/threads/{thread['id']}")
    for method, path, body in [("GET", url(papi, group, "/threads"), None), ("GET", item, None),
                               ("POST", url(papi, group, "/threads"), {"title": "x", "body": "y"}),
                               ("POST", f"{item}/posts", {"body": "y"}), ("PATCH", item, {"locked": True}),
                               ("DELETE", f"{item}/posts/{thread['posts'][0]['id']}", None)]:
        response = papi.call(method, path, "outsider", json=body)
        assert response.status_code == 404 and response.json["error"]["code"] == "group_not_found", (method, path)
    other = papi.group("mentor", name="Other", members=[{"userId": "u_a"}])
    papi.link(other, "discussion-forum")
    response = papi.get(url(papi, other, f"/threads/{thread['id']}"), "u_a")
    assert response.status_code == 404 and response.json["error"]["code"] == "thread_not_found"
    assert papi.post(url(papi, other, f"/threads/{thread['id']}/posts"), "u_a", json={"body": "x"}).status_code == 404


def test_config_can_reserve_new_threads_to_admins(papi: PluginApi, group: str) -> None:
    papi.link(group, "discussion-forum", {"membersCanStartThreads": False})
    response = papi.post(url(papi, group, "/threads"), "u_a", json={"title": "t", "body": "b"})
    assert response.status_code == 403
    assert start(papi, group, user="mentor")["createdBy"] == "mentor"


@pytest.mark.parametrize("body", [{"title": "t"}, {"title": "", "body": "b"}, {"title": "t", "body": "b", "x": 1},
                                  {"title": "t" * 201, "body": "b"}])
def test_invalid_threads_are_422(papi: PluginApi, group: str, body: dict) -> None:
    response = papi.post(url(papi, group, "/threads"), "u_a", json=body)
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_input"
    assert papi.patch(url(papi, group, "/threads/none"), "mentor", json={"locked": "maybe"}).status_code == 422
