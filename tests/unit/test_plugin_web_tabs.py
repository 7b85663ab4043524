"""The group page lists a tab per linked plugin, and each tab renders from the plugin's API use case with its
access rules (non-members 404, unlinked plugins 404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest
from flask import Flask
from flask.testing import FlaskClient

from lpa.settings import Settings
from query_api.auth import issue_token
from query_api.store.duckdb_store import DuckDBStore
from query_api.web.session import COOKIE
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api
from tests.fixtures.courses import FRACTIONS
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import attempt, load_rows

CONFIGS: dict[str, dict[str, Any]] = {
    "progress-report": {"courseIds": ["do_course_1"]},
    "announcements": {}, "activity-stream": {}, "assessment": {}, "gradebook": {}, "discussion-forum": {},
    "supplementary-material": {},
    "leaderboard": {"scope": {"type": "course", "courseId": "do_course_1"}, "metric": "assessment_score"},
}


@pytest.fixture
def web(make_app: Callable[..., Flask], auth: Any, settings: Settings, duck: duckdb.DuckDBPyConnection) -> Any:
    app = make_app(analytics=DuckDBStore(duck), max_plugins_per_group=20,
                   test_config={"EXTRA_BLUEPRINTS": ["query_api.web:bp"]})
    api = Api(app.test_client(), auth)
    assert api.put("/v1/courses/do_course_1/hierarchy", "ops", operator=True, json=FRACTIONS).status_code == 201
    group = api.group("mentor", name="Class 5", members=[{"userId": "u_a"}, {"userId": "u_b"}])
    for plugin_id, config in CONFIGS.items():
        assert api.put(f"/v1/groups/{group}/plugins/{plugin_id}", "mentor", json={"config": config}).status_code \
            in (200, 201)
    base = f"/v1/groups/{group}/plugins"
    api.post(f"{base}/announcements/announcements", "mentor", json={"title": "Quiz <Friday>", "body": "Ch. 3"})
    api.post(f"{base}/assessment/assessments", "mentor",
             json={"contentId": "do_leaf_2", "courseId": "do_course_1", "title": "Quiz 1"})
    api.post(f"{base}/discussion-forum/threads", "u_a", json={"title": "Halves?", "body": "help"})
    api.post(f"{base}/supplementary-material/materials", "mentor", json={"title": "Video", "url": "https://x.org/v"})
    load_rows(duck, [attempt("u_a", "do_leaf_2", "1", 7), attempt("u_b", "do_leaf_2", "1", 9)])

    def client_for(user: str) -> FlaskClient:
        client = app.test_client()
        client.set_cookie(COOKIE, issue_token(settings, user))
        return client

    return group, client_for


def test_the_group_page_links_a_tab_per_linked_plugin(web: Any) -> None:
    group, client_for = web
    page = client_for("u_a").get(f"/groups/{group}").get_data(as_text=True)
    for plugin_id in CONFIGS:
        if plugin_id != "progress-report":
            assert f'id="tab-{plugin_id}"' in page and f"/groups/{group}/tabs/{plugin_id}" in page


@pytest.mark.parametrize("plugin_id, expected", [
    ("announcements", "Quiz &lt;Friday&gt;"), ("assessment", "Quiz 1"), ("discussion-forum", "Halves?"),
    ("supplementary-material", 'href="https://x.org/v"'), ("activity-stream", "New assessment"),
    ("leaderboard", 'data-user-id="u_b"'), ("gradebook", "7.0/10.0"),
])
def test_each_tab_renders_its_plugin(web: Any, plugin_id: str, expected: str) -> None:
    group, client_for = web
    response = client_for("u_a").get(f"/groups/{group}/tabs/{plugin_id}")
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)


def test_tabs_keep_the_api_access_rules(web: Any) -> None:
    group, client_for = web
    grades = client_for("u_a").get(f"/groups/{group}/tabs/gradebook").get_data(as_text=True)
    assert 'data-user-id="u_a"' in grades and 'data-user-id="u_b"' not in grades  # learners: own row only
    assert 'data-user-id="u_b"' in client_for("mentor").get(f"/groups/{group}/tabs/gradebook").get_data(as_text=True)
    assert client_for("outsider").get(f"/groups/{group}/tabs/leaderboard").status_code == 404
    assert client_for("u_a").get(f"/groups/{group}/tabs/nope").status_code == 404
    assert app_redirects_to_login(client_for, group)


def app_redirects_to_login(client_for: Any, group: str) -> bool:
    client = client_for("u_a")
    client.delete_cookie(COOKIE)
    response = client.get(f"/groups/{group}/tabs/announcements")
    return response.status_code == 302 and "/login" in response.headers["Location"]
