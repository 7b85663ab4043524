"""lms-service's group activity aggregate (docs/sunbird.md): the same numbers as the Progress Report on the same
data (completed non-optional leaves of the current hierarchy, best batch, lastActivity), best scores,
enrolmentCount from enrolments, the lms dialect and its error codes (SQLite and PostgreSQL metadata, real
DuckDB analytics store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from query_api.auth import issue_token
from query_api.store.base import StoreTimeout
from tests.api_fixtures import *  # noqa: F403
from tests.fixtures.courses import FRACTIONS
from tests.fixtures.progress_state import StateEvent as E
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import DAY, T0, PluginApi, attempt, load_rows, record_state

AGG = "/api/data/v1/group/activity/agg"


def agg(papi: PluginApi, user: str, path: str = AGG, **request: Any) -> Any:
    headers = {"Authorization": "Bearer gateway", "X-Authenticated-User-Token": issue_token(
        papi.app.extensions["lpa.settings"], user)}
    return papi.client.post(path, json={"request": request}, headers=headers)


def lms_failed(response: Any, code: str, status: int = 400) -> None:
    body = response.json
    assert response.status_code == status, body
    assert body["id"] == "api.group.activity.agg" and body["params"]["err"] == code
    assert body["params"]["status"] == code and body["params"]["errmsg"]
    assert body["responseCode"] == {400: "CLIENT_ERROR", 401: "UNAUTHORIZED", 503: "SERVICE_UNAVAILABLE"}[status]


@pytest.fixture
def batch_group(papi: PluginApi) -> str:
    """Fractions in batch b_1 (mentor), learners u_a, u_b, u_c enrolled; u_d a member who never enrolled."""
    papi.course(FRACTIONS)
    batch = papi.post("/v1/batches", "mentor", json={"batchId": "b_1", "name": "Maths", "courseIds": ["do_course_1"],
                                                     "mentors": ["mentor"]}).json
    for user in ("u_a", "u_b", "u_c"):
        assert papi.put(f"/v1/batches/b_1/enrolments/{user}", "mentor").status_code == 200
    record_state(papi.conn, [
        E("u_a", "b_1", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_3": 2}),  # leaf 3 is optional
        E("u_a", "b_2", "do_course_1", T0 + DAY, {"do_leaf_1": 2, "do_leaf_2": 2}),  # best batch: b_2 (2 leaves)
        E("u_a", "b_3", "do_course_1", T0 + 2 * DAY, {}),  # latest activity, no completion
        E("u_b", "b_1", "do_course_1", T0 + 5, {"do_leaf_2": 1}),
        E("u_x", "b_1", "do_course_1", T0, {"do_leaf_1": 2}),  # not a member
    ])
    load_rows(papi.conn, [attempt("u_a", "do_leaf_2", "att-1", 4.0, ets=T0 + 10, batch="b_1"),
                          attempt("u_a", "do_leaf_2", "att-2", 9.0, ets=T0 + 20, batch="b_2"),
                          attempt("u_a", "do_leaf_2", "att-3", 6.0, ets=T0 + 30, batch="b_2"),
                          attempt("u_b", "do_leaf_2", "att-4", 3.5, ets=T0 + 40)])
    return batch["groupId"]


def test_aggregate_numbers_are_the_progress_reports(papi: PluginApi, batch_group: str) -> None:
    response = agg(papi, "mentor", groupId=batch_group, activityId="do_course_1", activityType="Course")
    body = response.json
    assert response.status_code == 200, body
    assert (body["id"], body["ver"], body["responseCode"]) == ("api.group.activity.agg", "v1", "OK")
    assert body["params"]["status"] == "success" and body["params"]["err"] is None
    result = body["result"]
    assert result["groupId"] == batch_group
    assert result["activity"]["id"] == "do_course_1" and result["activity"]["type"] == "Course"
    [enrolment] = result["activity"]["agg"]
    assert enrolment["metric"] == "enrolmentCount" and enrolment["value"] == 3

    report = papi.get(f"/v1/groups/{batch_group}/plugins/progress-report/report", "mentor").json
    expected = {}
    for member in report["members"]:
        [course] = member["courses"]
        if course["batchId"] is not None:  # only members with progress rows are listed
            expected[member["userId"]] = (course["completed"], course["lastActivity"])
    got = {}
    for member in result["members"]:
        completed = member["agg"][0]
        assert completed["metric"] == "completedCount"
        stamp = datetime.fromtimestamp(completed["lastUpdatedOn"] / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        got[member["userId"]] = (completed["value"], stamp)
        assert set(member) == {"name", "userId", "role", "status", "createdBy", "agg"}
    assert got == expected == {"u_a": (2, "2024-11-27T02:00:00Z"), "u_b": (0, "2024-11-25T02:00:00Z")}

    scores = {m["userId"]: m["agg"][1:] for m in result["members"]}
    assert scores == {"u_a": [{"metric": "score:do_leaf_2", "value": 9.0, "lastUpdatedOn": T0 + 20}],
                      "u_b": [{"metric": "score:do_leaf_2", "value": 3.5, "lastUpdatedOn": T0 + 40}]}


def test_service_path_answers_the_same(papi: PluginApi, batch_group: str) -> None:
    public = agg(papi, "mentor", groupId=batch_group, activityId="do_course_1", activityType="Course").json
    service = agg(papi, "mentor", "/v1/group/activity/agg", groupId=batch_group, activityId="do_course_1",
                  activityType="Course").json
    assert public["result"]["members"] == service["result"]["members"]


def test_a_republish_changes_the_aggregate_like_the_report(papi: PluginApi, batch_group: str) -> None:
    republished = {**FRACTIONS, "relationalMetadata": {}}  # unit 2 no longer optional: leaf 3 counts now
    papi.course(republished)
    result = agg(papi, "mentor", groupId=batch_group, activityId="do_course_1", activityType="Course").json["result"]
    report = papi.get(f"/v1/groups/{batch_group}/plugins/progress-report/report", "mentor").json
    completed = {m["userId"]: m["courses"][0]["completed"] for m in report["members"]}
    assert {m["userId"]: m["agg"][0]["value"] for m in result["members"]} == {"u_a": completed["u_a"], "u_b": 0}


def test_other_activity_types_and_unknown_courses_have_no_members(papi: PluginApi, batch_group: str) -> None:
    for activity_id, activity_type in (("do_course_1", "Resource"), ("do_other", "Course")):
        result = agg(papi, "mentor", groupId=batch_group, activityId=activity_id,
                     activityType=activity_type).json["result"]
        assert result["members"] == [] and result["activity"]["agg"][0]["value"] == 0


@pytest.mark.parametrize(("request_body", "code"), [
    ({"activityId": "do_course_1", "activityType": "Course"}, "GROUP_ID_MISSING"),
    ({"groupId": " ", "activityId": "do_course_1", "activityType": "Course"}, "GROUP_ID_MISSING"),
    ({"groupId": "g", "activityType": "Course"}, "ACTIVITY_ID_MISSING"),
    ({"groupId": "g", "activityId": 5, "activityType": "Course"}, "ACTIVITY_ID_MISSING"),
    ({"groupId": "g", "activityId": "do_course_1"}, "ACTIVITY_TYPE_MISSING"),
])
def test_missing_fields_get_lms_codes(papi: PluginApi, request_body: dict[str, Any], code: str) -> None:
    lms_failed(agg(papi, "mentor", **request_body), code)


def test_non_members_and_missing_tokens(papi: PluginApi, batch_group: str) -> None:
    lms_failed(agg(papi, "u_x", groupId=batch_group, activityId="do_course_1", activityType="Course"), "SERVER_ERROR")
    lms_failed(papi.client.post(AGG, json={"request": {"groupId": batch_group, "activityId": "do_course_1",
                                                       "activityType": "Course"}}), "UNAUTHORIZED_USER", 401)


def test_a_store_that_cannot_answer_is_a_503(papi: PluginApi, batch_group: str) -> None:
    class Down:
        def progress_rows(self, *args: Any) -> Any:
            raise StoreTimeout("slow")

    papi.app.extensions["lpa.analytics"] = Down()
    lms_failed(agg(papi, "mentor", groupId=batch_group, activityId="do_course_1", activityType="Course"),
               "SERVICE_UNAVAILABLE", 503)
