"""Gradebook: best attempt per learner (highest score, ties to the latest attempt) with attempt counts; the
teacher view with averages; learners only ever get their own row (403 for another learner's)."""

from __future__ import annotations

import pytest

from tests.api_fixtures import *  # noqa: F403
from tests.fixtures.courses import FRACTIONS
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import T0, PluginApi, attempt, load_rows


@pytest.fixture
def group(papi: PluginApi) -> str:
    papi.course(FRACTIONS)
    group_id = papi.group("mentor", members=[{"userId": u} for u in ("u_a", "u_b", "u_c")])
    papi.link(group_id, "assessment")
    papi.link(group_id, "gradebook")
    for body in ({"contentId": "do_leaf_2", "courseId": "do_course_1", "title": "Quiz"},
                 {"contentId": "solo_1", "title": "Standalone"}):
        assert papi.post(papi.url(group_id, "assessment", "/assessments"), "mentor", json=body).status_code == 201
    load_rows(papi.conn, [
        attempt("u_a", "do_leaf_2", "a1", 6, ets=T0),
        attempt("u_a", "do_leaf_2", "a2", 9, ets=T0 + 1000),
        attempt("u_a", "do_leaf_2", "a3", 9, ets=T0 + 2000),  # tie on the best score: the latest wins
        attempt("u_a", "do_leaf_2", "zz", 10, course="do_other"),  # another course: not this column
        attempt("u_b", "do_leaf_2", "b1", 4, ets=T0),
        attempt("u_b", "solo_1", "s1", 3, max_score=4, course="c_x", ets=T0),
        attempt("u_b", "solo_1", "s2", 2, max_score=4, course="c_y", ets=T0 + 5),  # standalone: any course
        attempt("outsider", "do_leaf_2", "o1", 10),
    ])
    return group_id


def grades_url(papi: PluginApi, group: str, path: str = "") -> str:
    return papi.url(group, "gradebook", f"/grades{path}")


def test_teacher_view_has_every_learner_best_attempts_counts_and_averages(papi: PluginApi, group: str) -> None:
    data = papi.get(grades_url(papi, group), "mentor").json
    assert data["view"] == "teacher"
    quiz, solo = (a["key"] for a in data["assessments"])
    assert (quiz, solo) == ("do_course_1/do_leaf_2", "*/solo_1")
    rows = {m["userId"]: m for m in data["members"]}
    assert list(rows) == ["u_a", "u_b", "u_c"]
    assert rows["u_a"]["grades"][quiz] == {"attempts": 3, "bestScore": 9.0, "maxScore": 10.0, "percent": 90.0,
                                           "bestAttemptId": "a3", "bestAttemptOn": "2024-11-25T02:00:02.000Z"}
    assert rows["u_a"]["grades"][solo]["attempts"] == 0 and rows["u_a"]["grades"][solo]["bestScore"] is None
    assert rows["u_b"]["grades"][solo] == {"attempts": 2, "bestScore": 3.0, "maxScore": 4.0, "percent": 75.0,
                                           "bestAttemptId": "s1", "bestAttemptOn": "2024-11-25T02:00:00.000Z"}
    assert rows["u_b"]["average"] == 57.5 and rows["u_c"]["average"] is None
    assert data["averages"][quiz] == {"averagePercent": 65.0, "attempted": 2, "learners": 3}
    assert data["averages"][solo] == {"averagePercent": 75.0, "attempted": 1, "learners": 3}


def test_learners_see_only_their_own_scores(papi: PluginApi, group: str) -> None:
    mine = papi.get(grades_url(papi, group), "u_b").json
    assert mine["view"] == "learner" and [m["userId"] for m in mine["members"]] == ["u_b"]
    assert "averages" not in mine
    assert papi.get(grades_url(papi, group, "/u_b"), "u_b").json["userId"] == "u_b"
    other = papi.get(grades_url(papi, group, "/u_a"), "u_b")
    assert other.status_code == 403 and other.json["error"]["code"] == "own_grades_only"
    assert papi.get(grades_url(papi, group, "/u_a"), "mentor").json["grades"]["do_course_1/do_leaf_2"]["attempts"] == 3
    missing = papi.get(grades_url(papi, group, "/outsider"), "mentor")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "member_not_found"


def test_non_members_and_unlinked_groups_get_404(papi: PluginApi, group: str) -> None:
    for path in ("", "/u_a", "/outsider"):
        response = papi.get(grades_url(papi, group, path), "outsider")
        assert response.status_code == 404 and response.json["error"]["code"] == "group_not_found"
    bare = papi.group("mentor", name="Bare", members=[{"userId": "u_a"}])
    assert papi.get(grades_url(papi, bare), "u_a").json["error"]["code"] == "plugin_not_linked"


def test_config_columns_replace_the_released_ones(papi: PluginApi, group: str) -> None:
    papi.link(group, "gradebook", {"assessments": [{"contentId": "do_leaf_2", "title": "Any course"}]})
    data = papi.get(grades_url(papi, group), "mentor").json
    assert [a["key"] for a in data["assessments"]] == ["*/do_leaf_2"]
    assert data["members"][0]["grades"]["*/do_leaf_2"]["bestAttemptId"] == "zz"  # 10 in do_other
    bad = papi.put(f"/v1/groups/{group}/plugins/gradebook", "mentor", json={"config": {"assessments": []}})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_config"
