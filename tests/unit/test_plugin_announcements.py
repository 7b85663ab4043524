"""Announcements: admins post, members list newest first (paginated), expiry hides, validation, access."""

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
    monkeypatch.setattr(common, "clock", lambda: now[0])
    return now


@pytest.fixture
def group(papi: PluginApi) -> str:
    group_id = papi.group("mentor", members=[{"userId": "u_a"}, {"userId": "u_b"}])
    papi.link(group_id, "announcements")
    return group_id


def post(papi: PluginApi, group: str, user: str = "mentor", **fields: object) -> object:
    return papi.post(papi.url(group, "announcements", "/announcements"), user,
                     json={"title": "Quiz on Friday", "body": "Chapter 3", **fields})


def titles(papi: PluginApi, group: str, user: str = "u_a", query: str = "") -> list[str]:
    response = papi.get(papi.url(group, "announcements", f"/announcements{query}"), user)
    assert response.status_code == 200, response.json
    return [a["title"] for a in response.json["announcements"]]


def test_admin_posts_and_members_read_newest_first_with_pages(papi: PluginApi, group: str,
                                                               clock: list[datetime]) -> None:
    for index in range(5):
        clock[0] = NOW + timedelta(minutes=index)
        assert post(papi, group, title=f"n{index}").status_code == 201
    assert titles(papi, group) == ["n4", "n3", "n2", "n1", "n0"]
    page = papi.get(papi.url(group, "announcements", "/announcements?limit=2&offset=2"), "u_b").json
    assert [a["title"] for a in page["announcements"]] == ["n2", "n1"]
    assert (page["total"], page["limit"], page["offset"], page["hasMore"]) == (5, 2, 2, True)


def test_expired_announcements_leave_the_members_list(papi: PluginApi, group: str, clock: list[datetime]) -> None:
    short = post(papi, group, title="short", expiresOn=(NOW + timedelta(hours=1)).isoformat()).json
    assert short["expiresOn"] == "2025-03-01T13:00:00.000Z" and short["expired"] is False
    clock[0] = NOW + timedelta(minutes=1)
    post(papi, group, title="forever")
    assert titles(papi, group) == ["forever", "short"]
    clock[0] = NOW + timedelta(hours=1)  # expiry is exclusive: at the instant it is gone
    assert titles(papi, group) == ["forever"]
    single = papi.get(papi.url(group, "announcements", f"/announcements/{short['id']}"), "u_a")
    assert single.status_code == 404 and single.json["error"]["code"] == "announcement_not_found"
    assert titles(papi, group, "mentor", "?includeExpired=true") == ["forever", "short"]
    forbidden = papi.get(papi.url(group, "announcements", "/announcements?includeExpired=true"), "u_a")
    assert forbidden.status_code == 403


def test_default_expiry_from_the_config(papi: PluginApi, group: str, clock: list[datetime]) -> None:
    papi.link(group, "announcements", {"defaultExpiryDays": 2})
    created = post(papi, group).json
    assert created["expiresOn"] == "2025-03-03T12:00:00.000Z"


def test_authorisation_matrix(papi: PluginApi, group: str) -> None:
    created = post(papi, group).json
    item = papi.url(group, "announcements", f"/announcements/{created['id']}")
    member = post(papi, group, user="u_a")
    assert member.status_code == 403 and member.json["error"]["code"] == "admin_required"
    assert papi.delete(item, "u_a").status_code == 403
    for call in (lambda u: papi.get(papi.url(group, "announcements", "/announcements"), u),
                 lambda u: papi.get(item, u), lambda u: post(papi, group, user=u), lambda u: papi.delete(item, u)):
        response = call("outsider")
        assert response.status_code == 404 and response.json["error"]["code"] == "group_not_found"
    assert papi.get(papi.url(group, "announcements", "/announcements"), None).status_code == 401
    # an announcement id from another group is not found through this one
    other = papi.group("mentor", name="Other", members=[{"userId": "u_a"}])
    papi.link(other, "announcements")
    assert papi.get(papi.url(other, "announcements", f"/announcements/{created['id']}"), "u_a").status_code == 404
    assert papi.delete(item, "mentor").status_code == 204
    assert papi.get(item, "u_a").status_code == 404


def test_not_linked_is_404(papi: PluginApi) -> None:
    bare = papi.group("mentor", members=[{"userId": "u_a"}])
    response = papi.get(papi.url(bare, "announcements", "/announcements"), "u_a")
    assert response.status_code == 404 and response.json["error"]["code"] == "plugin_not_linked"


@pytest.mark.parametrize("fields, code", [
    ({"title": ""}, "invalid_input"),
    ({"body": None}, "invalid_input"),
    ({"extra": 1}, "invalid_input"),
    ({"expiresOn": "2025-03-02T10:00:00"}, "invalid_input"),  # no time zone
    ({"expiresOn": "2000-01-01T00:00:00Z"}, "expiry_in_past"),
])
def test_validation_errors_are_422_with_the_error_shape(papi: PluginApi, group: str, fields: dict,
                                                        code: str) -> None:
    response = post(papi, group, **fields)
    assert response.status_code == 422
    assert set(response.json["error"]) == {"code", "message", "details"} and response.json["error"]["code"] == code


def test_a_suspended_group_takes_no_new_announcements(papi: PluginApi, group: str) -> None:
    assert papi.patch(f"/v1/groups/{group}", "mentor", json={"status": "suspended"}).status_code == 200
    response = post(papi, group)
    assert response.status_code == 409 and response.json["error"]["code"] == "group_suspended"
