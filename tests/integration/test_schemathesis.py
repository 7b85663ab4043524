"""Schemathesis over the app's own /openapi.json, in process (WSGI, no network).

Every documented operation gets generated requests (valid and invalid bodies, query strings and path ids) as the
admin of a seeded group; about half of them have their path ids replaced by real ones (the group, its plugins,
its batch, the course, each plugin's content) so the generated data reaches the views and not only the 404s.
Checks: no 5xx, and every response whose status the document declares with a schema conforms to it.
Operations that delete or leave run last, so they do not empty the world the others test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from query_api.auth import SUNBIRD_HEADER
from query_api.plugins.progress_report.report import ReportQuery
from query_api.plugins.progress_report.views import CourseAdd
from query_api.progress.models import ProgressReport
from query_api.schemas.catalog import CourseQuery
from tests.security_fixtures import World, build_world, close_world

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("LPA_SCHEMATHESIS_EXAMPLES", "15"))
CALLER = "a_admin"
CHECKS = [not_a_server_error, response_schema_conformance]
# valid requests (reach the views) and invalid ones (must be refused with a 4xx, never a 5xx)
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("schemathesis"))
    yield built
    close_world(built)


def _destructive(operation: Any) -> bool:
    return operation.method.upper() == "DELETE" or operation.path.endswith("/leave")


def _run_operation(world: World, operation: Any, headers: dict[str, str]) -> list[str]:
    """Generated cases for one operation; the failures found (no shrinking: the run stays bounded)."""
    real_ids = world.ids("a")
    failures: list[str] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=st.sampled_from(MODES).flatmap(operation.as_strategy), use_real_ids=st.booleans())
    def run(case: Any, use_real_ids: bool) -> None:
        if use_real_ids and case.path_parameters:
            case.path_parameters = {name: real_ids.get(name, value) for name, value in case.path_parameters.items()}
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as error:  # collected per operation, reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {type(error).__name__}: "
                            f"{str(error)[:1500]}")

    run()
    return failures


def with_progress_report(spec: dict[str, Any]) -> dict[str, Any]:
    """The document plus the Progress Report's endpoints, which /openapi.json does not list yet (reported to the
    lead): the report with its declared response model, and the course-list endpoints."""
    report_schema = ProgressReport.model_json_schema(ref_template="#/components/schemas/{model}")
    spec["components"]["schemas"].update(report_schema.pop("$defs", {}))
    spec["components"]["schemas"]["ProgressReport"] = report_schema
    group = {"name": "groupId", "in": "path", "required": True, "schema": {"type": "string"}}

    def query(model: type[BaseModel]) -> list[dict[str, Any]]:
        props = model.model_json_schema()["properties"]
        return [{"name": name, "in": "query", "required": False, "schema": prop} for name, prop in props.items()]

    def op(params: list[dict[str, Any]], status: str = "200", schema: str | None = None,
           body: type[BaseModel] | None = None) -> dict[str, Any]:
        ok: dict[str, Any] = {"description": "OK"}
        if schema:
            ok["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
        error = {"description": "error", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        out: dict[str, Any] = {"parameters": params, "security": [{"bearer": []}],
                               "responses": {status: ok, **{code: error for code in ("401", "403", "404", "409", "422",
                                                                                      "503")}}}
        if body is not None:
            content = {"application/json": {"schema": body.model_json_schema()}}
            out["requestBody"] = {"required": True, "content": content}
        return out

    base = "/v1/groups/{groupId}/plugins/progress-report"
    course = {"name": "courseId", "in": "path", "required": True, "schema": {"type": "string"}}
    spec["paths"].update({
        f"{base}/report": {"get": op([group, *query(ReportQuery)], schema="ProgressReport")},
        f"{base}/courses": {"get": op([group]), "post": op([group], body=CourseAdd)},
        f"{base}/courses/{{courseId}}": {"delete": op([group, course])},
        f"{base}/courses/search": {"get": op([group, *query(CourseQuery)])},
    })
    return spec


def test_no_5xx_and_responses_match_the_document(world: World) -> None:
    schema = schemathesis.openapi.from_dict(with_progress_report(world.client.get("/openapi.json").json))
    schema.app = world.app  # in process: requests go to the WSGI app, as with from_wsgi
    headers = {"Authorization": f"Bearer {world.token(CALLER)}", SUNBIRD_HEADER: world.token(CALLER)}
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())  # an operation the loader cannot read is itself a failure
    assert len(operations) > 50
    assert any(o.path.endswith("/progress-report/report") for o in operations)
    failures: list[str] = []
    for operation in sorted(operations, key=_destructive):
        failures += _run_operation(world, operation, headers)
    assert not failures, "\n\n".join(failures[:20])
