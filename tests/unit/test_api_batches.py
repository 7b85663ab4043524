"""Batches and programs (contracts.md section 4): REST calls and broker events share one path, keep the batch
group in sync and auto-link the Progress Report (SQLite + PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from ingestion.events import EventRejected, validate_event
from query_api.pipeline_bridge import SqlBatchLookup, SqlCatalogLookup, apply_metadata_event
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api
from tests.fixtures.courses import FRACTIONS, simple_course


@pytest.fixture
def courses(api: Api) -> None:
    for doc in (FRACTIONS, simple_course("do_course_2", {"u": ["l1"]})):
        response = api.put(f"/v1/courses/{doc['identifier']}/hierarchy", "ops", operator=True, json=doc)
        assert response.status_code == 201, response.json


def group_members(api: Api, group_id: str, user: str) -> dict[str, str]:
    response = api.get(f"/v1/groups/{group_id}/members", user)
    assert response.status_code == 200, response.json
    return {m["userId"]: m["role"] for m in response.json["members"]}


def create_batch(api: Api, user: str = "mentor", **fields: Any) -> dict[str, Any]:
    payload = {"batchId": "b_101", "name": "Maths for Class 5", "courseIds": ["do_course_1", "do_course_2"],
               "programId": "prog_9", "mentors": ["mentor"], **fields}
    response = api.post("/v1/batches", user, json=payload)
    assert response.status_code == 201, response.json
    return response.json


def event(eid: str, ets: int, **edata: Any) -> Any:
    return validate_event({"eid": eid, "ets": ets, "mid": f"m-{ets}", "edata": edata})


def test_batch_create_makes_its_group_with_mentors_as_admins_and_the_report_linked(api: Api, courses: None) -> None:
    batch = create_batch(api, mentors=["mentor", "co_mentor"])
    assert batch["groupId"] and batch["createdBy"] == "mentor" and batch["status"] == "active"
    group = api.get(f"/v1/groups/{batch['groupId']}", "mentor").json
    assert group["batchId"] == "b_101" and group["name"] == "Maths for Class 5"
    assert group_members(api, batch["groupId"], "mentor") == {"co_mentor": "admin", "mentor": "admin"}
    links = {p["pluginId"]: p["config"] for p in group["plugins"]}
    assert links == {"progress-report": {"courseIds": ["do_course_1", "do_course_2"], "membersSeeAll": False}}
    assert api.get("/v1/batches/b_101", "anyone").json["groupId"] == batch["groupId"]


def test_enrol_adds_and_unenrol_removes_group_members(api: Api, courses: None) -> None:
    group_id = create_batch(api)["groupId"]
    assert api.put("/v1/batches/b_101/enrolments/u_7", "mentor").json["status"] == "active"
    assert api.put("/v1/batches/b_101/enrolments/u_8", "u_8").status_code == 200  # open batch: self-enrolment
    assert group_members(api, group_id, "u_7") == {"mentor": "admin", "u_7": "member", "u_8": "member"}
    assert api.delete("/v1/batches/b_101/enrolments/u_7", "mentor").status_code == 204
    assert api.delete("/v1/batches/b_101/enrolments/u_8", "u_8").status_code == 204  # self-unenrolment
    assert group_members(api, group_id, "mentor") == {"mentor": "admin"}
    enrolments = api.get("/v1/batches/b_101/enrolments", "mentor").json["enrolments"]
    assert {e["userId"]: e["status"] for e in enrolments} == {"u_7": "inactive", "u_8": "inactive"}


def test_batch_group_membership_is_managed_by_the_batch(api: Api, courses: None) -> None:
    group_id = create_batch(api)["groupId"]
    api.put("/v1/batches/b_101/enrolments/u_7", "mentor")
    for response in (api.post(f"/v1/groups/{group_id}/members", "mentor", json={"members": [{"userId": "x"}]}),
                     api.delete(f"/v1/groups/{group_id}/members/u_7", "mentor"),
                     api.post(f"/v1/groups/{group_id}/leave", "u_7"),
                     api.delete(f"/v1/groups/{group_id}", "mentor")):
        assert response.status_code == 409 and response.json["error"]["code"] == "batch_managed"


def test_mentor_update_syncs_admins_and_course_update_syncs_the_report(api: Api, courses: None) -> None:
    group_id = create_batch(api, mentors=["mentor", "old_mentor"])
    group_id = group_id["groupId"]
    api.put("/v1/batches/b_101/enrolments/old_mentor", "mentor")  # enrolled too: stays as a member
    api.put("/v1/batches/b_101/enrolments/u_7", "mentor")
    response = api.patch("/v1/batches/b_101", "mentor", json={"mentors": ["mentor", "u_7", "new_mentor"],
                                                               "courseIds": ["do_course_2"]})
    assert response.status_code == 200 and response.json["mentors"] == ["mentor", "u_7", "new_mentor"]
    assert group_members(api, group_id, "mentor") == {"mentor": "admin", "new_mentor": "admin",
                                                      "old_mentor": "member", "u_7": "admin"}
    config = api.get(f"/v1/groups/{group_id}/plugins/progress-report", "mentor").json["config"]
    assert config["courseIds"] == ["do_course_2"]
    api.patch("/v1/batches/b_101", "mentor", json={"mentors": ["mentor"]})
    assert group_members(api, group_id, "mentor") == {"mentor": "admin", "old_mentor": "member", "u_7": "member"}


def test_who_may_manage_a_batch(api: Api, courses: None) -> None:
    create_batch(api, enrollmentType="invite-only")
    for response in (api.patch("/v1/batches/b_101", "u_7", json={"name": "mine"}),
                     api.post("/v1/batches/b_101/close", "u_7"),
                     api.put("/v1/batches/b_101/enrolments/u_7", "u_7"),  # not an open batch
                     api.put("/v1/batches/b_101/enrolments/u_8", "u_7"),
                     api.get("/v1/batches/b_101/enrolments", "u_7"),
                     api.post("/v1/batches", "u_7", json={"batchId": "b_2", "courseIds": ["do_course_1"],
                                                          "createdBy": "someone_else"})):
        assert response.status_code == 403, response.json
    assert api.patch("/v1/batches/b_101", "ops", operator=True, json={"name": "by ops"}).json["name"] == "by ops"
    closed = api.post("/v1/batches/b_101/close", "mentor").json
    assert closed["status"] == "closed" and closed["closedOn"]
    response = api.put("/v1/batches/b_101/enrolments/u_9", "mentor")
    assert response.status_code == 409 and response.json["error"]["code"] == "batch_closed"


def test_batch_input_errors(api: Api, courses: None) -> None:
    unknown = api.post("/v1/batches", "mentor", json={"batchId": "b_x", "courseIds": ["do_nope"]})
    assert unknown.status_code == 422 and unknown.json["error"]["details"]["unknownCourseIds"] == ["do_nope"]
    for payload in ({"batchId": "b_x", "courseIds": []}, {"batchId": "b_x"},
                    {"batchId": "b_x", "courseIds": ["do_course_1", "do_course_1"]},
                    {"batchId": "b_x", "courseIds": ["do_course_1"], "enrollmentType": "closed"}):
        assert api.post("/v1/batches", "mentor", json=payload).status_code == 422, payload
    create_batch(api)
    assert api.post("/v1/batches", "mentor", json={"batchId": "b_101", "courseIds": ["do_course_1"]}).status_code == 409
    assert api.get("/v1/batches/b_missing", "mentor").status_code == 404
    assert api.patch("/v1/batches/b_101", "mentor", json={}).status_code == 422


def test_program_lists_its_batches_and_courses(api: Api, courses: None) -> None:
    create_batch(api, courseIds=["do_course_2", "do_course_1"])
    create_batch(api, batchId="b_102", courseIds=["do_course_1"])
    program = api.get("/v1/programs/prog_9", "u_1").json
    assert program["courseIds"] == ["do_course_2", "do_course_1"]
    assert [b["batchId"] for b in program["batches"]] == ["b_101", "b_102"]
    assert all(b["groupId"] for b in program["batches"])
    assert api.get("/v1/programs/nope", "u_1").status_code == 404


def test_broker_events_take_the_same_path_and_replays_are_harmless(app: Flask, api: Api, courses: None) -> None:
    factory = app.extensions["lpa.db"].session_factory
    create = event("LPA_BATCH", 1000, action="create", batchId="b_9", courseIds=["do_course_1"], programId="p",
                   mentors=["m1"], createdBy="m1", name="Evening")
    assert apply_metadata_event(factory, create) is True
    assert apply_metadata_event(factory, create) is False  # redelivery
    assert apply_metadata_event(factory, event("LPA_ENROLMENT", 2000, action="enrol", batchId="b_9", userId="u1"))
    assert apply_metadata_event(factory, event("LPA_ENROLMENT", 3000, action="unenrol", batchId="b_9", userId="u1"))
    # an old enrol replayed after the unenrol changes nothing
    assert not apply_metadata_event(factory, event("LPA_ENROLMENT", 2000, action="enrol", batchId="b_9",
                                                   userId="u1"))
    assert apply_metadata_event(factory, event("LPA_BATCH", 4000, action="update", batchId="b_9", mentors=["m2"]))
    assert not apply_metadata_event(factory, create)  # an old create replayed does not undo the update
    group_id = api.get("/v1/batches/b_9", "m2").json["groupId"]
    assert group_members(api, group_id, "m2") == {"m2": "admin"}
    with pytest.raises(EventRejected) as rejected:
        apply_metadata_event(factory, event("LPA_ENROLMENT", 5000, action="enrol", batchId="b_none", userId="u1"))
    assert rejected.value.reason == "unknown_batch"
    content = validate_event({"eid": "BE_JOB_REQUEST", "ets": 1, "mid": "x", "edata": {
        "action": "batch-enrolment-update", "batchId": "b_9", "userId": "u1", "courseId": "do_course_1",
        "contents": []}})
    assert apply_metadata_event(factory, content) is False


def test_lookups_see_new_batches_at_once_and_republished_courses_after_refresh(app: Flask, api: Api,
                                                                              courses: None) -> None:
    factory = app.extensions["lpa.db"].session_factory
    batches, catalog = SqlBatchLookup(factory), SqlCatalogLookup(factory)
    assert not batches.exists("b_9")
    apply_metadata_event(factory, event("LPA_BATCH", 1, action="create", batchId="b_9", courseIds=["do_course_1"],
                                        programId="p1"))
    assert batches.exists("b_9") and batches.program_id("b_9") == "p1"
    apply_metadata_event(factory, event("LPA_BATCH", 2, action="update", batchId="b_9", programId="p2"))
    assert batches.program_id("b_9") == "p2"  # updated in the cache by apply_metadata_event
    api.patch("/v1/batches/b_9", "ops", operator=True, json={"programId": "p3"})  # a change made elsewhere
    batches.refresh()
    assert batches.program_id("b_9") == "p3"

    assert catalog.course("do_course_1").leaf_count == 2  # type: ignore[union-attr]
    assert catalog.course("do_missing") is None
    republished = simple_course("do_course_1", {"u1": ["a", "b", "c"]})
    assert api.put("/v1/courses/do_course_1/hierarchy", "ops", operator=True, json=republished).status_code == 200
    catalog.refresh()
    assert catalog.course("do_course_1").leaf_count == 3  # type: ignore[union-attr]
    late = simple_course("do_late", {"u": ["x"]})
    api.put("/v1/courses/do_late/hierarchy", "ops", operator=True, json=late)
    assert catalog.course("do_late") is not None  # a miss asks the database
