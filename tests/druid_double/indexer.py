"""The Overlord's side of the double: supervisors kept as specs, and batch index tasks actually run.

- A Kafka supervisor spec is validated and stored; reading it back returns it the way Druid does, with the
  defaults filled in and dataSchema/ioConfig/tuningConfig repeated at the top level, so that a client
  comparing "what I submit" with "what runs" must cope with Druid's real answer. It consumes nothing.
- An `index_parallel` (or `index`) task with an `inline` or `local` input source and a json, csv or parquet
  input format loads its rows into the datasource's DuckDB table; `appendToExisting: false` replaces the
  segment-granularity time chunks the rows fall in, as Druid does. Transforms and rollup are refused
  rather than silently ignored.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb

from tests.druid_double.dialect import DATASOURCE_SCHEMA

_SUPERVISOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "ioConfig": {"replicas": 1, "taskCount": 1, "taskDuration": "PT3600S", "startDelay": "PT5S",
                 "period": "PT30S", "useEarliestOffset": False, "completionTimeout": "PT1800S",
                 "lateMessageRejectionPeriod": None, "autoScalerConfig": None, "pollTimeout": 100},
    "tuningConfig": {"maxRowsInMemory": 150000, "maxBytesInMemory": 0, "maxRowsPerSegment": 5000000,
                     "intermediatePersistPeriod": "PT10M", "chatRetries": 8, "httpTimeout": "PT10S",
                     "resetOffsetAutomatically": False},
}
_DUCK_TYPES = {"string": "VARCHAR", "long": "BIGINT", "double": "DOUBLE", "float": "FLOAT", "json": "VARCHAR"}
_CHUNKS = {"HOUR": "hour", "DAY": "day", "WEEK": "week", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}


class IndexerError(ValueError):
    """A spec the Overlord would refuse (HTTP 400)."""


def _with_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    running = copy.deepcopy(spec)
    inner = running.setdefault("spec", {})
    for part, defaults in _SUPERVISOR_DEFAULTS.items():
        inner[part] = {**defaults, **inner.get(part, {})}
    inner["tuningConfig"].setdefault("type", running.get("type"))
    inner["dataSchema"].setdefault("transformSpec", {"filter": None, "transforms": []})
    for part in ("dataSchema", "ioConfig", "tuningConfig"):
        running[part] = copy.deepcopy(inner[part])
    running.setdefault("context", None)
    running.setdefault("suspended", False)
    return running


class Indexer:
    def __init__(self, conn: duckdb.DuckDBPyConnection, lock: threading.Lock) -> None:
        self._conn = conn
        self._lock = lock
        self.supervisors: dict[str, dict[str, Any]] = {}
        self.supervisor_posts = 0
        self.tasks: dict[str, dict[str, Any]] = {}
        self.task_specs: dict[str, dict[str, Any]] = {}
        self.task_delay_s = 0.0

    # -- supervisors -------------------------------------------------------------------------------------
    def submit_supervisor(self, spec: dict[str, Any]) -> str:
        if spec.get("type") not in ("kafka", "kinesis"):
            raise IndexerError(f"Could not resolve type id '{spec.get('type')}' as a supervisor spec")
        inner = spec.get("spec") or {}
        datasource = (inner.get("dataSchema") or {}).get("dataSource")
        if not datasource:
            raise IndexerError("dataSchema.dataSource must not be null")
        if not (inner.get("ioConfig") or {}).get("topic") and not (inner.get("ioConfig") or {}).get("topicPattern"):
            raise IndexerError("Either topic or topicPattern must be specified")
        self.supervisor_posts += 1
        self.supervisors[spec.get("id") or datasource] = _with_defaults(spec)
        return spec.get("id") or datasource

    def supervisor(self, supervisor_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.supervisors.get(supervisor_id))

    # -- tasks -------------------------------------------------------------------------------------------
    def submit_task(self, spec: dict[str, Any]) -> str:
        if spec.get("type") not in ("index_parallel", "index"):
            raise IndexerError(f"the double runs index_parallel/index tasks only, not {spec.get('type')!r}")
        schema = (spec.get("spec") or {}).get("dataSchema") or {}
        datasource = schema.get("dataSource")
        if not datasource:
            raise IndexerError("dataSchema.dataSource must not be null")
        task_id = spec.get("id") or f"{spec['type']}_{datasource}_{uuid.uuid4().hex[:8]}"
        self.task_specs[task_id] = spec
        self.tasks[task_id] = {"id": task_id, "groupId": task_id, "type": spec["type"], "dataSource": datasource,
                               "createdTime": dt.datetime.now(dt.UTC).isoformat(), "statusCode": "RUNNING",
                               "status": "RUNNING", "runnerStatusCode": "RUNNING", "duration": -1,
                               "location": {"host": "127.0.0.1", "port": -1, "tlsPort": -1}, "errorMsg": None}
        threading.Thread(target=self._run_task, args=(task_id, spec), daemon=True).start()
        return task_id

    def _run_task(self, task_id: str, spec: dict[str, Any]) -> None:
        started = time.monotonic()
        time.sleep(self.task_delay_s)
        try:
            self._ingest(spec["spec"])
            status, error = "SUCCESS", None
        except Exception as exc:  # a failed task reports its error, as Druid's do
            status, error = "FAILED", f"{type(exc).__name__}: {exc}"
        self.tasks[task_id].update(statusCode=status, status=status, runnerStatusCode="NONE", errorMsg=error,
                                   duration=int((time.monotonic() - started) * 1000))

    def _ingest(self, spec: dict[str, Any]) -> None:
        schema, io_config = spec["dataSchema"], spec.get("ioConfig") or {}
        transforms = (schema.get("transformSpec") or {}).get("transforms") or []
        if transforms or (schema.get("granularitySpec") or {}).get("rollup"):
            raise IndexerError("the double does not evaluate transforms or rollup")
        ts_spec = schema.get("timestampSpec") or {"column": "timestamp", "format": "auto"}
        dims = [d if isinstance(d, dict) else {"type": "string", "name": d}
                for d in (schema.get("dimensionsSpec") or {}).get("dimensions", [])]
        columns = {d["name"]: _DUCK_TYPES.get(d.get("type", "string"), "VARCHAR")
                   + ("[]" if "multiValueHandling" in d else "") for d in dims}
        table = f'{DATASOURCE_SCHEMA}."{schema["dataSource"]}"'
        records = list(_read(io_config.get("inputSource") or {}, io_config.get("inputFormat") or {}))
        rows = []
        for record in records:
            millis = _timestamp(record.get(ts_spec["column"]), ts_spec.get("format", "auto"))
            rows.append([dt.datetime.fromtimestamp(millis / 1000, dt.UTC).replace(tzinfo=None),
                         *(_cell(record.get(name), kind) for name, kind in columns.items())])
        chunk = _CHUNKS.get(str((schema.get("granularitySpec") or {}).get("segmentGranularity", "DAY")).upper())
        with self._lock:
            cur = self._conn.cursor()
            cols = ", ".join(f'"{n}" {t}' for n, t in columns.items())
            cur.execute(f'CREATE TABLE IF NOT EXISTS {table} ("__time" TIMESTAMP NOT NULL, {cols})')
            cur.execute("BEGIN")
            if not io_config.get("appendToExisting", False):
                if chunk is None:  # segmentGranularity ALL: one chunk, the whole datasource
                    cur.execute(f"DELETE FROM {table}")
                else:
                    for start in {_floor(r[0], chunk) for r in rows}:
                        cur.execute(f"DELETE FROM {table} WHERE date_trunc('{chunk}', \"__time\") = ?", [start])
            names = ", ".join(['"__time"', *(f'"{n}"' for n in columns)])
            if rows:
                cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * (len(columns) + 1))})",
                                rows)
            cur.execute("COMMIT")


def _floor(ts: dt.datetime, chunk: str) -> dt.datetime:
    if chunk == "hour":
        return ts.replace(minute=0, second=0, microsecond=0)
    day = ts.replace(hour=0, minute=0, second=0, microsecond=0)
    if chunk == "week":
        return day - dt.timedelta(days=day.weekday())
    if chunk == "month":
        return day.replace(day=1)
    if chunk == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if chunk == "year":
        return day.replace(month=1, day=1)
    return day


def _cell(value: Any, kind: str) -> Any:
    if kind.endswith("[]"):
        return None if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def _timestamp(value: Any, fmt: str) -> int:
    if value is None:
        raise IndexerError("Unparseable timestamp found! Event: missing timestamp")
    if fmt == "millis" or (fmt == "auto" and isinstance(value, int | float)):
        return int(value)
    if fmt == "posix":
        return int(value) * 1000
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _read(source: dict[str, Any], fmt: dict[str, Any]) -> list[dict[str, Any]]:
    kind = fmt.get("type", "json")
    if source.get("type") == "inline":
        if kind != "json":
            raise IndexerError("the double reads inline data as json only")
        return [json.loads(line) for line in str(source.get("data", "")).splitlines() if line.strip()]
    if source.get("type") != "local":
        raise IndexerError(f"the double reads inline and local input sources, not {source.get('type')!r}")
    files = [Path(f) for f in source.get("files") or []]
    if source.get("baseDir"):
        base, pattern = Path(source["baseDir"]), source.get("filter") or "*"
        files += sorted(p for p in base.rglob("*") if p.is_file() and fnmatch.fnmatch(p.name, pattern))
    if not files:
        raise IndexerError(f"no input files under {source}")
    records: list[dict[str, Any]] = []
    for path in files:
        if kind == "json":
            records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        elif kind in ("parquet", "csv"):
            reader = "read_parquet" if kind == "parquet" else "read_csv_auto"
            rel = duckdb.sql(f"SELECT * FROM {reader}(?)", params=[str(path)])
            names = [c for c in rel.columns]
            records += [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
        else:
            raise IndexerError(f"the double reads json, csv and parquet, not {kind!r}")
    return records
