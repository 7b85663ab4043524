"""Subgroups by criteria (scored below X%, enrolled within N days, inactive N days) made through the group
rules and limits, and material shown to the subgroup's members only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from query_api import db
from query_api.models import GroupMember
from query_api.plugins import common
from tests.api_fixtures import *  # noqa: F403
from tests.fixtures.courses import FRACTIONS
from tests.fixtures.progress_state import StateEvent as E
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import DAY, T0, PluginApi, attempt, load_rows, record_state

PLUGIN = "supplementary-material"
NOW = datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(days=30)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [NOW]
    monkeypatch.setattr(common, "clock", lambda: now[0])
    return now


@pytest.fixture
def parent(papi: PluginApi, clock: list[datetime]) -> str:
    papi.course(FRACTIONS)
    group_id = papi.group("mentor", name="Class 5", members=[{"userId": u} for u in ("u_a", "u_b", "u_c", "u_d")]
                          + [{"userId": "co_mentor", "role": "admin"}])
    papi.link(group_id, PLUGIN)
    papi.link(group_id, "assessment")
    return group_id


def subgroup(papi: PluginApi, parent: str, rule: dict, user: str = "mentor", name: str = "Extra help") -> object:
    return papi.post(papi.url(parent, PLUGIN, "/subgroups"), user, json={"name": name, "rule": rule})


def test_scored_below_makes_a_subgroup_with_its_material(papi: PluginApi, parent: str) -> None:
    quiz = papi.post(papi.url(parent, "assessment", "/assessments"), "mentor",
                     json={"contentId": "do_leaf_2", "courseId": "do_course_1"}).json
    load_rows(papi.conn, [attempt("u_a", "do_leaf_2", "1", 3), attempt("u_a", "do_leaf_2", "2", 8),  # best 80%
                          attempt("u_b", "do_leaf_2", "1", 5),  # 50%
                          attempt("u_c", "do_leaf_2", "1", 6),  # 60%: not below 60
                          attempt("co_mentor", "do_leaf_2", "1", 0)])  # admins never match
    response = subgroup(papi, parent, {"type": "score_below", "assessmentId": quiz["id"], "percent": 60})
    assert response.status_code == 201, response.json
    made = response.json
    assert made["matched"] == ["u_b"] and made["members"] == ["u_b"] and made["parentGroupId"] == parent
    group = papi.get(f"/v1/groups/{made['groupId']}", "mentor").json
    assert group["parentGroupId"] == parent and group["memberRole"] == "admin"
    with_missing = subgroup(papi, parent, {"type": "score_below", "assessmentId": quiz["id"], "percent": 60,
                                           "includeNotAttempted": True}, name="Also missing")
    assert with_missing.json["matched"] == ["u_b", "u_d"]
    listed = papi.get(papi.url(parent, PLUGIN, "/subgroups"), "mentor").json["subgroups"]
    assert {s["groupId"] for s in listed} == {made["groupId"], with_missing.json["groupId"]}

    sub = made["groupId"]
    material = papi.post(papi.url(sub, PLUGIN, "/materials"), "mentor",
                         json={"title": "Halves again", "contentId": "do_leaf_1", "note": "watch first"})
    assert material.status_code == 201
    papi.post(papi.url(sub, PLUGIN, "/materials"), "mentor",
              json={"title": "Khan video", "url": "https://example.org/halves"})
    seen = papi.get(papi.url(sub, PLUGIN, "/materials"), "u_b").json
    assert sorted(m["title"] for m in seen["materials"]) == ["Halves again", "Khan video"]
    for user in ("u_a", "u_c", "co_mentor"):  # parent members outside the subgroup: as if it did not exist
        response = papi.get(papi.url(sub, PLUGIN, "/materials"), user)
        assert response.status_code == 404 and response.json["error"]["code"] == "group_not_found"
    assert papi.get(papi.url(parent, PLUGIN, "/materials"), "u_a").json["materials"] == []
    assert papi.post(papi.url(sub, PLUGIN, "/materials"), "u_b", json={"title": "x", "url": "https://x.org"}) \
        .status_code == 403
    mid = material.json["id"]
    assert papi.delete(papi.url(sub, PLUGIN, f"/materials/{mid}"), "u_b").status_code == 403
    assert papi.delete(papi.url(sub, PLUGIN, f"/materials/{mid}"), "mentor").status_code == 204
    assert papi.get(papi.url(sub, PLUGIN, "/materials"), "u_b").json["total"] == 1


def test_enrolled_within_days(papi: PluginApi, parent: str) -> None:
    with papi.app.app_context():
        session = db.session()
        session.execute(update(GroupMember).where(GroupMember.group_id == parent)
                        .values(created_on=NOW - timedelta(days=20)))
        session.execute(update(GroupMember).where(GroupMember.group_id == parent, GroupMember.user_id == "u_c")
                        .values(created_on=NOW - timedelta(days=2)))
        session.commit()
    made = subgroup(papi, parent, {"type": "enrolled_within_days", "days": 7}).json
    assert made["matched"] == ["u_c"]


def test_inactive_days(papi: PluginApi, parent: str) -> None:
    now_ms = int(NOW.timestamp() * 1000)
    record_state(papi.conn, [E("u_a", "b_1", "do_course_1", now_ms - 2 * DAY, {}),
                             E("u_b", "b_1", "do_course_1", now_ms - 10 * DAY, {}),
                             E("u_c", "b_1", "other", now_ms - DAY, {})])
    made = subgroup(papi, parent, {"type": "inactive_days", "days": 7}).json
    assert made["matched"] == ["u_b", "u_d"]  # u_d never did anything
    in_course = subgroup(papi, parent, {"type": "inactive_days", "days": 7, "courseIds": ["do_course_1"]},
                         name="Idle in Fractions").json
    assert in_course["matched"] == ["u_b", "u_c", "u_d"]


def test_rules_go_through_the_group_rules(papi: PluginApi, parent: str) -> None:
    member = subgroup(papi, parent, {"type": "inactive_days", "days": 1}, user="u_a")
    assert member.status_code == 403 and member.json["error"]["code"] == "admin_required"
    outsider = subgroup(papi, parent, {"type": "inactive_days", "days": 1}, user="outsider")
    assert outsider.status_code == 404
    assert papi.get(papi.url(parent, PLUGIN, "/subgroups"), "u_a").status_code == 403
    other = papi.group("mentor", name="Elsewhere")
    papi.link(other, "assessment")
    foreign = papi.post(papi.url(other, "assessment", "/assessments"), "mentor", json={"contentId": "q"}).json
    cross = subgroup(papi, parent, {"type": "score_below", "assessmentId": foreign["id"], "percent": 50})
    assert cross.status_code == 404 and cross.json["error"]["code"] == "assessment_not_found"


def test_limits_apply(papi: PluginApi, parent: str) -> None:
    papi.app.extensions["lpa.settings"] = papi.app.extensions["lpa.settings"].model_copy(
        update={"max_members_per_group": 2})
    response = subgroup(papi, parent, {"type": "inactive_days", "days": 1})
    assert response.status_code == 409 and response.json["error"]["code"] == "limit_exceeded"


@pytest.mark.parametrize("rule, code", [
    ({"type": "score_below", "assessmentId": "a", "percent": 0}, "invalid_input"),
    ({"type": "score_below", "assessmentId": "a", "percent": 101}, "invalid_input"),
    ({"type": "inactive_days", "days": 0}, "invalid_input"),
    ({"type": "enrolled_within_days"}, "invalid_input"),
    ({"type": "lucky"}, "invalid_input"),
    ({"type": "inactive_days", "days": 3, "extra": True}, "invalid_input"),
])
def test_bad_rules_are_422(papi: PluginApi, parent: str, rule: dict, code: str) -> None:
    response = subgroup(papi, parent, rule)
    assert response.status_code == 422 and response.json["error"]["code"] == code


def test_no_match_makes_no_group_and_bad_material_is_422(papi: PluginApi, parent: str) -> None:
    record_state(papi.conn, [E(u, "b_1", "do_course_1", int(NOW.timestamp() * 1000), {})
                             for u in ("u_a", "u_b", "u_c", "u_d")])
    response = subgroup(papi, parent, {"type": "inactive_days", "days": 3})
    assert response.status_code == 422 and response.json["error"]["code"] == "no_matching_learners"
    for body in ({"title": "t"}, {"title": "t", "url": "u", "contentId": "c"}, {"title": "t", "url": "ftp://x/y"},
                 {"title": "t", "url": "javascript:alert(1)"}):
        bad = papi.post(papi.url(parent, PLUGIN, "/materials"), "mentor", json=body)
        assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_input", body
