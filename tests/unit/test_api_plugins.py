"""Plugin registry (entry points, load errors), links with schema-validated config, limits, launch."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, jsonify

from query_api import db
from query_api.errors import Forbidden, NotFound
from query_api.models import GroupMember
from query_api.plugins.base import Plugin, PluginRegistry
from query_api.plugins.progress_report.plugin import PLUGIN as PROGRESS_REPORT
from query_api.schemas.groups import GroupCreate, MemberIn
from query_api.services.access import group_for_user, group_learners, group_members, plugin_config
from query_api.services.groups import create_group
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api

NOTES_SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "additionalProperties": False}


def notes_blueprint() -> Blueprint:
    bp = Blueprint("notes", __name__)

    @bp.get("/summary")
    def summary(group_id: str) -> Any:
        from query_api.auth import current_user_id, login_required

        @login_required
        def inner() -> Any:
            access = group_for_user(group_id, current_user_id())
            members = [m.user_id for m in group_members(group_id)]
            return jsonify(role=access.role, members=members, config=plugin_config(group_id, "notes"))

        return inner()

    return bp


NOTES = Plugin(id="notes", version="0.1.0", name="Notes", config_schema=NOTES_SCHEMA, capabilities=("notes",),
               blueprint_factory=notes_blueprint,
               launch_urls={"summary": "/v1/groups/{groupId}/plugins/{pluginId}/summary"})
EXTRA = Plugin(id="extra", version="1", name="Extra", config_schema={"type": "object"})


def test_the_entry_point_registry_has_the_progress_report() -> None:
    registry = PluginRegistry.discover()
    assert registry.get("progress-report") is PROGRESS_REPORT
    assert registry.load_errors == {}


def test_bad_plugins_are_recorded_not_skipped() -> None:
    registry = PluginRegistry.of([NOTES, NOTES, "not a plugin",
                                  Plugin(id="Bad Id", version="1", name="x", config_schema={}),
                                  Plugin(id="bad-schema", version="1", name="x", config_schema={"type": 5})])
    assert list(registry.plugins) == ["notes"]
    assert set(registry.load_errors) == {"notes", "'not a plugin'", "Bad Id", "bad-schema"}


def test_a_broken_registry_makes_readyz_fail_and_is_listed(make_app: Any, auth: Any) -> None:
    registry = PluginRegistry.of([PROGRESS_REPORT])
    registry.record_error("broken", "cannot load broken.plugin:PLUGIN: ImportError: nope")
    client = make_app(test_config={"PLUGIN_REGISTRY": registry}).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert {c["name"]: c["ok"] for c in ready.json["checks"]} == {"metadata_db": True, "plugins": False}
    listed = client.get("/v1/plugins", headers=auth("u")).json
    assert listed["loadErrors"] == {"broken": "cannot load broken.plugin:PLUGIN: ImportError: nope"}
    assert [p["id"] for p in listed["plugins"]] == ["progress-report"]


def test_link_validates_config_update_and_unlink(api: Api) -> None:
    group_id = api.group("alice", members=[{"userId": "bob"}])
    bad = api.put(f"/v1/groups/{group_id}/plugins/progress-report", "alice",
                  json={"config": {"courseIds": [], "membersSeeAll": "yes"}})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_config"
    assert {d["path"] for d in bad.json["error"]["details"]} == {"courseIds", "membersSeeAll"}
    missing = api.put(f"/v1/groups/{group_id}/plugins/progress-report", "alice", json={"config": {}})
    assert missing.status_code == 422
    created = api.put(f"/v1/groups/{group_id}/plugins/progress-report", "alice",
                      json={"config": {"courseIds": ["c1"], "filters": {"board": "CBSE"}}})
    assert created.status_code == 201
    assert created.json["config"] == {"courseIds": ["c1"], "filters": {"board": "CBSE"}, "membersSeeAll": False}
    assert api.put(f"/v1/groups/{group_id}/plugins/progress-report", "bob",
                   json={"config": {"courseIds": ["c1"]}}).status_code == 403
    updated = api.put(f"/v1/groups/{group_id}/plugins/progress-report", "alice",
                      json={"config": {"courseIds": ["c2"], "membersSeeAll": True}})
    assert updated.status_code == 200 and updated.json["config"]["membersSeeAll"] is True
    assert api.get(f"/v1/groups/{group_id}/plugins/progress-report", "bob").json["config"]["courseIds"] == ["c2"]
    assert api.get(f"/v1/groups/{group_id}/plugins", "bob").json["plugins"][0]["pluginId"] == "progress-report"
    assert api.put(f"/v1/groups/{group_id}/plugins/nope", "alice", json={"config": {}}).status_code == 404
    assert api.delete(f"/v1/groups/{group_id}/plugins/progress-report", "alice").status_code == 204
    gone = api.get(f"/v1/groups/{group_id}/plugins/progress-report", "bob")
    assert gone.status_code == 404 and gone.json["error"]["code"] == "plugin_not_linked"
    assert api.get(f"/v1/groups/{group_id}/plugins/progress-report", "stranger").json["error"]["code"] == \
        "group_not_found"


def test_plugins_per_group_limit(make_app: Any, auth: Any) -> None:  # the fixture's limit is 2
    registry = PluginRegistry.of([PROGRESS_REPORT, NOTES, EXTRA])
    api = Api(make_app(test_config={"PLUGIN_REGISTRY": registry}).test_client(), auth)
    group_id = api.group("alice")
    assert api.put(f"/v1/groups/{group_id}/plugins/notes", "alice", json={"config": {}}).status_code == 201
    assert api.put(f"/v1/groups/{group_id}/plugins/extra", "alice", json={"config": {}}).status_code == 201
    response = api.put(f"/v1/groups/{group_id}/plugins/progress-report", "alice",
                       json={"config": {"courseIds": ["c"]}})
    assert response.status_code == 409 and response.json["error"]["details"]["limit"] == "max_plugins_per_group"
    assert api.put(f"/v1/groups/{group_id}/plugins/notes", "alice", json={"config": {"text": "hi"}}).status_code == 200


def test_launch_and_plugin_blueprint_mounted_under_the_group(make_app: Any, auth: Any) -> None:
    registry = PluginRegistry.of([NOTES])
    api = Api(make_app(test_config={"PLUGIN_REGISTRY": registry}).test_client(), auth)
    group_id = api.group("alice", members=[{"userId": "bob"}])
    api.put(f"/v1/groups/{group_id}/plugins/notes", "alice", json={"config": {"text": "hello"}})
    launch = api.get(f"/v1/groups/{group_id}/plugins/notes/launch", "bob").json
    assert launch == {"groupId": group_id, "pluginId": "notes", "version": "0.1.0", "name": "Notes",
                      "capabilities": ["notes"], "config": {"text": "hello"}, "memberRole": "member",
                      "urls": {"summary": f"/v1/groups/{group_id}/plugins/notes/summary"}}
    summary = api.get(launch["urls"]["summary"], "bob")
    assert summary.json == {"role": "member", "members": ["alice", "bob"], "config": {"text": "hello"}}
    assert api.get(launch["urls"]["summary"], "stranger").status_code == 404
    assert api.get(f"/v1/groups/{group_id}/plugins/notes/launch", "stranger").status_code == 404


def test_access_helper_is_404_for_strangers_and_403_for_members_needing_admin(make_app: Any) -> None:
    app = make_app()
    with app.app_context():
        session = db.session()
        group = create_group(session, app.extensions["lpa.settings"], "alice",
                             GroupCreate(name="g", members=[MemberIn(userId="bob")]))
        session.commit()
        assert group_for_user(group.id, "alice", need_admin=True).is_admin
        assert group_for_user(group.id, "bob").role == "member"
        with pytest.raises(Forbidden):
            group_for_user(group.id, "bob", need_admin=True)
        with pytest.raises(NotFound):
            group_for_user(group.id, "eve")
        assert [(m.user_id, m.role) for m in group_members(group.id)] == [("alice", "admin"), ("bob", "member")]


def test_group_learners_are_the_active_non_admins_in_id_order_with_pending_changes_seen(make_app: Any) -> None:
    """group_learners reads through the session's connection (not the ORM's result layer): admins and
    removed members are left out, ids come in order, and members added in the same session count, as the
    ORM's autoflush would have made them."""
    app = make_app()
    with app.app_context():
        session = db.session()
        group = create_group(session, app.extensions["lpa.settings"], "alice",
                             GroupCreate(name="g", members=[MemberIn(userId=u) for u in ("zed", "bob", "carl")]))
        session.commit()
        session.get(GroupMember, (group.id, "carl")).status = "inactive"  # type: ignore[union-attr]
        session.add(GroupMember(group_id=group.id, user_id="dora", role="member", created_by="alice"))
        session.add(GroupMember(group_id=group.id, user_id="ann", role="admin", created_by="alice"))
        assert group_learners(group.id, session=session) == ["bob", "dora", "zed"]
        assert [m.user_id for m in group_members(group.id)] == ["alice", "ann", "bob", "dora", "zed"]
