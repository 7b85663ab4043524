"""The OpenAPI 3.1 document, built from the pydantic models and one table of paths (kept next to the models
it names; tests check every table path exists in the app's URL map)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from query_api.plugins.openapi_routes import PLUGIN_ROUTES
from query_api.plugins.progress_report.report import ReportQuery
from query_api.plugins.progress_report.views import CourseAdd
from query_api.progress.models import ProgressReport
from query_api.schemas.batches import BatchCreate, BatchOut, BatchUpdate, EnrolmentList, EnrolmentOut, ProgramOut
from query_api.schemas.catalog import CourseOut as CourseDetail
from query_api.schemas.catalog import CoursePage, CourseQuery, HierarchyStored
from query_api.schemas.common import ErrorBody, Health, Readiness
from query_api.schemas.groups import (
    GroupCreate,
    GroupList,
    GroupOut,
    GroupUpdate,
    MemberList,
    MemberOut,
    MembersAdd,
    PluginLinkOut,
    RoleChange,
)
from query_api.schemas.plugins import LaunchOut, LinkIn, LinkList, PluginList
from query_api.sunbird.requests import AggregateBody, CreateBody, DeleteBody, ListBody, MembershipBody, UpdateBody


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI style: /v1/groups/{groupId}
    summary: str
    tag: str
    response: type[BaseModel] | None = None
    request: type[BaseModel] | None = None
    status: int = 200
    auth: bool = True
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = (401, 404, 422)


G, B, C, P, H = "groups", "batches", "catalog", "plugins", "health"
# Sunbird's group clients (docs/sunbird.md): Sunbird's envelopes and error codes, user token in
# X-Authenticated-User-Token; each call on the gateway path and on the service path.
_SB = "sunbird (X-Authenticated-User-Token; Sunbird envelopes, see docs/sunbird.md)"
SUNBIRD_ROUTES: tuple[Route, ...] = (
    Route("get", "/health", "Sunbird-style health", _SB, auth=False, errors=()),
    *(Route(method, path, summary, _SB, None, body, auth=False, errors=())
      for gateway, service, method, summary, body in (
          ("/api/group/v1/create", "/v1/group/create", "post", "groups-service: create a group", CreateBody),
          ("/api/group/v1/update", "/v1/group/update", "patch", "groups-service: update (partial success)",
           UpdateBody),
          ("/api/group/v1/read/{groupId}", "/v1/group/read/{groupId}", "get",
           "groups-service: read (?fields=members,activities)", None),
          ("/api/group/v1/list", "/v1/group/list", "post", "groups-service: the user's groups", ListBody),
          ("/api/group/v1/delete", "/v1/group/delete", "post", "groups-service: delete (creator)", DeleteBody),
          ("/api/group/membership/v1/update", "/v1/group/membership/update", "patch",
           "groups-service: the caller's visited flags", MembershipBody),
          ("/api/data/v1/group/activity/agg", "/v1/group/activity/agg", "post",
           "lms-service: group activity aggregate", AggregateBody))
      for path in (gateway, service)),
)
_PR = "/v1/groups/{groupId}/plugins/progress-report"
# The Progress Report plugin (contracts.md section 6; ?format=csv answers text/csv with the same rows).
PROGRESS_ROUTES: tuple[Route, ...] = (
    Route("get", f"{_PR}/report", "The group's progress report (members; admins see every row)", P, ProgressReport,
          query=ReportQuery, errors=(401, 403, 404, 422, 503)),
    Route("get", f"{_PR}/courses", "The report's configured courses", P, None, errors=(401, 404)),
    Route("post", f"{_PR}/courses", "Add a configured course (admins)", P, None, CourseAdd,
          errors=(401, 403, 404, 409, 422)),
    Route("delete", f"{_PR}/courses/{{courseId}}", "Remove a configured course (admins)", P, None,
          errors=(401, 403, 404, 409, 422)),
    Route("get", f"{_PR}/courses/search", "Search the catalog with the config's filters as defaults", P, None,
          query=CourseQuery, errors=(401, 404, 422)),
)
ROUTES: tuple[Route, ...] = (
    Route("get", "/healthz", "The process is up", H, Health, auth=False, errors=()),
    Route("get", "/readyz", "Metadata store, plugins and registered checks are ready", H, Readiness, auth=False,
          errors=(503,)),
    Route("post", "/v1/groups", "Create a group (the caller becomes admin; parentGroupId makes a subgroup)", G,
          GroupOut, GroupCreate, 201, errors=(401, 403, 404, 409, 422)),
    Route("get", "/v1/groups", "The caller's groups with their role, admin first", G, GroupList),
    Route("get", "/v1/groups/{groupId}", "Read a group with its members (members only)", G, GroupOut),
    Route("patch", "/v1/groups/{groupId}", "Update name, description, membershipType or status (admins)", G,
          GroupOut, GroupUpdate, errors=(401, 403, 404, 409, 422)),
    Route("delete", "/v1/groups/{groupId}", "Delete (status inactive; the creator only)", G, None, status=204,
          errors=(401, 403, 404, 409)),
    Route("get", "/v1/groups/{groupId}/members", "Active members with roles", G, MemberList),
    Route("post", "/v1/groups/{groupId}/members", "Add members (admins)", G, MemberList, MembersAdd,
          errors=(401, 403, 404, 409, 422)),
    Route("patch", "/v1/groups/{groupId}/members/{userId}", "Change a member's role (admins)", G, MemberOut,
          RoleChange, errors=(401, 403, 404, 409, 422)),
    Route("delete", "/v1/groups/{groupId}/members/{userId}", "Remove a member (admins) or leave (yourself)", G,
          None, status=204, errors=(401, 403, 404, 409)),
    Route("post", "/v1/groups/{groupId}/leave", "Leave the group", G, None, status=204, errors=(401, 404, 409)),
    Route("get", "/v1/plugins", "The plugin registry, with plugins that failed to load", P, PluginList),
    Route("get", "/v1/groups/{groupId}/plugins", "Plugins linked to a group", P, LinkList),
    Route("get", "/v1/groups/{groupId}/plugins/{pluginId}", "One link's config", P, PluginLinkOut),
    Route("put", "/v1/groups/{groupId}/plugins/{pluginId}", "Link or reconfigure a plugin (admins)", P,
          PluginLinkOut, LinkIn, errors=(401, 403, 404, 409, 422)),
    Route("delete", "/v1/groups/{groupId}/plugins/{pluginId}", "Unlink a plugin (admins)", P, None, status=204,
          errors=(401, 403, 404, 409)),
    Route("get", "/v1/groups/{groupId}/plugins/{pluginId}/launch", "What a client needs to embed the plugin", P,
          LaunchOut),
    Route("post", "/v1/batches", "Create a batch, its group and its Progress Report link", B, BatchOut,
          BatchCreate, 201, errors=(401, 403, 409, 422)),
    Route("get", "/v1/batches/{batchId}", "A batch with its groupId", B, BatchOut),
    Route("patch", "/v1/batches/{batchId}", "Update a batch (mentors sync the group's admins)", B, BatchOut,
          BatchUpdate, errors=(401, 403, 404, 422)),
    Route("post", "/v1/batches/{batchId}/close", "Close a batch", B, BatchOut, errors=(401, 403, 404)),
    Route("get", "/v1/batches/{batchId}/enrolments", "Enrolments (batch managers)", B, EnrolmentList,
          errors=(401, 403, 404)),
    Route("put", "/v1/batches/{batchId}/enrolments/{userId}", "Enrol (adds the learner to the batch group)", B,
          EnrolmentOut, errors=(401, 403, 404, 409)),
    Route("delete", "/v1/batches/{batchId}/enrolments/{userId}", "Unenrol (removes them from the group)", B, None,
          status=204, errors=(401, 403, 404)),
    Route("get", "/v1/programs/{programId}", "A program's batches and courses", B, ProgramOut),
    Route("get", "/v1/courses", "Search courses by facets and text, paginated", C, CoursePage, query=CourseQuery),
    Route("get", "/v1/courses/{courseId}", "A course's facets and units", C, CourseDetail),
    Route("get", "/v1/courses/{courseId}/hierarchy", "The stored hierarchy JSON", C, None),
    Route("put", "/v1/courses/{courseId}/hierarchy", "Load or republish a hierarchy (operators)", C,
          HierarchyStored, errors=(401, 403, 422, 503)),
    *PROGRESS_ROUTES,
    *(Route(**spec) for spec in PLUGIN_ROUTES),  # the group plugins' endpoints (query_api/plugins)
    *SUNBIRD_ROUTES,
)

_MODELS: list[type[BaseModel]] = sorted(
    {m for r in ROUTES for m in (r.response, r.request) if m is not None} | {ErrorBody}, key=lambda m: m.__name__)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _parameters(route: Route) -> list[dict[str, Any]]:
    params = [{"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
              for part in route.path.split("/") if part.startswith("{")]
    if route.query is not None:
        schema = route.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                           "schema": prop, "description": prop.get("description", "")})
    return params


def build_spec(extra_info: dict[str, Any] | None = None) -> dict[str, Any]:
    _, defs = models_json_schema([(m, "serialization") for m in _MODELS],
                                 ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag], "parameters": _parameters(route),
                              "responses": {}}
        if route.response is not None:
            content = {"application/json": {"schema": _ref(route.response)}}
            op["responses"][str(route.status)] = {"description": "OK", "content": content}
        else:
            op["responses"][str(route.status)] = {"description": "OK"}
        for status in route.errors:
            op["responses"][str(status)] = {"description": "error",
                                            "content": {"application/json": {"schema": _ref(ErrorBody)}}}
        if route.request is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(route.request)}}}
        if route.auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(route.path, {})[route.method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "learning-progress-analytics query API", "version": "1",
                 "description": "Groups, batches, catalog and plugins; see docs/api.md.", **(extra_info or {})},
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    spec = current_app.extensions.get("lpa.openapi")
    if spec is None:
        spec = current_app.extensions["lpa.openapi"] = build_spec()
    return Response(json.dumps(spec), mimetype="application/json")


@bp.get("/docs")
def docs() -> Response:
    """A self-contained page (no CDN): every operation, then every schema."""
    spec = current_app.extensions.get("lpa.openapi") or build_spec()
    esc = html.escape
    rows = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            lock = " &#128274;" if op.get("security") else ""
            codes = ", ".join(op["responses"])
            body_ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body_name = body_ref.get("$ref", "").rsplit("/", 1)[-1]
            rows.append(f"<tr><td><code>{esc(method.upper())}</code></td><td><code>{esc(path)}</code>{lock}</td>"
                        f"<td>{esc(op['summary'])}</td><td>{esc(body_name)}</td><td>{esc(codes)}</td></tr>")
    schemas = "".join(f"<h3 id='{esc(name)}'>{esc(name)}</h3><pre>{esc(json.dumps(schema, indent=2))}</pre>"
                      for name, schema in spec["components"]["schemas"].items())
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(spec['info']['title'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}td,th{{padding:.2em .6em;text-align:left;
vertical-align:top}}tr:nth-child(even){{background:#f4f4f4}}pre{{background:#f8f8f8;padding:.5em}}</style></head>
<body><h1>{esc(spec['info']['title'])}</h1><p>{esc(spec['info']['description'])} Machine-readable:
<a href="/openapi.json">/openapi.json</a>. &#128274; = needs <code>Authorization: Bearer &lt;token&gt;</code>.
Errors are <code>{{"error": {{"code", "message", "details"}}}}</code>.</p>
<table><tr><th>Method</th><th>Path</th><th>What</th><th>Body</th><th>Statuses</th></tr>{''.join(rows)}</table>
<h2>Schemas</h2>{schemas}</body></html>"""
    return Response(page, mimetype="text/html")
