"""Groups: creation, reading, updates, membership rules, statuses, limits and subgroups (SQLite + PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api


def members(api: Api, group_id: str, user: str) -> dict[str, str]:
    response = api.get(f"/v1/groups/{group_id}/members", user)
    assert response.status_code == 200, response.json
    return {m["userId"]: m["role"] for m in response.json["members"]}


def test_creator_becomes_admin_and_members_are_added(api: Api) -> None:
    response = api.post("/v1/groups", "alice", json={
        "name": "Study circle", "description": "weekly", "membershipType": "moderated",
        "members": [{"userId": "bob"}, {"userId": "carol", "role": "admin"}, {"userId": "alice", "role": "member"}],
        "activities": [{"id": "do_course_1", "type": "Course"}]})
    assert response.status_code == 201
    group = response.json
    assert group["memberRole"] == "admin" and group["createdBy"] == "alice" and group["status"] == "active"
    assert group["membershipType"] == "moderated" and group["activities"] == [{"id": "do_course_1", "type": "Course"}]
    assert {m["userId"]: m["role"] for m in group["members"]} == {"alice": "admin", "bob": "member",
                                                                  "carol": "admin"}
    assert group["createdOn"].endswith("Z")


def test_non_member_gets_the_same_404_as_for_a_missing_group(api: Api) -> None:
    group_id = api.group("alice")
    stranger = api.get(f"/v1/groups/{group_id}", "mallory")
    missing = api.get("/v1/groups/no-such-group", "mallory")
    assert stranger.status_code == missing.status_code == 404
    assert stranger.json["error"]["code"] == missing.json["error"]["code"] == "group_not_found"
    for method, path in [("PATCH", ""), ("DELETE", ""), ("GET", "/members"), ("POST", "/members")]:
        response = api.call(method, f"/v1/groups/{group_id}{path}", "mallory",
                            json={"name": "x"} if method == "PATCH" else {"members": [{"userId": "m"}]})
        assert response.status_code == 404, (method, path)


def test_member_reads_but_only_admins_change(api: Api) -> None:
    group_id = api.group("alice", members=[{"userId": "bob"}])
    assert api.get(f"/v1/groups/{group_id}", "bob").json["memberRole"] == "member"
    response = api.patch(f"/v1/groups/{group_id}", "bob", json={"name": "mine now"})
    assert response.status_code == 403 and response.json["error"]["code"] == "admin_required"
    assert api.post(f"/v1/groups/{group_id}/members", "bob", json={"members": [{"userId": "x"}]}).status_code == 403
    assert api.patch(f"/v1/groups/{group_id}", "alice", json={"name": "Renamed"}).json["name"] == "Renamed"


def test_list_mine_shows_role_admin_first_and_hides_deleted(api: Api) -> None:
    own = api.group("alice", name="B own")
    joined = api.group("bob", name="A joined", members=[{"userId": "alice"}])
    gone = api.group("alice", name="C gone")
    assert api.delete(f"/v1/groups/{gone}", "alice").status_code == 204
    listed = api.get("/v1/groups", "alice").json["groups"]
    assert [(g["id"], g["memberRole"]) for g in listed] == [(own, "admin"), (joined, "member")]


def test_only_the_creator_deletes_and_a_deleted_group_is_gone(api: Api) -> None:
    group_id = api.group("alice", members=[{"userId": "bob", "role": "admin"}])
    response = api.delete(f"/v1/groups/{group_id}", "bob")
    assert response.status_code == 403 and response.json["error"]["code"] == "creator_only"
    assert api.delete(f"/v1/groups/{group_id}", "alice").status_code == 204
    assert api.get(f"/v1/groups/{group_id}", "alice").status_code == 404
    assert api.get(f"/v1/groups/{group_id}", "bob").status_code == 404


def test_admin_adds_removes_and_changes_roles(api: Api) -> None:
    group_id = api.group("alice")
    response = api.post(f"/v1/groups/{group_id}/members", "alice",
                        json={"members": [{"userId": "bob"}, {"userId": "carol"}]})
    assert response.status_code == 200
    again = api.post(f"/v1/groups/{group_id}/members", "alice", json={"members": [{"userId": "bob"}]})
    assert again.status_code == 409 and again.json["error"]["details"]["userIds"] == ["bob"]
    assert api.patch(f"/v1/groups/{group_id}/members/bob", "alice", json={"role": "admin"}).json["role"] == "admin"
    assert api.delete(f"/v1/groups/{group_id}/members/carol", "alice").status_code == 204
    assert members(api, group_id, "alice") == {"alice": "admin", "bob": "admin"}
    assert api.get(f"/v1/groups/{group_id}", "carol").status_code == 404
    missing = api.delete(f"/v1/groups/{group_id}/members/nobody", "alice")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "member_not_found"
    # a removed member can be added back
    assert api.post(f"/v1/groups/{group_id}/members", "bob", json={"members": [{"userId": "carol"}]}).status_code == 200
    assert members(api, group_id, "carol")["carol"] == "member"


def test_a_member_leaves_but_the_last_admin_cannot(api: Api) -> None:
    group_id = api.group("alice", members=[{"userId": "bob"}])
    assert api.post(f"/v1/groups/{group_id}/leave", "bob").status_code == 204
    assert api.get(f"/v1/groups/{group_id}", "bob").status_code == 404
    response = api.post(f"/v1/groups/{group_id}/leave", "alice")
    assert response.status_code == 409 and response.json["error"]["code"] == "last_admin"
    demote = api.patch(f"/v1/groups/{group_id}/members/alice", "alice", json={"role": "member"})
    assert demote.status_code == 409 and demote.json["error"]["code"] == "last_admin"
    api.post(f"/v1/groups/{group_id}/members", "alice", json={"members": [{"userId": "carol", "role": "admin"}]})
    assert api.delete(f"/v1/groups/{group_id}/members/alice", "alice").status_code == 204  # leaving, by DELETE
    assert members(api, group_id, "carol") == {"carol": "admin"}


def test_suspended_group_allows_only_leaving_and_reactivation(api: Api) -> None:
    group_id = api.group("alice", members=[{"userId": "bob"}, {"userId": "carol"}])
    assert api.patch(f"/v1/groups/{group_id}", "alice", json={"status": "suspended"}).json["status"] == "suspended"
    assert api.get(f"/v1/groups/{group_id}", "bob").json["status"] == "suspended"  # still readable
    refused = [
        api.patch(f"/v1/groups/{group_id}", "alice", json={"name": "x"}),
        api.patch(f"/v1/groups/{group_id}", "alice", json={"name": "x", "status": "active"}),
        api.post(f"/v1/groups/{group_id}/members", "alice", json={"members": [{"userId": "dan"}]}),
        api.delete(f"/v1/groups/{group_id}/members/carol", "alice"),
        api.patch(f"/v1/groups/{group_id}/members/bob", "alice", json={"role": "admin"}),
        api.put(f"/v1/groups/{group_id}/plugins/progress-report", "alice", json={"config": {"courseIds": ["c"]}}),
    ]
    assert [(r.status_code, r.json["error"]["code"]) for r in refused] == [(409, "group_suspended")] * len(refused)
    assert api.post(f"/v1/groups/{group_id}/leave", "bob").status_code == 204
    assert api.patch(f"/v1/groups/{group_id}", "carol", json={"status": "active"}).status_code == 403
    assert api.patch(f"/v1/groups/{group_id}", "alice", json={"status": "active"}).json["status"] == "active"
    assert api.patch(f"/v1/groups/{group_id}", "alice", json={"name": "back"}).status_code == 200


def test_status_inactive_is_a_delete_by_the_creator(api: Api) -> None:
    group_id = api.group("alice")
    assert api.patch(f"/v1/groups/{group_id}", "alice", json={"status": "inactive"}).status_code == 204
    assert api.get(f"/v1/groups/{group_id}", "alice").status_code == 404


def test_members_per_group_limit(api: Api) -> None:  # the fixture's limit is 5
    response = api.post("/v1/groups", "alice", json={"name": "big", "members": [{"userId": f"u{i}"} for i in range(5)]})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "limit_exceeded"
    assert response.json["error"]["details"]["limit"] == "max_members_per_group"
    group_id = api.group("alice", members=[{"userId": f"u{i}"} for i in range(4)])
    response = api.post(f"/v1/groups/{group_id}/members", "alice", json={"members": [{"userId": "one-too-many"}]})
    assert response.status_code == 409 and response.json["error"]["details"]["max"] == 5


def test_groups_per_user_limit_counts_creator_and_added_members(api: Api) -> None:  # limit 3
    for index in range(3):
        api.group("alice", name=f"g{index}")
    response = api.post("/v1/groups", "alice", json={"name": "fourth"})
    assert response.status_code == 409 and response.json["error"]["details"]["limit"] == "max_groups_per_user"
    other = api.group("bob")
    response = api.post(f"/v1/groups/{other}/members", "bob", json={"members": [{"userId": "alice"}]})
    assert response.status_code == 409 and response.json["error"]["details"]["userIds"] == ["alice"]


@pytest.mark.parametrize("payload", [
    {}, {"name": ""}, {"name": "   "}, {"name": "x", "membershipType": "open"}, {"name": "x", "extra": 1},
    {"name": "x", "members": [{"userId": "a"}, {"userId": "a"}]},
    {"name": "x", "members": [{"userId": "a", "role": "owner"}]},
    {"name": 5}, [], "text",
])
def test_invalid_group_input_is_422_with_details(api: Api, payload: object) -> None:
    response = api.post("/v1/groups", "alice", json=payload)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] in {"invalid_input", "invalid_json"}


def test_malformed_json_body_is_422(api: Api) -> None:
    response = api.post("/v1/groups", "alice", data="{not json", content_type="application/json")
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_json"


def test_subgroup_members_must_belong_to_the_parent(api: Api) -> None:
    parent = api.group("mentor", name="class", members=[{"userId": "s1"}, {"userId": "s2"}])
    team = [{"userId": "s1"}, {"userId": "x9"}, {"userId": "x1"}]
    response = api.post("/v1/groups", "mentor", json={"name": "team", "parentGroupId": parent, "members": team})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "not_in_parent"
    assert response.json["error"]["details"]["notInParent"] == ["x1", "x9"]
    child = api.group("mentor", name="team", parentGroupId=parent, members=[{"userId": "s1"}])
    assert api.get(f"/v1/groups/{child}", "s1").json["parentGroupId"] == parent
    added = api.post(f"/v1/groups/{child}/members", "mentor", json={"members": [{"userId": "outsider"}]})
    assert added.status_code == 422 and added.json["error"]["details"]["notInParent"] == ["outsider"]
    # leaving the parent removes the learner from its subgroups
    assert api.post(f"/v1/groups/{parent}/leave", "s1").status_code == 204
    assert api.get(f"/v1/groups/{child}", "s1").status_code == 404


def test_only_parent_admins_create_subgroups(api: Api) -> None:
    parent = api.group("mentor", members=[{"userId": "s1"}])
    response = api.post("/v1/groups", "s1", json={"name": "mine", "parentGroupId": parent})
    assert response.status_code == 403 and response.json["error"]["code"] == "admin_required"
    hidden = api.post("/v1/groups", "stranger", json={"name": "mine", "parentGroupId": parent})
    assert hidden.status_code == 404
