"""A stand-in for a Druid router's HTTP API, backed by DuckDB, for tests on a machine without Druid.

Same request and response shapes as Druid (docs `api-reference/sql-api.md`, `supervisor-api.md`,
`tasks-api.md`): `POST /druid/v2/sql` (JSON or text body; `query`, `parameters` [{type, value}], `context`,
`resultFormat`, `header`, `typesHeader`, `sqlTypesHeader`; the `sqlQueryId` echoed in
`X-Druid-SQL-Query-Id`), `GET /status/health`, the supervisor and task endpoints of the Overlord. Errors use
Druid's two JSON envelopes. Faults are injected per instance: latency (honouring the query's
`context.timeout` with Druid's 504 unless told to hang), queued failures with any status and body, and
truncated bodies (a response cut mid-stream, as Druid does when a query fails after the first bytes).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import duckdb
from flask import Flask, Response, request

from tests.druid_double import dialect, results
from tests.druid_double.indexer import Indexer, IndexerError

HOST = "druid-double:8082"
_READ_ONLY = re.compile(r"^\s*(SELECT|WITH|EXPLAIN|VALUES)\b", re.IGNORECASE)
_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist", re.IGNORECASE)


def druid_exception(message: str, *, code: str = "invalidInput", category: str = "INVALID_INPUT",
                    persona: str = "USER") -> dict[str, Any]:
    """Druid 28+'s envelope for planning and validation errors."""
    return {"error": "druidException", "errorCode": code, "persona": persona, "category": category,
            "errorMessage": message, "context": {"sourceType": "sql"}}


def legacy_error(error: str, message: str, error_class: str, *, category: str) -> dict[str, Any]:
    """The legacy envelope for runtime failures on data servers (`error` is a message here)."""
    return {"error": error, "errorMessage": message, "errorClass": error_class, "host": HOST,
            "errorCode": "legacyQueryException", "persona": "OPERATOR", "category": category}


TIMEOUT_BODY = legacy_error("Query timeout", f"url[http://{HOST}/druid/v2/] timed out",
                            "org.apache.druid.query.QueryTimeoutException", category="TIMEOUT")


@dataclass
class Faults:
    latency_s: float = 0.0
    hang: bool = False  # ignore context.timeout: only the client's own read timeout ends the wait
    failures: collections.deque[tuple[int, Any]] = field(default_factory=collections.deque)
    truncate: int = 0
    health_ok: bool = True


_PARAM_TYPES = {"VARCHAR", "CHAR", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "REAL",
                "DECIMAL", "BOOLEAN", "TIMESTAMP", "DATE", "ARRAY"}


def _param(p: Any, position: int) -> Any:
    if not isinstance(p, dict) or "type" not in p or str(p["type"]).upper() not in _PARAM_TYPES:
        raise ValueError(f"Parameter at position [{position}] has no valid SQL type: {p!r}")
    kind, value = str(p["type"]).upper(), p.get("value")
    if value is None:
        return None
    if kind == "TIMESTAMP":
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value / 1000, dt.UTC).replace(tzinfo=None)
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)
    if kind in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        return int(value)
    if kind in ("DOUBLE", "FLOAT", "REAL", "DECIMAL"):
        return float(value)
    return value


class DruidDouble:
    """One double: its own in-memory DuckDB, its own faults, its own Flask app."""

    def __init__(self) -> None:
        self.conn = duckdb.connect(":memory:")
        dialect.prepare(self.conn)
        self.lock = threading.Lock()
        self.indexer = Indexer(self.conn, self.lock)
        self.faults = Faults()
        self.sql_requests: list[dict[str, Any]] = []
        self.app = self._build_app()

    # -- fault injection ---------------------------------------------------------------------------------
    def fail_next(self, status: int, body: Any = None, times: int = 1) -> None:
        body = body if body is not None else druid_exception("injected failure", code="general",
                                                              category="RUNTIME_FAILURE", persona="OPERATOR")
        self.faults.failures.extend([(status, body)] * times)

    def reset_faults(self) -> None:
        self.faults = Faults()

    # -- SQL ---------------------------------------------------------------------------------------------
    def run_sql(self, payload: dict[str, Any]) -> tuple[int, str, str]:
        """(status, body, content type) for one SQL request."""
        query = payload.get("query")
        if not isinstance(query, str) or not query.strip():
            return 400, json.dumps(druid_exception("Query must not be empty")), "application/json"
        fmt = payload.get("resultFormat", "object")
        if fmt not in results.FORMATS:
            return 400, json.dumps(druid_exception(f"Unknown resultFormat [{fmt}]")), "application/json"
        context = payload.get("context") or {}
        if self.faults.failures:
            status, body = self.faults.failures.popleft()
            return status, body if isinstance(body, str) else json.dumps(body), "application/json"
        if self.faults.latency_s:
            timeout_ms = context.get("timeout")
            if timeout_ms is not None and not self.faults.hang and int(timeout_ms) / 1000 < self.faults.latency_s:
                time.sleep(int(timeout_ms) / 1000)
                return 504, json.dumps(TIMEOUT_BODY), "application/json"
            time.sleep(self.faults.latency_s)
        if not _READ_ONLY.match(query):
            return 400, json.dumps(druid_exception("The SQL API runs queries only (SELECT, WITH, EXPLAIN)")), \
                "application/json"
        try:
            params = [_param(p, i + 1) for i, p in enumerate(payload.get("parameters") or [])]
        except (ValueError, TypeError) as exc:
            return 400, json.dumps(druid_exception(str(exc))), "application/json"
        try:
            cur = self.conn.cursor()
            dialect.use_druid_schema(cur)
            rel = cur.execute(dialect.translate(query), params)
            rows = rel.fetchall()
            names = [d[0] for d in rel.description or []]
            types = [str(d[1]) for d in rel.description or []]
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
                duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            message = str(exc)
            missing = _MISSING_TABLE.search(message)
            if missing:
                message = f"Object '{missing.group(1).strip('!')}' not found"
            return 400, json.dumps(druid_exception(message)), "application/json"
        except duckdb.Error as exc:  # a runtime failure: Druid answers 500 (e.g. "/ by zero")
            body = druid_exception(str(exc), code="general", category="UNCATEGORIZED", persona="ADMIN")
            return 500, json.dumps(body), "application/json"
        body = results.render(names, types, rows, fmt=fmt, header=bool(payload.get("header")),
                              types_header=bool(payload.get("typesHeader")),
                              sql_types_header=bool(payload.get("sqlTypesHeader")))
        if self.faults.truncate:
            self.faults.truncate -= 1
            body = body[: max(0, len(body) - 3)]
        return 200, body, results.CONTENT_TYPES[fmt]

    # -- HTTP --------------------------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("druid_double")

        def as_json(data: Any, status: int = 200) -> Response:
            return Response(json.dumps(data), status=status, mimetype="application/json")

        @app.post("/druid/v2/sql")
        @app.post("/druid/v2/sql/")
        def sql() -> Response:
            if request.mimetype == "application/json":
                payload = request.get_json(silent=True)
                if not isinstance(payload, dict):
                    return as_json(druid_exception("Malformed SQL query wrapped in JSON"), 400)
            else:  # text/plain or form-encoded: the body is the query, the answer is `object`
                payload = {"query": request.get_data(as_text=True)}
            self.sql_requests.append(payload)
            query_id = (payload.get("context") or {}).get("sqlQueryId") or str(uuid.uuid4())
            status, body, mimetype = self.run_sql(payload)
            response = Response(body, status=status, mimetype=mimetype)
            response.headers["X-Druid-SQL-Query-Id"] = query_id
            if payload.get("header") and status == 200:
                response.headers["X-Druid-SQL-Header-Included"] = "yes"
            return response

        @app.get("/status/health")
        def health() -> Response:
            return as_json(True) if self.faults.health_ok else as_json(False, 503)

        @app.route("/druid/indexer/v1/supervisor", methods=["GET", "POST"])
        def supervisors() -> Response:
            if request.method == "GET":
                if "full" in request.args:
                    return as_json([{"id": k, "state": "RUNNING", "detailedState": "RUNNING", "healthy": True,
                                     "spec": v, "suspended": False} for k, v in self.indexer.supervisors.items()])
                return as_json(list(self.indexer.supervisors))
            try:
                return as_json({"id": self.indexer.submit_supervisor(request.get_json(force=True))})
            except (IndexerError, AttributeError, TypeError) as exc:
                return as_json({"error": str(exc)}, 400)

        @app.get("/druid/indexer/v1/supervisor/<supervisor_id>")
        def supervisor(supervisor_id: str) -> Response:
            spec = self.indexer.supervisor(supervisor_id)
            if spec is None:
                return as_json({"error": f"[{supervisor_id}] does not exist"}, 404)
            return as_json(spec)

        @app.post("/druid/indexer/v1/task")
        def submit_task() -> Response:
            try:
                return as_json({"task": self.indexer.submit_task(request.get_json(force=True))})
            except (IndexerError, AttributeError, TypeError) as exc:
                return as_json({"error": str(exc)}, 400)

        @app.get("/druid/indexer/v1/task/<task_id>/status")
        def task_status(task_id: str) -> Response:
            status = self.indexer.tasks.get(task_id)
            if status is None:
                return as_json({"task": task_id, "status": None,
                                "error": f"Cannot find any task with id: [{task_id}]"}, 404)
            return as_json({"task": task_id, "status": dict(status)})

        return app
