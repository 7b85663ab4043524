"""Druid adapter of the analytics store (production), over Druid SQL's HTTP API (`POST /druid/v2/sql`).

The query text is the shared one (query_api/store/queries.py); this adapter only supplies what differs:
- relations: Druid keeps no materialised state, so `content_state` and `course_activity` are aggregating
  subqueries over the enriched datasource (MAX(status) per learner/batch/course/content; MAX(__time) per
  learner/batch/course), and the current leaves come from a second, small datasource (below);
- wire format: values travel as SQL dynamic parameters (`?` + typed `parameters`), never in the text;
  exact counts (`useApproximateCountDistinct: false`, `useApproximateTopN: false`); a `sqlQueryId` per
  request (logged, and returned in error details, to find the query in Druid's request logs); results as
  `arrayLines` with a header, whose final blank line tells a complete answer from one cut mid-stream;
- time: Druid stops the query at `context.timeout`; the client's read deadline is a little later, so Druid's
  own 504 (with its message) arrives first, and a connect timeout keeps a dead router from holding a worker.

Why `requests` with a Session, not pydruid or an async client: pydruid's DB-API interpolates values into
the SQL text on the client (no server-side parameters), has no timeouts and reads the `object` format,
which cannot show truncation. It stays what analysts and Superset use (docs/analysts.md). The API runs in
synchronous gunicorn workers, so an async client (httpx/aiohttp) would buy nothing; `requests` is already
a dependency (pydruid's own), its Session pools keep-alive connections to the router per worker, and its
`(connect, read)` timeout tuple is exactly the two bounds we need.

Leaves datasource (`lpa_course_leaves`): a catalog republish appends a new *version* of the course's leaf
set (an `index_parallel` task with inline input; the version is the rows' `__time`); queries read, per
course, only the rows of its latest version. A version carries a marker row, so a republish that leaves
no leaves still supersedes the previous set. Appending (instead of overwriting time chunks) keeps every
course independent and the switch atomic: a task's segments are published together. Old versions are
dead weight to be compacted or dropped by a retention rule (docs/druid.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests

from ingestion.hierarchy import CourseHierarchy
from query_api.store import queries
from query_api.store.base import AnalyticsStore, CourseProgressRow, ProgressRows, UnitProgressRow
from query_api.store.druid_errors import (
    DruidError,
    DruidTimeout,
    DruidUnavailable,
    error_from_response,
)
from query_api.store.plugin_queries import PluginQueries, PluginRelation, RelationText
from query_api.store.queries import Relation, RelationMap

log = logging.getLogger(__name__)

ENRICHED_DATASOURCE = "lpa_enriched"  # = ingestion.specs.render.DATASOURCE (a test checks)
LEAVES_DATASOURCE = "lpa_course_leaves"
SQL_PATH = "/druid/v2/sql"
TASK_PATH = "/druid/indexer/v1/task"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")  # datasource names allowed into SQL text
_CLIENT_GRACE_S = 2.0  # our read deadline trails Druid's `context.timeout`, so Druid's 504 arrives first
_MARKER = "version"  # kind of the row that makes an empty leaf set a version of its own


def _checked(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a datasource name: {name!r}")
    return name


def druid_relations(enriched: str = ENRICHED_DATASOURCE, leaves: str = LEAVES_DATASOURCE) -> RelationMap:
    """The shared queries' logical relations, in Druid SQL (the adapter's allow-list)."""
    ds, lv = f'"{_checked(enriched)}"', f'"{_checked(leaves)}"'
    state_events = f"FROM {ds} WHERE eid = 'BE_JOB_REQUEST'"
    current = (f"FROM {lv} l INNER JOIN (SELECT course_id, MAX(__time) AS version FROM {lv} GROUP BY course_id) v"
               " ON l.course_id = v.course_id AND l.__time = v.version")
    return {
        Relation.CONTENT_STATE: (
            "(SELECT user_id, batch_id, course_id, content_id, MAX(status) AS status,"
            f" TIMESTAMP_TO_MILLIS(MAX(__time)) AS last_ets {state_events}"
            " AND content_id IS NOT NULL AND status IS NOT NULL GROUP BY user_id, batch_id, course_id, content_id)"),
        Relation.COURSE_ACTIVITY: (
            f"(SELECT user_id, batch_id, course_id, TIMESTAMP_TO_MILLIS(MAX(__time)) AS last_ets {state_events}"
            " GROUP BY user_id, batch_id, course_id)"),
        Relation.COURSE_LEAVES: f"(SELECT l.course_id, l.leaf_id {current} WHERE l.kind = 'course')",
        Relation.UNIT_LEAVES: f"(SELECT l.course_id, l.unit_id, l.leaf_id {current} WHERE l.kind = 'unit')",
    }


def druid_plugin_relations(enriched: str = ENRICHED_DATASOURCE, leaves: str = LEAVES_DATASOURCE) -> RelationText:
    """The group plugins' logical relations (query_api/store/plugin_queries.py) in Druid SQL."""
    ds = f'"{_checked(enriched)}"'
    return {
        **druid_relations(enriched, leaves),
        PluginRelation.ASSESSMENT_ATTEMPTS: (
            "(SELECT user_id, batch_id, course_id, content_id, attempt_id, score, max_score,"
            f" TIMESTAMP_TO_MILLIS(__time) AS ets FROM {ds} WHERE eid = 'LPA_ASSESSMENT')"),
        PluginRelation.LEAF_COMPLETIONS: (
            "(SELECT user_id, batch_id, course_id, content_id, TIMESTAMP_TO_MILLIS(MIN(__time)) AS first_ets"
            f" FROM {ds} WHERE eid = 'BE_JOB_REQUEST' AND status = 2"
            " GROUP BY user_id, batch_id, course_id, content_id)"),
    }


def sql_parameter(value: Any) -> dict[str, Any]:
    """A Python value as a typed Druid SQL dynamic parameter."""
    if value is None:
        return {"type": "VARCHAR", "value": None}
    if isinstance(value, bool):
        return {"type": "BOOLEAN", "value": value}
    if isinstance(value, int):
        return {"type": "BIGINT", "value": value}
    if isinstance(value, float):
        return {"type": "DOUBLE", "value": value}
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return {"type": "TIMESTAMP", "value": int(aware.timestamp() * 1000)}
    if isinstance(value, str):
        return {"type": "VARCHAR", "value": value}
    raise TypeError(f"no Druid SQL parameter type for {type(value).__name__}")


@dataclass(frozen=True)
class SqlResult:
    columns: list[str]
    sql_types: list[str]
    rows: list[list[Any]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def parse_array_lines(body: str, *, query_id: str) -> SqlResult:
    """`arrayLines` with header + sqlTypesHeader: names, SQL types, rows, then a blank line. A body without
    the final blank line was cut off mid-stream (Druid's way to report a late failure): an error, never a
    short answer."""
    if not body.endswith("\n\n"):
        raise DruidUnavailable("Druid's answer was cut off (no final blank line): treating it as failed",
                               query_id=query_id)
    try:
        lines = [json.loads(line) for line in body[:-2].split("\n")] if body[:-2] else []
    except ValueError as error:
        raise DruidUnavailable(f"Druid's answer is not arrayLines: {error}", query_id=query_id) from error
    if len(lines) < 2:
        raise DruidUnavailable("Druid's answer has no header rows", query_id=query_id)
    return SqlResult(columns=lines[0], sql_types=lines[1], rows=lines[2:])


class DruidStore(PluginQueries, AnalyticsStore):
    """Progress (and any shared query) over Druid SQL; catalog leaves via an index task."""

    kind = "druid"

    def __init__(self, url: str, *, datasource: str = ENRICHED_DATASOURCE, leaves_datasource: str = LEAVES_DATASOURCE,
                 timeout_s: float = 5.0, connect_timeout_s: float = 2.0, leaves_wait_s: float = 120.0,
                 session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.datasource = _checked(datasource)
        self.leaves_datasource = _checked(leaves_datasource)
        self.relations = druid_relations(datasource, leaves_datasource)
        self.plugin_relations = druid_plugin_relations(datasource, leaves_datasource)
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._leaves_wait_s = leaves_wait_s
        self._session = session or requests.Session()
        self._version_lock = threading.Lock()
        self._last_version = 0

    # -- generic SQL -------------------------------------------------------------------------------------
    def run_sql(self, sql: str, params: Sequence[Any] = (), *, timeout_s: float | None = None) -> SqlResult:
        """Run one Druid SQL query (values as `?` parameters). Raises DruidError subclasses, never hangs."""
        budget = timeout_s or self._timeout_s
        query_id = f"lpa-{uuid.uuid4()}"
        payload = {
            "query": sql,
            "parameters": [sql_parameter(p) for p in params],
            "resultFormat": "arrayLines",
            "header": True,
            "sqlTypesHeader": True,
            "context": {"sqlQueryId": query_id, "timeout": int(budget * 1000), "sqlTimeZone": "Etc/UTC",
                        "useApproximateCountDistinct": False, "useApproximateTopN": False},
        }
        started = time.monotonic()
        body = self._post_sql(payload, query_id, budget)
        result = parse_array_lines(body, query_id=query_id)
        log.debug("druid query %s: %d rows in %.3f s", query_id, len(result.rows), time.monotonic() - started)
        return result

    def _post_sql(self, payload: dict[str, Any], query_id: str, budget: float) -> str:
        deadline = time.monotonic() + budget + _CLIENT_GRACE_S
        try:
            with self._session.post(self.url + SQL_PATH, json=payload, stream=True,
                                    timeout=(self._connect_timeout_s, budget + _CLIENT_GRACE_S)) as response:
                chunks = []
                for chunk in response.iter_content(chunk_size=65536):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:  # a slow drip: `read` timeouts are per recv, not total
                        raise DruidTimeout(f"Druid's answer took longer than {budget:g} s", query_id=query_id)
                body = b"".join(chunks)
                status = response.status_code
        except requests.ConnectTimeout as error:
            raise DruidUnavailable(f"cannot reach Druid at {self.url} (connect timeout)", query_id=query_id) \
                from error
        except requests.ReadTimeout as error:
            raise DruidTimeout(f"Druid did not answer within {budget:g} s", query_id=query_id) from error
        except requests.RequestException as error:  # refused, reset, DNS, a connection cut mid-body
            raise DruidUnavailable(f"cannot reach Druid at {self.url}: {type(error).__name__}",
                                   query_id=query_id) from error
        if status != 200:
            error = error_from_response(status, body, query_id=query_id)
            log.warning("druid query %s failed: HTTP %s %s", query_id, status, error.message)
            raise error
        return body.decode("utf-8")

    # -- AnalyticsStore ----------------------------------------------------------------------------------
    def progress_rows(self, user_ids: Sequence[str], course_ids: Sequence[str]) -> ProgressRows:
        users, courses = list(dict.fromkeys(user_ids)), list(dict.fromkeys(course_ids))
        if not users or not courses:
            return ProgressRows(courses=[], units=[])
        course_result = self.run_sql(queries.course_progress_sql(self.relations, len(users), len(courses)),
                                     queries.course_progress_params(users, courses))
        unit_result = self.run_sql(queries.unit_progress_sql(self.relations, len(users), len(courses)),
                                   queries.unit_progress_params(users, courses))
        return ProgressRows(
            courses=[CourseProgressRow(str(u), str(b), str(c), int(n), int(ets)) for u, b, c, n, ets in
                     course_result.rows],
            units=[UnitProgressRow(str(u), str(b), str(c), str(unit), int(n)) for u, b, c, unit, n in
                   unit_result.rows])

    def ping(self) -> None:
        self.run_sql(queries.PING_SQL, timeout_s=min(self._timeout_s, 2.0))

    def _select(self, sql: str, params: list[object]) -> list[Sequence[object]]:
        return self.run_sql(sql, params).rows

    def replace_course_leaves(self, course: CourseHierarchy) -> None:
        """Append a new version of the course's leaves and wait (bounded) until Druid has indexed it."""
        version = self._next_version()
        deadline = time.monotonic() + self._leaves_wait_s
        task_id = self.submit_task(leaves_task_spec(self.leaves_datasource, course, version))
        self.wait_for_task(task_id, self._leaves_wait_s)
        # A task's success is not yet visibility: Historicals load the new segment shortly after.
        self._wait_visible(course.course_id, version, deadline)

    def _wait_visible(self, course_id: str, version: int, deadline: float) -> None:
        sql = f'SELECT TIMESTAMP_TO_MILLIS(MAX(__time)) FROM "{self.leaves_datasource}" WHERE course_id = ?'
        poll_s = 0.05
        while True:
            try:
                seen = self.run_sql(sql, [course_id]).rows[0][0]
            except DruidUnavailable:  # the datasource's first segment may not be served yet
                seen = None
            if seen is not None and int(seen) >= version:
                return
            if time.monotonic() >= deadline:
                raise DruidTimeout(f"leaves of {course_id} (version {version}) not queryable in time")
            time.sleep(poll_s)
            poll_s = min(poll_s * 2, 2.0)

    def _next_version(self) -> int:
        with self._version_lock:
            self._last_version = max(int(time.time() * 1000), self._last_version + 1)
            return self._last_version

    # -- indexer -----------------------------------------------------------------------------------------
    def submit_task(self, spec: dict[str, Any]) -> str:
        try:
            response = self._session.post(self.url + TASK_PATH, json=spec,
                                          timeout=(self._connect_timeout_s, self._timeout_s))
        except requests.RequestException as error:
            raise DruidUnavailable(f"cannot submit a task to Druid at {self.url}: {type(error).__name__}") \
                from error
        if response.status_code != 200:
            raise error_from_response(response.status_code, response.content)
        return str(response.json()["task"])

    def wait_for_task(self, task_id: str, wait_s: float, *, poll_s: float = 0.05) -> dict[str, Any]:
        """The task's final status; DruidError when it failed, DruidTimeout when still running at wait_s."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                response = self._session.get(f"{self.url}{TASK_PATH}/{task_id}/status",
                                             timeout=(self._connect_timeout_s, self._timeout_s))
            except requests.RequestException as error:
                raise DruidUnavailable(f"cannot read task {task_id} status: {type(error).__name__}") from error
            if response.status_code != 200:
                raise error_from_response(response.status_code, response.content)
            status = response.json().get("status") or {}
            state = status.get("statusCode") or status.get("status")
            if state == "SUCCESS":
                return status
            if state == "FAILED":
                raise DruidError(f"Druid task {task_id} failed: {status.get('errorMsg')}")
            if time.monotonic() >= deadline:
                raise DruidTimeout(f"Druid task {task_id} still {state} after {wait_s:g} s")
            time.sleep(poll_s)
            poll_s = min(poll_s * 2, 2.0)


def leaves_rows(course: CourseHierarchy, version: int) -> list[dict[str, Any]]:
    """One version of a course's current non-optional leaves: course rows, unit rows, one marker row."""
    base = {"version": version, "course_id": course.course_id}
    rows = [base | {"kind": _MARKER, "unit_id": None, "leaf_id": None}]
    rows += [base | {"kind": "course", "unit_id": None, "leaf_id": leaf} for leaf in sorted(course.leaf_ids)]
    rows += [base | {"kind": "unit", "unit_id": unit.unit_id, "leaf_id": leaf}
             for unit in course.reported_units for leaf in sorted(unit.leaf_ids)]
    return rows


def leaves_task_spec(datasource: str, course: CourseHierarchy, version: int) -> dict[str, Any]:
    """The index_parallel task that appends one version of the course's leaves (inline input)."""
    data = "\n".join(json.dumps(row, separators=(",", ":")) for row in leaves_rows(course, version))
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": _checked(datasource),
                "timestampSpec": {"column": "version", "format": "millis"},
                "dimensionsSpec": {"dimensions": ["course_id", "kind", "unit_id", "leaf_id"]},
                "granularitySpec": {"segmentGranularity": "MONTH", "queryGranularity": "NONE", "rollup": False},
            },
            "ioConfig": {"type": "index_parallel", "inputSource": {"type": "inline", "data": data},
                         "inputFormat": {"type": "json"}, "appendToExisting": True},
            "tuningConfig": {"type": "index_parallel", "maxNumConcurrentSubTasks": 1},
        },
    }
