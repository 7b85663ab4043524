"""A seeded API for the security matrix and the schemathesis run: two groups A and B, each with an admin and a
member, every plugin linked and content made in each plugin (announcement, forum thread and post, released
assessment, material, activity entry), a batch with an enrolment, a course in the catalog, and progress and
assessment rows in an in-memory DuckDB analytics store.

`World.ids("b")` gives the path parameter values that point at group B's resources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from flask import Flask
from flask.testing import FlaskClient

from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.settings import Settings
from query_api.app import create_app
from query_api.auth import issue_token
from query_api.store.duckdb_store import DuckDBStore
from tests.fixtures.courses import FRACTIONS
from tests.fixtures.progress_state import StateEvent
from tests.plugin_fixtures import T0, attempt, load_rows, record_state

SECRET = "security-matrix-signing-key-0123456789abcdef"  # noqa: S105 - tests only
COURSE = FRACTIONS["identifier"]
PLUGIN_CONFIGS: dict[str, dict[str, Any]] = {
    "progress-report": {"courseIds": [COURSE]},
    "leaderboard": {"scope": {"type": "course", "courseId": COURSE}, "metric": "progress"},
    "gradebook": {},
    "assessment": {},
    "announcements": {},
    "activity-stream": {},
    "discussion-forum": {},
    "supplementary-material": {},
}


@dataclass
class World:
    app: Flask
    settings: Settings
    conn: duckdb.DuckDBPyConnection
    groups: dict[str, dict[str, str]] = field(default_factory=dict)  # side -> resource name -> id

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def token(self, user: str, operator: bool = False) -> str:
        return issue_token(self.settings, user, roles=["operator"] if operator else ())

    def headers(self, user: str, operator: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, operator)}"}

    def call(self, method: str, path: str, user: str, operator: bool = False, **kwargs: Any) -> Any:
        return self.client.open(path, method=method, headers=self.headers(user, operator), **kwargs)

    def ids(self, side: str) -> dict[str, str]:
        """Path parameter name -> the id of that side's resource."""
        return self.groups[side]

    def ok(self, method: str, path: str, user: str, operator: bool = False, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, user, operator, **kwargs)
        assert 200 <= response.status_code < 300, (method, path, response.status_code, response.get_data(True))
        return response.json if response.is_json else {}


def _seed_side(world: World, side: str) -> None:
    admin, member = f"{side}_admin", f"{side}_member"
    group = world.ok("POST", "/v1/groups", admin, json={"name": f"Group {side.upper()}",
                                                        "members": [{"userId": member}]})["id"]
    for plugin_id, config in PLUGIN_CONFIGS.items():
        world.ok("PUT", f"/v1/groups/{group}/plugins/{plugin_id}", admin, json={"config": config})
    url = f"/v1/groups/{group}/plugins"
    announcement = world.ok("POST", f"{url}/announcements/announcements", admin,
                            json={"title": f"{side} news", "body": f"secret of {side}"})["id"]
    thread = world.ok("POST", f"{url}/discussion-forum/threads", member,
                      json={"title": f"{side} thread", "body": f"question of {side}"})["id"]
    post = world.ok("POST", f"{url}/discussion-forum/threads/{thread}/posts", admin,
                    json={"body": f"answer of {side}"})["id"]
    assessment = world.ok("POST", f"{url}/assessment/assessments", admin,
                          json={"contentId": "do_leaf_2", "courseId": COURSE, "title": f"{side} quiz"})["id"]
    material = world.ok("POST", f"{url}/supplementary-material/materials", admin,
                        json={"title": f"{side} material", "url": f"https://example.org/{side}"})["id"]
    entry = world.ok("POST", f"{url}/activity-stream/entries", member, json={"body": f"update of {side}"})["id"]
    batch = f"batch_{side}"
    # invite-only: nobody outside may enrol themselves (open batches allow that by design)
    world.ok("POST", "/v1/batches", admin, json={"batchId": batch, "name": f"Batch {side}", "courseIds": [COURSE],
                                                 "programId": f"prog_{side}", "enrollmentType": "invite-only",
                                                 "mentors": [admin]})
    world.ok("PUT", f"/v1/batches/{batch}/enrolments/{member}", admin)
    record_state(world.conn, [StateEvent(member, batch, COURSE, T0, {"do_leaf_1": 2})])
    load_rows(world.conn, [attempt(member, "do_leaf_2", f"att-{side}", 7, batch=batch)])
    world.groups[side] = {
        "groupId": group, "userId": member, "pluginId": "announcements", "batchId": batch,
        "programId": f"prog_{side}", "courseId": COURSE, "announcement_id": announcement, "thread_id": thread,
        "post_id": post, "assessment_id": assessment, "material_id": material, "entry_id": entry,
        "admin": admin, "member": member,
    }


def build_world(tmp_path: Path) -> World:
    """The app over a fresh SQLite metadata file and in-memory DuckDB, with groups A and B seeded."""
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'metadata.sqlite'}",
                        jwt_secret=SECRET, max_members_per_group=200, max_groups_per_user=200,
                        max_plugins_per_group=20)
    conn = open_duckdb(":memory:")
    app = create_app(settings, analytics=DuckDBStore(conn), test_config={"TESTING": True})
    world = World(app, settings, conn)
    world.ok("PUT", f"/v1/courses/{COURSE}/hierarchy", "ops", operator=True, json=FRACTIONS)
    _seed_side(world, "a")
    _seed_side(world, "b")
    return world


def close_world(world: World) -> None:
    world.app.extensions["lpa.db"].engine.dispose()
    world.conn.close()
