"""groups-service compatibility (docs/sunbird.md): request validation with the exact codes and messages, both
paths of every call, the groups-service dialect, partial success on limits, X-Authenticated-User-Token, and
the groups being the very groups of /v1/groups (SQLite and PostgreSQL metadata)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from lpa.settings import Settings
from query_api.auth import issue_token
from query_api.sunbird.errors import MESSAGES_FILE, message
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api
from tests.fixtures.courses import FRACTIONS

PEER_MESSAGES = Path(__file__).resolve().parents[3] / "shared/peers/sunbird-groups-service/error_messages.json"
TS = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}\+0000$")


class Sb:
    """Calls on the gateway paths (`/api/group/v1/...`) or the service paths (`/v1/group/...`)."""

    def __init__(self, client: FlaskClient, settings: Settings, service: bool = False) -> None:
        self.client, self.settings, self.service = client, settings, service

    def headers(self, user: str | None) -> dict[str, str]:
        headers = {"Authorization": "Bearer the-gateway-key"}  # always there, always ignored
        if user is not None:
            headers["X-Authenticated-User-Token"] = issue_token(self.settings, f"f:tenant:{user}")
        return headers

    def path(self, call: str) -> str:
        if call == "membership":
            return "/v1/group/membership/update" if self.service else "/api/group/membership/v1/update"
        return f"/v1/group/{call}" if self.service else f"/api/group/v1/{call}"

    def send(self, method: str, call: str, user: str | None, request: Any = None, raw: Any = None) -> Any:
        body = raw if raw is not None else {"request": request if request is not None else {}}
        return self.client.open(self.path(call), method=method, json=body, headers=self.headers(user))

    def create(self, user: str, **request: Any) -> Any:
        return self.send("POST", "create", user, {"name": "Maths circle", **request})

    def group(self, user: str, **request: Any) -> str:
        response = self.create(user, **request)
        assert response.status_code == 200, response.json
        return response.json["result"]["groupId"]

    def update(self, user: str, **request: Any) -> Any:
        return self.send("PATCH", "update", user, request)

    def read(self, user: str, group_id: str, fields: str | None = None) -> Any:
        query = f"?fields={fields}" if fields is not None else ""
        return self.client.get(f"{self.path('read')}/{group_id}{query}", headers=self.headers(user))

    def list(self, user: str, filters: Any = None) -> Any:
        return self.send("POST", "list", user, {"filters": {"userId": user} if filters is None else filters})

    def delete(self, user: str, group_id: str) -> Any:
        return self.send("POST", "delete", user, {"groupId": group_id})

    def visit(self, user: str, groups: list[dict[str, Any]], user_id: str | None = None) -> Any:
        return self.send("PATCH", "membership", user, {"userId": user_id or user, "groups": groups})


@pytest.fixture(params=["gateway", "service"])
def sb(client: FlaskClient, settings: Settings, request: pytest.FixtureRequest) -> Sb:
    return Sb(client, settings, service=request.param == "service")


def failed(response: Any, code: str, status: int = 400, *args: object) -> None:
    """A groups-service error: status, code, exact message, and the error envelope."""
    body = response.json
    assert response.status_code == status, body
    assert response.headers["Content-Type"] == "application/json"
    assert body["ver"] is None and body["responseCode"] == status and TS.match(body["ts"])
    assert body["params"] == {"resmsgid": None, "msgid": None, "err": code, "status": "failed",
                              "errmsg": message(code, *args)}


def ok(response: Any, api_id: str) -> dict[str, Any]:
    body = response.json
    assert response.status_code == 200, body
    assert response.headers["Content-Type"] == "application/json"
    assert set(body) == {"id", "ver", "ts", "params", "result", "responseCode"}
    assert (body["id"], body["ver"], body["params"], body["responseCode"]) == (api_id, "v1", None, 200)
    assert TS.match(body["ts"])
    return body["result"]


def test_messages_are_groups_service_exact_table() -> None:
    table = json.loads(MESSAGES_FILE.read_text())
    if PEER_MESSAGES.exists():  # the package's copy must not drift from the peer's file
        assert table == json.loads(PEER_MESSAGES.read_text())
    assert message("GS_CRT05", 5) == "Failed to add member, group, exceeded number of permissible members of 5."
    assert message("GS_UNAUTHORIZED") == table["UNAUTHORIZED"]


def test_create_read_list_update_delete_round_trip(sb: Sb, api: Api) -> None:
    result = ok(sb.create("alice", description="Fractions", membershipType="moderated",
                          members=[{"userId": "bob", "role": "member", "status": "active"}],
                          activities=[{"id": "do_x", "type": "Course"}]), "api.group.create")
    assert set(result) == {"groupId"}
    group_id = result["groupId"]
    # the same group through the project's own API
    mine = api.get(f"/v1/groups/{group_id}", "alice").json
    assert (mine["name"], mine["membershipType"], mine["memberRole"]) == ("Maths circle", "moderated", "admin")
    assert {m["userId"]: m["role"] for m in mine["members"]} == {"alice": "admin", "bob": "member"}

    read = ok(sb.read("bob", group_id, "members,activities"), "api.group.read")
    assert (read["id"], read["description"], read["status"], read["createdBy"]) == \
        (group_id, "Fractions", "active", "alice")
    assert TS.match(read["createdOn"])
    assert [(m["userId"], m["role"], m["name"], m["visited"]) for m in read["members"]] == \
        [("alice", "admin", "alice", False), ("bob", "member", "bob", False)]
    assert set(read["members"][0]) == {"userId", "groupId", "role", "status", "createdOn", "createdBy", "updatedOn",
                                       "updatedBy", "removedOn", "removedBy", "visited", "name"}
    assert read["activities"] == [{"id": "do_x", "type": "Course"}]  # not in the catalog: no activityInfo
    assert "members" not in ok(sb.read("bob", group_id), "api.group.read")
    assert "activities" not in ok(sb.read("bob", group_id, "members"), "api.group.read")

    listed = ok(sb.list("bob"), "api.group.list")["group"]
    assert [(g["id"], g["memberRole"], g["visited"]) for g in listed] == [(group_id, "member", False)]
    assert set(listed[0]) == {"id", "name", "description", "status", "membershipType", "createdOn", "createdBy",
                              "memberRole", "visited"}

    assert ok(sb.update("alice", groupId=group_id, name="Renamed", description="New"), "api.group.update") == \
        {"response": "success"}
    assert api.get(f"/v1/groups/{group_id}", "alice").json["name"] == "Renamed"
    assert ok(sb.delete("alice", group_id), "api.group.delete") == {"response": "SUCCESS"}
    assert api.get(f"/v1/groups/{group_id}", "alice").status_code == 404
    failed(sb.read("alice", group_id), "GS_RED07")


def test_list_puts_admin_groups_first_and_shows_visited(sb: Sb) -> None:
    as_member = sb.group("bob", name="A", members=[{"userId": "alice"}])
    as_admin = sb.group("alice", name="Z")
    assert ok(sb.visit("alice", [{"groupId": as_member, "visited": True}]), "api.group.membership.update") == \
        {"response": "SUCCESS"}
    listed = ok(sb.list("alice"), "api.group.list")["group"]
    assert [(g["id"], g["memberRole"], g["visited"]) for g in listed] == \
        [(as_admin, "admin", False), (as_member, "member", True)]
    ok(sb.visit("alice", [{"groupId": as_member, "visited": False}, {"groupId": "not-mine", "visited": True}]),
       "api.group.membership.update")
    assert [g["visited"] for g in ok(sb.list("alice"), "api.group.list")["group"]] == [False, False]


@pytest.mark.parametrize(("call", "method", "request_body", "code"), [
    ("create", "POST", {"description": "no name"}, "GS_CRT02"),
    ("create", "POST", {"name": "   "}, "GS_CRT02"),
    ("create", "POST", {"name": "x", "membershipType": "open"}, "GS_CRT02"),
    ("create", "POST", {"name": "x", "members": [{"userId": "b", "role": "owner"}]}, "GS_CRT02"),
    ("create", "POST", {"name": "x", "activities": [{"id": "do_1"}]}, "GS_CRT02"),
    ("create", "POST", {"name": 7}, "GS_CRT02"),
    ("update", "PATCH", {"name": "no id"}, "GS_UDT02"),
    ("update", "PATCH", {"groupId": "g", "status": "closed"}, "GS_UDT02"),
    ("list", "POST", {"filters": {}}, "GS_LST02"),
    ("list", "POST", {}, "GS_LST02"),
    ("delete", "POST", {}, "GS_DLT02"),
    ("membership", "PATCH", {"groups": [{"groupId": "g", "visited": True}]}, "GS_MBRSHP_UDT02"),
    ("membership", "PATCH", {"userId": "alice", "groups": []}, "GS_MBRSHP_UDT02"),
    ("membership", "PATCH", {"userId": "alice", "groups": [{"groupId": "g"}]}, "GS_MBRSHP_UDT02"),
    ("membership", "PATCH", {"userId": "alice", "groups": [{"groupId": "g", "visited": "yes"}]}, "GS_MBRSHP_UDT02"),
])
def test_invalid_requests_get_the_calls_02_code(sb: Sb, call: str, method: str, request_body: dict[str, Any],
                                                code: str) -> None:
    failed(sb.send(method, call, "alice", request_body), code)


@pytest.mark.parametrize("raw", [[], "text", {"name": "not wrapped"}, {"request": "x"}])
def test_bodies_that_are_not_a_request_object_are_invalid(sb: Sb, raw: Any) -> None:
    failed(sb.send("POST", "create", "alice", raw=raw), "GS_CRT02")
    failed(sb.send("POST", "list", "alice", raw=raw), "GS_LST02")


def test_the_user_token_header_is_required_and_verified(sb: Sb, settings: Settings) -> None:
    failed(sb.send("POST", "create", None, {"name": "x"}), "GS_UNAUTHORIZED", 401)
    forged = sb.client.post(sb.path("create"), json={"request": {"name": "x"}},
                            headers={"X-Authenticated-User-Token": issue_token(
                                settings.model_copy(update={"jwt_secret": "another-key-0123456789abcdef0123"}), "a")})
    failed(forged, "GS_UNAUTHORIZED", 401)
    expired = issue_token(settings, "alice", ttl_s=1)
    claims = jwt.decode(expired, options={"verify_signature": False})
    stale = jwt.encode({**claims, "exp": claims["iat"] - 10}, settings.signing_key, algorithm="HS256")
    failed(sb.client.post(sb.path("list"), json={"request": {"filters": {"userId": "alice"}}},
                          headers={"X-Authenticated-User-Token": stale}), "GS_UNAUTHORIZED", 401)
    # a project bearer token alone is the gateway's key here: not a user
    bearer_only = {"Authorization": f"Bearer {issue_token(settings, 'alice')}"}
    failed(sb.client.post(sb.path("create"), json={"request": {"name": "x"}}, headers=bearer_only),
           "GS_UNAUTHORIZED", 401)


def test_callers_rules_give_the_401_codes(sb: Sb) -> None:
    group_id = sb.group("alice", members=[{"userId": "bob"}, {"userId": "carol", "role": "admin"}])
    failed(sb.update("bob", groupId=group_id, name="mine now"), "GS_UDT09", 401)
    failed(sb.delete("carol", group_id), "GS_DLT10", 401)  # an admin, but not the creator
    failed(sb.visit("bob", [{"groupId": group_id, "visited": True}], user_id="alice"), "GS_MBRSHP_UDT01", 401)
    failed(sb.visit("bob", [{"groupId": group_id, "visited": True, "role": "admin"}]), "GS_MBRSHP_UDT01", 401)
    failed(sb.list("bob", {"userId": "alice"}), "GS_LST01", 401)
    # leaving is the one update a plain member may send
    ok(sb.update("bob", groupId=group_id, members={"remove": ["bob"]}), "api.group.update")
    failed(sb.read("bob", group_id), "GS_RED07")  # no longer a member: as if it did not exist


def test_missing_groups_and_suspended_groups(sb: Sb) -> None:
    for call in (lambda: sb.update("alice", groupId="nope", name="x"), lambda: sb.read("alice", "nope"),
                 lambda: sb.delete("alice", "nope")):
        response = call()
        assert response.status_code == 400
    failed(sb.update("alice", groupId="nope", name="x"), "GS_UDT07")
    failed(sb.read("alice", "nope"), "GS_RED07")
    failed(sb.delete("alice", "nope"), "GS_DLT07")
    group_id = sb.group("alice")
    ok(sb.update("alice", groupId=group_id, status="suspended"), "api.group.update")
    failed(sb.update("alice", groupId=group_id, name="x"), "GS_UDT08")
    ok(sb.update("alice", groupId=group_id, status="active", name="Back"), "api.group.update")
    assert ok(sb.read("alice", group_id), "api.group.read")["name"] == "Back"
    ok(sb.update("alice", groupId=group_id, status="inactive"), "api.group.update")  # inactive = delete
    failed(sb.read("alice", group_id), "GS_RED07")


def test_too_many_groups_refuses_the_create(sb: Sb, settings: Settings) -> None:
    for n in range(settings.max_groups_per_user):
        sb.group("alice", name=f"G{n}")
    failed(sb.create("alice"), "GS_CRT04", 400, settings.max_groups_per_user)


def test_member_and_activity_limits_give_partial_success_on_create(sb: Sb, settings: Settings, app: Any) -> None:
    app.config["SUNBIRD_MAX_ACTIVITIES_PER_GROUP"] = 2
    limit = settings.max_members_per_group
    too_many = [{"userId": f"u{n}"} for n in range(limit)]  # + the creator = limit + 1
    result = ok(sb.create("alice", members=too_many, activities=[{"id": f"do_{n}", "type": "Course"}
                                                                 for n in range(3)]), "api.group.create")
    assert result["error"] == {
        "members": [{"errorCode": "GS_CRT05", "errorMessage": message("GS_CRT05", limit)}],
        "activities": [{"errorCode": "GS_CRT06", "errorMessage": message("GS_CRT06", 2)}]}
    read = ok(sb.read("alice", result["groupId"], "members,activities"), "api.group.read")
    assert [m["userId"] for m in read["members"]] == ["alice"] and read["activities"] == []


def test_update_lists_what_it_could_not_do_and_does_the_rest(sb: Sb, settings: Settings, app: Any) -> None:
    app.config["SUNBIRD_MAX_ACTIVITIES_PER_GROUP"] = 2
    group_id = sb.group("alice", members=[{"userId": "bob"}], activities=[{"id": "do_1", "type": "Course"}])
    result = ok(sb.update("alice", groupId=group_id, name="Renamed",
                          members={"add": [{"userId": "bob"}, {"userId": "carol"}],
                                   "edit": [{"userId": "bob", "role": "admin"}, {"userId": "ghost", "role": "admin"}],
                                   "remove": ["nobody"]},
                          activities={"add": [{"id": "do_2", "type": "Course"}], "remove": ["do_1"]}),
                "api.group.update")
    assert result == {"response": "success", "error": {"members": [
        {"userId": "bob", "errorCode": "MEMBER_EXISTS", "errorMessage": message("MEMBER_EXISTS")},
        {"userId": "ghost", "errorCode": "MEMBER_NOT_FOUND", "errorMessage": message("MEMBER_NOT_FOUND")},
        {"userId": "nobody", "errorCode": "MEMBER_NOT_FOUND", "errorMessage": message("MEMBER_NOT_FOUND")}],
        "activities": []}}
    read = ok(sb.read("alice", group_id, "members,activities"), "api.group.read")
    assert read["name"] == "Renamed"
    assert {m["userId"]: m["role"] for m in read["members"]} == {"alice": "admin", "bob": "admin", "carol": "member"}
    assert [a["id"] for a in read["activities"]] == ["do_2"]

    over = [{"userId": f"n{n}"} for n in range(settings.max_members_per_group)]
    result = ok(sb.update("alice", groupId=group_id, members={"add": over},
                          activities={"add": [{"id": "do_3", "type": "Course"}, {"id": "do_4", "type": "Course"}]}),
                "api.group.update")
    assert result["error"] == {
        "members": [{"errorCode": "GS_UDT05", "errorMessage": message("GS_UDT05", settings.max_members_per_group)}],
        "activities": [{"errorCode": "GS_UDT06", "errorMessage": message("GS_UDT06", 2)}]}
    read = ok(sb.read("alice", group_id, "members,activities"), "api.group.read")
    assert len(read["members"]) == 3 and [a["id"] for a in read["activities"]] == ["do_2"]


def test_a_members_own_group_limit_is_listed_per_member(sb: Sb, settings: Settings) -> None:
    for n in range(settings.max_groups_per_user):
        sb.group("busy", name=f"B{n}")
    result = ok(sb.create("alice", members=[{"userId": "busy"}, {"userId": "free"}]), "api.group.create")
    assert result["error"]["members"] == [{"userId": "busy", "errorCode": "GS_CRT04",
                                           "errorMessage": message("GS_CRT04", settings.max_groups_per_user)}]


def test_batch_groups_and_plugin_courses_show_as_activities_with_catalog_info(sb: Sb, api: Api) -> None:
    assert api.put("/v1/courses/do_course_1/hierarchy", "ops", operator=True, json=FRACTIONS).status_code == 201
    batch = api.post("/v1/batches", "mentor", json={"batchId": "b_1", "name": "Maths", "courseIds": ["do_course_1"],
                                                    "mentors": ["mentor"]}).json
    read = ok(sb.read("mentor", batch["groupId"]), "api.group.read")
    assert read["activities"] == [{"id": "do_course_1", "type": "Course", "activityInfo": {
        "identifier": "do_course_1", "name": "Fractions", "leafNodesCount": 2, "contentType": "Course",
        "primaryCategory": "Course", "objectType": "Content", "mimeType": "application/vnd.ekstep.content-collection",
        "board": "CBSE", "medium": ["English"], "gradeLevel": ["Class 5"], "subject": ["Mathematics"],
        "pkgVersion": 1}}]
    # a user-made group with the Progress Report linked: its courses are activities too
    group_id = sb.group("mentor")
    assert api.put(f"/v1/groups/{group_id}/plugins/progress-report", "mentor",
                   json={"config": {"courseIds": ["do_course_1"]}}).status_code in (200, 201)
    assert [(a["id"], a["activityInfo"]["leafNodesCount"]) for a in ok(sb.read("mentor", group_id),
                                                                      "api.group.read")["activities"]] == \
        [("do_course_1", 2)]
    # the batch's members follow its enrolments: changes through this API are refused per member
    result = ok(sb.update("mentor", groupId=batch["groupId"], members={"add": [{"userId": "u_9"}]}), "api.group.update")
    assert result["error"]["members"][0]["userId"] == "u_9"
    assert result["error"]["members"][0]["errorCode"] == "BATCH_MANAGED"


def test_x_request_id_is_echoed_as_msgid(sb: Sb) -> None:
    response = sb.client.post(sb.path("create"), json={"request": {}},
                              headers={**sb.headers("alice"), "X-Request-Id": "req-42"})
    assert response.json["params"]["msgid"] == "req-42"


def test_health_answers_in_the_portal_shape(client: FlaskClient) -> None:
    body = client.get("/health").json
    assert (body["id"], body["ver"], body["responseCode"]) == ("portal.Health.API", "1.0", "OK")
    assert body["result"]["healthy"] is True and isinstance(body["result"]["check"], list)
    assert body["params"]["err"] is None and isinstance(body["params"]["msgid"], str)


def test_a_metadata_outage_is_a_503_in_sunbird_dialect(sb: Sb, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    from query_api.sunbird import groups as calls

    def down(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(calls, "create", down)
    response = sb.create("u_1")
    assert response.status_code == 503
    assert response.json["params"]["status"] == "failed"
