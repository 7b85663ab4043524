"""Activity stream: members' updates, released assessments, course completions derived from progress, newest
first with exact pages, removal rules, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from query_api.plugins import common
from tests.api_fixtures import *  # noqa: F403
from tests.fixtures.courses import FRACTIONS
from tests.fixtures.progress_state import StateEvent as E
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import DAY, T0, PluginApi, record_state

START = datetime.fromtimestamp(T0 / 1000, UTC)  # 2024-11-25T02:00:00Z


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [START]
    monkeypatch.setattr(common, "clock", lambda: now[0])
    return now


@pytest.fixture
def group(papi: PluginApi, clock: list[datetime]) -> str:
    papi.course(FRACTIONS)
    group_id = papi.group("mentor", members=[{"userId": "u_a"}, {"userId": "u_b"}])
    papi.link(group_id, "progress-report", {"courseIds": ["do_course_1"]})
    papi.link(group_id, "activity-stream")
    papi.link(group_id, "assessment")
    return group_id


def stream(papi: PluginApi, group: str, query: str = "", user: str = "u_a") -> dict:
    response = papi.get(papi.url(group, "activity-stream", f"/entries{query}"), user)
    assert response.status_code == 200, response.json
    return response.json


def post(papi: PluginApi, group: str, user: str, text: str) -> dict:
    response = papi.post(papi.url(group, "activity-stream", "/entries"), user, json={"body": text})
    assert response.status_code == 201, response.json
    return response.json


def test_updates_releases_and_completions_newest_first(papi: PluginApi, group: str, clock: list[datetime]) -> None:
    record_state(papi.conn, [
        E("u_a", "b_1", "do_course_1", T0 + DAY, {"do_leaf_1": 2}),
        E("u_a", "b_1", "do_course_1", T0 + 3 * DAY, {"do_leaf_2": 2}),  # completes the course (2 leaves)
        E("u_a", "b_1", "do_course_1", T0 + 5 * DAY, {"do_leaf_2": 2}),  # a revisit does not move it
        E("u_b", "b_1", "do_course_1", T0 + DAY, {"do_leaf_1": 2}),  # half: no milestone
        E("mentor", "b_1", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_2": 2}),  # admins are not learners
    ])
    clock[0] = START + timedelta(days=2)
    post(papi, group, "u_b", "Finished unit 1!")
    clock[0] = START + timedelta(days=4)
    papi.post(papi.url(group, "assessment", "/assessments"), "mentor", json={"contentId": "q1", "title": "Quiz"})
    data = stream(papi, group)
    assert [(e["kind"], e["createdOn"]) for e in data["entries"]] == [
        ("assessment_released", "2024-11-29T02:00:00.000Z"),
        ("course_completed", "2024-11-28T02:00:00.000Z"),
        ("update", "2024-11-27T02:00:00.000Z")]
    completed = data["entries"][1]
    assert completed["id"] == "course_completed:u_a:do_course_1"
    assert completed["data"] == {"userId": "u_a", "courseId": "do_course_1", "courseName": "Fractions",
                                 "batchId": "b_1"}
    assert data["total"] == 3


def test_pages_over_the_merged_stream(papi: PluginApi, group: str, clock: list[datetime]) -> None:
    record_state(papi.conn, [E("u_a", "b_1", "do_course_1", T0 + 90_000, {"do_leaf_1": 2, "do_leaf_2": 2})])
    for minute in range(4):  # updates at 0, 1, 2, 3 minutes; the completion at 1.5
        clock[0] = START + timedelta(minutes=minute)
        post(papi, group, "u_a", f"m{minute}")
    labels = [e["body"] or e["kind"] for e in stream(papi, group)["entries"]]
    assert labels == ["m3", "m2", "course_completed", "m1", "m0"]
    pages = [stream(papi, group, f"?limit=2&offset={offset}") for offset in (0, 2, 4)]
    assert [e["body"] or e["kind"] for p in pages for e in p["entries"]] == labels
    assert [p["hasMore"] for p in pages] == [True, True, False] and pages[0]["total"] == 5
    bad = papi.get(papi.url(group, "activity-stream", "/entries?limit=0"), "u_a")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_input"


def test_config_courses_replace_the_report_courses(papi: PluginApi, group: str) -> None:
    record_state(papi.conn, [E("u_a", "b_1", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_2": 2})])
    assert [e["kind"] for e in stream(papi, group)["entries"]] == ["course_completed"]
    papi.link(group, "activity-stream", {"courseIds": []})
    assert stream(papi, group)["entries"] == []


def test_removal_and_access(papi: PluginApi, group: str, clock: list[datetime]) -> None:
    mine = post(papi, group, "u_a", "hello")
    theirs = post(papi, group, "u_b", "hi")
    url = papi.url(group, "activity-stream", "/entries")
    assert papi.delete(f"{url}/{theirs['id']}", "u_a").status_code == 403
    assert papi.delete(f"{url}/{mine['id']}", "u_a").status_code == 204
    assert papi.delete(f"{url}/{theirs['id']}", "mentor").status_code == 204
    assert stream(papi, group)["entries"] == []
    assert papi.delete(f"{url}/course_completed:u_a:do_course_1", "mentor").status_code == 404
    for method in ("GET", "POST"):
        response = papi.call(method, url, "outsider", json={"body": "x"})
        assert response.status_code == 404 and response.json["error"]["code"] == "group_not_found"
    assert papi.post(url, "u_a", json={"body": ""}).status_code == 422


def test_a_store_that_is_down_is_a_503(papi: PluginApi, group: str) -> None:
    papi.conn.close()
    response = papi.get(papi.url(group, "activity-stream", "/entries"), "u_a")
    assert response.status_code == 503 and response.json["error"]["code"] == "analytics_unavailable"
