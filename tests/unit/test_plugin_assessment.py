"""Assessment release: to a group or a private batch only, visible to that group's members only, validated
against the catalog, and announced in the activity stream."""

from __future__ import annotations

import pytest

from tests.api_fixtures import *  # noqa: F403
from tests.fixtures.courses import FRACTIONS
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import PluginApi


@pytest.fixture
def group(papi: PluginApi) -> str:
    papi.course(FRACTIONS)
    group_id = papi.group("mentor", members=[{"userId": "u_a"}, {"userId": "u_b"}])
    papi.link(group_id, "assessment")
    return group_id


def release(papi: PluginApi, group: str, user: str = "mentor", **fields: object) -> object:
    return papi.post(papi.url(group, "assessment", "/assessments"), user,
                     json={"contentId": "do_leaf_2", "courseId": "do_course_1", **fields})


def test_a_mentor_releases_and_members_see_it(papi: PluginApi, group: str) -> None:
    response = release(papi, group, title="Quiz 1", dueOn="2030-01-01T00:00:00Z")
    assert response.status_code == 201, response.json
    created = response.json
    assert (created["contentId"], created["courseId"], created["title"], created["standalone"]) == \
        ("do_leaf_2", "do_course_1", "Quiz 1", False)
    standalone = release(papi, group, contentId="do_standalone_9", courseId=None).json
    assert standalone["standalone"] is True and standalone["title"] == "do_standalone_9"
    listed = papi.get(papi.url(group, "assessment", "/assessments"), "u_a").json
    assert [a["id"] for a in listed["assessments"]] == [standalone["id"], created["id"]] and listed["total"] == 2
    one = papi.get(papi.url(group, "assessment", f"/assessments/{created['id']}"), "u_b")
    assert one.status_code == 200 and one.json["dueOn"] == "2030-01-01T00:00:00.000Z"


def test_members_of_other_groups_do_not_see_it(papi: PluginApi, group: str) -> None:
    created = release(papi, group).json
    other = papi.group("mentor2", name="Other", members=[{"userId": "u_c"}, {"userId": "u_a"}])
    papi.link(other, "assessment", user="mentor2")
    assert papi.get(papi.url(other, "assessment", "/assessments"), "u_c").json["assessments"] == []
    for user in ("u_c", "mentor2", "u_a"):  # via the other group: not found, even for a member of both
        response = papi.get(papi.url(other, "assessment", f"/assessments/{created['id']}"), user)
        assert response.status_code == 404 and response.json["error"]["code"] == "assessment_not_found"
    outsider = papi.get(papi.url(group, "assessment", f"/assessments/{created['id']}"), "u_c")
    assert outsider.status_code == 404 and outsider.json["error"]["code"] == "group_not_found"
    assert papi.delete(papi.url(other, "assessment", f"/assessments/{created['id']}"), "mentor2").status_code == 404


def test_only_admins_release_and_withdraw(papi: PluginApi, group: str) -> None:
    assert release(papi, group, user="u_a").status_code == 403
    created = release(papi, group).json
    item = papi.url(group, "assessment", f"/assessments/{created['id']}")
    assert papi.delete(item, "u_a").status_code == 403
    assert papi.delete(item, "mentor").status_code == 204
    assert papi.get(item, "u_a").status_code == 404
    assert release(papi, group).status_code == 201  # a withdrawn assessment can be released again


def test_private_batch_yes_open_batch_no(papi: PluginApi) -> None:
    papi.course(FRACTIONS)
    for batch_id, kind in (("b_private", "invite-only"), ("b_open", "open")):
        response = papi.post("/v1/batches", "ops", operator=True, json={
            "batchId": batch_id, "courseIds": ["do_course_1"], "enrollmentType": kind, "mentors": ["mentor"]})
        assert response.status_code == 201, response.json
    private_group = papi.get("/v1/batches/b_private", "mentor").json["groupId"]
    open_group = papi.get("/v1/batches/b_open", "mentor").json["groupId"]
    for group_id in (private_group, open_group):
        papi.link(group_id, "assessment")
    assert release(papi, private_group).status_code == 201
    refused = release(papi, open_group)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "open_batch"


@pytest.mark.parametrize("fields, status, code", [
    ({"courseId": "do_missing"}, 422, "unknown_course"),
    ({"contentId": "do_unit_1"}, 422, "content_not_in_course"),  # a unit, not a content
    ({"contentId": "do_nope"}, 422, "content_not_in_course"),
    ({"contentId": ""}, 422, "invalid_input"),
    ({"dueOn": "tomorrow"}, 422, "invalid_input"),
    ({"points": 3}, 422, "invalid_input"),
])
def test_bad_releases_are_422(papi: PluginApi, group: str, fields: dict, status: int, code: str) -> None:
    response = release(papi, group, **fields)
    assert response.status_code == status and response.json["error"]["code"] == code


def test_duplicates_and_the_standalone_switch(papi: PluginApi, group: str) -> None:
    assert release(papi, group).status_code == 201
    again = release(papi, group)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_released"
    papi.link(group, "assessment", {"allowStandalone": False})
    response = release(papi, group, contentId="x", courseId=None)
    assert response.status_code == 422 and response.json["error"]["code"] == "course_required"


def test_release_writes_an_activity_stream_entry(papi: PluginApi, group: str) -> None:
    papi.link(group, "activity-stream", {"courseIds": []})
    created = release(papi, group, title="Quiz 1").json
    entries = papi.get(papi.url(group, "activity-stream", "/entries"), "u_a").json["entries"]
    assert [(e["kind"], e["data"]["assessmentId"], e["createdBy"]) for e in entries] == \
        [("assessment_released", created["id"], "mentor")]
