"""Leaderboard: competition ranking (ties share a rank: 1, 2, 2, 4), progress or assessment score, course /
batch / program scopes, size cut-off, visible to every member, and config validation."""

from __future__ import annotations

import pytest

from query_api.plugins.leaderboard.service import rank
from tests.api_fixtures import *  # noqa: F403
from tests.fixtures.courses import simple_course
from tests.fixtures.progress_state import StateEvent as E
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import T0, PluginApi, attempt, load_rows, record_state

COURSE = simple_course("c1", {"c1_u1": ["l1", "l2"], "c1_u2": ["l3", "l4"]}, name="Course 1")
COURSE2 = simple_course("c2", {"c2_u1": ["m1", "m2"]}, name="Course 2")


def test_competition_ranking() -> None:
    assert rank({"d": 1, "a": 5, "c": 3, "b": 3}) == [(1, "a", 5), (2, "b", 3), (2, "c", 3), (4, "d", 1)]
    assert rank({"x": 0, "y": 0}) == [(1, "x", 0), (1, "y", 0)]
    assert rank({}) == []


@pytest.fixture
def group(papi: PluginApi) -> str:
    papi.course(COURSE)
    papi.course(COURSE2)
    group_id = papi.group("mentor", members=[{"userId": u} for u in ("u_a", "u_b", "u_c", "u_d", "u_e")])
    record_state(papi.conn, [
        E("u_a", "b_1", "c1", T0, {"l1": 2, "l2": 2, "l3": 2}),
        E("u_b", "b_1", "c1", T0, {"l1": 2, "l2": 2}),
        E("u_c", "b_2", "c1", T0, {"l1": 2, "l2": 2, "l3": 1}),  # ties with u_b
        E("u_c", "b_1", "c1", T0, {"l1": 2}),  # the best batch counts, not the sum
        E("u_d", "b_1", "c1", T0, {"l4": 2}),
        E("mentor", "b_1", "c1", T0, {"l1": 2, "l2": 2, "l3": 2, "l4": 2}),  # admins are not ranked
        E("u_e", "b_1", "c2", T0, {"m1": 2}),
    ])
    return group_id


def board(papi: PluginApi, group: str, user: str = "u_d") -> dict:
    response = papi.get(papi.url(group, "leaderboard", "/leaderboard"), user)
    assert response.status_code == 200, response.json
    return response.json


def test_progress_in_a_course_with_ties_sharing_a_rank(papi: PluginApi, group: str) -> None:
    papi.link(group, "leaderboard", {"scope": {"type": "course", "courseId": "c1"}, "metric": "progress"})
    data = board(papi, group)
    assert data["ranking"] == "competition" and data["size"] == 10
    assert [(e["rank"], e["userId"], e["completed"], e["percent"]) for e in data["entries"]] == [
        (1, "u_a", 3, 75), (2, "u_b", 2, 50), (2, "u_c", 2, 50), (4, "u_d", 1, 25), (5, "u_e", 0, 0)]
    assert data["me"]["rank"] == 4


def test_size_keeps_a_tie_at_the_cut_whole(papi: PluginApi, group: str) -> None:
    papi.link(group, "leaderboard", {"scope": {"type": "course", "courseId": "c1"}, "metric": "progress", "size": 2})
    data = board(papi, group)
    assert [e["userId"] for e in data["entries"]] == ["u_a", "u_b", "u_c"]
    assert data["me"]["userId"] == "u_d" and data["me"]["rank"] == 4  # outside the board, still told


def test_assessment_score_in_a_batch(papi: PluginApi, group: str) -> None:
    response = papi.post("/v1/batches", "ops", operator=True, json={
        "batchId": "b_1", "courseIds": ["c1", "c2"], "mentors": ["mentor"]})
    assert response.status_code == 201, response.json
    load_rows(papi.conn, [
        attempt("u_a", "q1", "1", 5, course="c1"), attempt("u_a", "q1", "2", 7, course="c1"),
        attempt("u_a", "q2", "1", 2, max_score=5, course="c2"),
        attempt("u_b", "q1", "1", 9, course="c1"),
        attempt("u_c", "q1", "1", 9, course="c1"),
        attempt("u_d", "q1", "1", 10, course="c1", batch="b_other"),  # another batch: out of scope
    ])
    papi.link(group, "leaderboard", {"scope": {"type": "batch", "batchId": "b_1"}, "metric": "assessment_score"})
    data = board(papi, group, "u_a")
    assert [(e["rank"], e["userId"], e["score"]) for e in data["entries"][:4]] == [
        (1, "u_a", 9.0), (1, "u_b", 9.0), (1, "u_c", 9.0), (4, "u_d", 0.0)]
    assert data["entries"][0]["maxScore"] == 15.0 and data["entries"][0]["percent"] == 60.0
    papi.link(group, "leaderboard", {"scope": {"type": "batch", "batchId": "b_1"}, "metric": "assessment_score",
                                     "contentIds": ["q2"]})
    assert board(papi, group)["entries"][0]["userId"] == "u_a"


def test_program_scope_and_unknown_scopes(papi: PluginApi, group: str) -> None:
    for batch_id in ("b_1", "b_2"):
        papi.post("/v1/batches", "ops", operator=True, json={"batchId": batch_id, "courseIds": ["c1"],
                                                             "programId": "p_1", "mentors": ["mentor"]})
    papi.link(group, "leaderboard", {"scope": {"type": "program", "programId": "p_1"}, "metric": "progress"})
    data = board(papi, group)
    assert data["batchIds"] == ["b_1", "b_2"] and data["entries"][0]["userId"] == "u_a"
    papi.link(group, "leaderboard", {"scope": {"type": "program", "programId": "p_none"}, "metric": "progress"})
    missing = papi.get(papi.url(group, "leaderboard", "/leaderboard"), "u_a")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "scope_not_found"


def test_every_member_sees_it_non_members_do_not(papi: PluginApi, group: str) -> None:
    papi.link(group, "leaderboard", {"scope": {"type": "course", "courseId": "c1"}, "metric": "progress"})
    assert board(papi, group, "mentor")["me"] is None
    assert board(papi, group, "u_e")["learners"] == 5
    outsider = papi.get(papi.url(group, "leaderboard", "/leaderboard"), "outsider")
    assert outsider.status_code == 404 and outsider.json["error"]["code"] == "group_not_found"


@pytest.mark.parametrize("config", [
    {"scope": {"type": "course"}, "metric": "progress"},
    {"scope": {"type": "course", "courseId": "c1"}, "metric": "speed"},
    {"scope": {"type": "galaxy", "courseId": "c1"}, "metric": "progress"},
    {"scope": {"type": "course", "courseId": "c1"}, "metric": "progress", "size": 0},
    {"metric": "progress"},
])
def test_bad_configs_are_422(papi: PluginApi, group: str, config: dict) -> None:
    response = papi.put(f"/v1/groups/{group}/plugins/leaderboard", "mentor", json={"config": config})
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_config"
