"""The app around the resources: health and readiness, metrics, OpenAPI and docs, the one error shape,
extra blueprints, and the Alembic migrations matching the models."""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Blueprint
from sqlalchemy import create_engine

from query_api.models import Base
from query_api.openapi import ROUTES
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api


def test_migrations_and_models_do_not_drift(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_healthz_and_readyz_with_extra_checks(make_app: Any) -> None:
    client = make_app().test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json["status"] == "ready"

    def broker() -> tuple[str, bool, str]:
        return "broker", False, "not started"

    def crashing() -> tuple[str, bool, str]:
        raise RuntimeError("boom")

    client = make_app(test_config={"READINESS_CHECKS": [broker, crashing]}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = {c["name"]: (c["ok"], c["detail"]) for c in response.json["checks"]}
    assert checks["broker"] == (False, "not started") and checks["crashing"] == (False, "RuntimeError: boom")


def test_readyz_reports_an_unreachable_database(make_app: Any, tmp_path: Any) -> None:
    client = make_app(database_url=f"sqlite:///{tmp_path}/missing-dir/x/db.sqlite").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert {c["name"]: c["ok"] for c in response.json["checks"]}["metadata_db"] is False


def test_metrics_count_requests_by_route_not_by_raw_path(api: Api) -> None:
    group_id = api.group("alice")
    api.get(f"/v1/groups/{group_id}", "alice")
    api.get("/v1/groups/other", "alice")
    text = api.client.get("/metrics").get_data(as_text=True)
    assert 'lpa_http_requests_total{endpoint="/v1/groups/<group_id>",method="GET",status="200"} 1.0' in text
    assert 'lpa_http_requests_total{endpoint="/v1/groups/<group_id>",method="GET",status="404"} 1.0' in text
    assert 'lpa_http_request_duration_seconds_count{endpoint="/v1/groups",method="POST"} 1.0' in text
    assert group_id not in text


def test_openapi_documents_every_route_of_the_app(app: Any) -> None:
    spec = app.test_client().get("/openapi.json").json
    rules = {(re.sub(r"<(\w+)>", lambda m: "{" + m.group(1) + "}", r.rule), method.lower())
             for r in app.url_map.iter_rules() for method in r.methods - {"HEAD", "OPTIONS"}}
    normalise = {"{group_id}": "{groupId}", "{user_id}": "{userId}", "{batch_id}": "{batchId}",
                 "{program_id}": "{programId}", "{course_id}": "{courseId}", "{plugin_id}": "{pluginId}"}

    def camel(path: str) -> str:
        for snake, camel_name in normalise.items():
            path = path.replace(snake, camel_name)
        return path

    app_routes = {(camel(p), m) for p, m in rules} - {("/metrics", "get"), ("/openapi.json", "get"),
                                                      ("/docs", "get")}
    documented = {(r.path, r.method) for r in ROUTES}
    assert documented == app_routes
    schemas = spec["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', str(spec).replace("'", '"')))
    assert refs <= set(schemas)
    assert schemas["GroupCreate"]["required"] == ["name"]
    assert spec["paths"]["/v1/groups"]["post"]["security"] == [{"bearer": []}]


def test_docs_page_is_self_contained(client: Any) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert "/v1/groups/{groupId}/plugins/{pluginId}/launch" in page and "GroupCreate" in page
    assert "http://" not in page and "https://" not in page


def test_every_error_has_the_one_shape(make_app: Any, auth: Any) -> None:
    crash = Blueprint("crash", __name__)

    @crash.get("/crash")
    def boom() -> str:
        raise RuntimeError("secret detail")

    client = make_app(test_config={"EXTRA_BLUEPRINTS": [crash, "no.such.module:bp"]}).test_client()
    unknown = client.get("/nope")
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"
    wrong_method = client.put("/healthz")
    assert wrong_method.status_code == 405 and wrong_method.json["error"]["code"] == "method_not_allowed"
    crashed = client.get("/crash")
    assert crashed.status_code == 500 and crashed.json == {"error": {"code": "internal", "details": None,
                                                                     "message": "internal error; it has been logged"}}
    for response in (unknown, wrong_method, crashed):
        assert set(response.json["error"]) == {"code", "message", "details"}


def test_hostile_input_never_gives_a_500(api: Api) -> None:
    group_id = api.group("alice")
    payloads: list[Any] = [None, 1, "x", [], {"name": None}, {"name": "x" * 10_000}, {"members": "all"},
                           {"name": "x", "members": [None]}, {"name": {"$gt": ""}}, {"name": "\x00"}]
    for payload in payloads:
        for method, path in (("POST", "/v1/groups"), ("PATCH", f"/v1/groups/{group_id}"),
                             ("POST", f"/v1/groups/{group_id}/members"), ("POST", "/v1/batches"),
                             ("PUT", f"/v1/groups/{group_id}/plugins/progress-report"),
                             ("PATCH", f"/v1/groups/{group_id}/members/alice")):
            response = api.call(method, path, "alice", json=payload)
            assert response.status_code < 500, (method, path, payload, response.json)
    odd_ids = ["%00", "a" * 2000, "..", "x';drop table groups;--"]
    for odd in odd_ids:
        for path in (f"/v1/groups/{odd}", f"/v1/batches/{odd}", f"/v1/courses/{odd}"):
            assert api.get(path, "alice").status_code == (422 if odd == "%00" else 404), path
        assert api.put(f"/v1/batches/b/enrolments/{odd}", "alice").status_code in (404, 422)
    assert api.get("/v1/courses", "alice", query_string={"q": "\x00"}).status_code == 422
