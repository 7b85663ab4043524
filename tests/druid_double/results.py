"""Druid's SQL result formats (`resultFormat`, `header`, `typesHeader`, `sqlTypesHeader`), byte for byte
where it matters: the line formats end with an extra newline (Druid's ArrayLinesWriter writes "\\n\\n"
after the last row) so a client can tell a complete answer from a cut one."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Sequence
from typing import Any

FORMATS = ("object", "array", "objectLines", "arrayLines", "csv")
CONTENT_TYPES = {"object": "application/json", "array": "application/json", "objectLines": "text/plain",
                 "arrayLines": "text/plain", "csv": "text/csv"}


def sql_type(duckdb_type: str) -> str:
    """DuckDB column type -> the SQL type Druid reports."""
    t = duckdb_type.upper()
    if t.endswith("[]"):
        return "VARCHAR"  # a multi-value string dimension reads as VARCHAR in Druid SQL
    if t in ("BIGINT", "HUGEINT", "UBIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        return "BIGINT" if t not in ("INTEGER", "SMALLINT", "TINYINT") else "INTEGER"
    if t.startswith("DECIMAL") or t == "DOUBLE":
        return "DOUBLE"
    if t in ("FLOAT", "REAL"):
        return "FLOAT"
    if t.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    if t in ("DATE", "BOOLEAN"):
        return t
    return "VARCHAR" if t == "VARCHAR" else "OTHER"


def native_type(sql: str) -> str:
    """SQL type -> Druid's runtime type (typesHeader)."""
    return {"VARCHAR": "STRING", "BIGINT": "LONG", "INTEGER": "LONG", "DOUBLE": "DOUBLE", "FLOAT": "FLOAT",
            "TIMESTAMP": "LONG", "DATE": "LONG", "BOOLEAN": "LONG"}.get(sql, "COMPLEX")


def json_value(value: Any) -> Any:
    """A DuckDB value as Druid writes it in JSON: timestamps as ISO-8601 UTC with millis, arrays as their
    JSON string (Druid's default `sqlStringifyArrays: true`)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00.000Z")
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return json.dumps([json_value(v) for v in value], separators=(",", ":"))
    return value


def render(names: Sequence[str], duck_types: Sequence[str], rows: Sequence[Sequence[Any]], *, fmt: str,
           header: bool, types_header: bool, sql_types_header: bool) -> str:
    sql_types = [sql_type(t) for t in duck_types]
    values = [[json_value(v) for v in row] for row in rows]
    if fmt in ("object", "objectLines"):
        objects: list[dict[str, Any]] = []
        if header:
            def describe(i: int) -> dict[str, str] | None:
                meta = {}
                if types_header:
                    meta["type"] = native_type(sql_types[i])
                if sql_types_header:
                    meta["sqlType"] = sql_types[i]
                return meta or None
            objects.append({name: describe(i) for i, name in enumerate(names)})
        objects.extend(dict(zip(names, row, strict=True)) for row in values)
        if fmt == "object":
            return json.dumps(objects)
        return "".join(json.dumps(o) + "\n" for o in objects) + "\n"
    arrays: list[list[Any]] = []
    if header:
        arrays.append(list(names))
        if types_header:
            arrays.append([native_type(t) for t in sql_types])
        if sql_types_header:
            arrays.append(sql_types)
    arrays.extend(values)
    if fmt == "array":
        return json.dumps(arrays)
    if fmt == "arrayLines":
        return "".join(json.dumps(a) + "\n" for a in arrays) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in arrays:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue() + "\n"
