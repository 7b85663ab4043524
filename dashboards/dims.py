"""The catalog's dimensions the dashboards join to: course and unit names, leaf counts, and which current
non-optional leaf belongs to which course and unit.

They come from the course hierarchies in the metadata store (the catalog), not from the analytics store:
- embedded: `lpa dashboards serve` writes them as three small tables into the DuckDB snapshot it serves;
- Druid: the same rows are ingested as three small datasources (`dims_jsonl` gives the rows; see
  docs/dashboards.md), so the dataset SQL is the same on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from ingestion.hierarchy import CourseHierarchy, HierarchyError, parse_hierarchy

DIM_TABLES: dict[str, str] = {  # logical relation -> DuckDB DDL body (names as in targets.DuckDBTarget)
    "courses": "course_id VARCHAR NOT NULL PRIMARY KEY, course_name VARCHAR NOT NULL, leaf_count BIGINT NOT NULL, "
               "unit_count BIGINT NOT NULL",
    "units": "course_id VARCHAR NOT NULL, unit_id VARCHAR NOT NULL, unit_name VARCHAR NOT NULL, "
             "unit_index BIGINT NOT NULL, unit_label VARCHAR NOT NULL, leaf_count BIGINT NOT NULL",
    "leaves": "course_id VARCHAR NOT NULL, unit_id VARCHAR, leaf_id VARCHAR NOT NULL",
}


class CatalogUnavailable(RuntimeError):
    """The metadata store has no readable catalog (not created yet, or unreachable)."""


def dimension_rows(courses: Iterable[CourseHierarchy]) -> dict[str, list[dict[str, Any]]]:
    """Rows of the three dimensions. Units are the reported (non-optional) ones, numbered in course order;
    a leaf under several units gets a row per unit, a leaf under none one row with unit_id null."""
    rows: dict[str, list[dict[str, Any]]] = {"courses": [], "units": [], "leaves": []}
    for course in sorted(courses, key=lambda c: c.course_id):
        units = course.reported_units
        rows["courses"].append({"course_id": course.course_id, "course_name": course.name,
                                "leaf_count": course.leaf_count, "unit_count": len(units)})
        for index, unit in enumerate(units, start=1):
            rows["units"].append({"course_id": course.course_id, "unit_id": unit.unit_id, "unit_name": unit.name,
                                  "unit_index": index, "unit_label": f"{index:02d}. {unit.name}",
                                  "leaf_count": unit.leaf_count})
        for leaf_id in sorted(course.leaf_ids):
            owners = [u.unit_id for u in units if leaf_id in u.leaf_ids] or [None]
            rows["leaves"].extend({"course_id": course.course_id, "unit_id": unit_id, "leaf_id": leaf_id}
                                  for unit_id in owners)
    return rows


def write_duckdb(conn: duckdb.DuckDBPyConnection, courses: Iterable[CourseHierarchy],
                 table_names: dict[str, str]) -> dict[str, int]:
    """(Re)create the dimension tables in an open DuckDB connection; returns row counts."""
    counts: dict[str, int] = {}
    for logical, rows in dimension_rows(courses).items():
        table = table_names[logical]
        if not table.replace("_", "").isalnum():
            raise ValueError(f"unsafe table name {table!r}")
        conn.execute(f"CREATE OR REPLACE TABLE {table} ({DIM_TABLES[logical]})")
        if rows:
            columns = list(rows[0])
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                             [[row[c] for c in columns] for row in rows])
        counts[table] = len(rows)
    return counts


def dims_jsonl(courses: Iterable[CourseHierarchy], out_dir: Path, table_names: dict[str, str]) -> list[Path]:
    """One JSON-lines file per dimension (for a Druid `index_parallel` with an inline or local input)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for logical, rows in dimension_rows(courses).items():
        path = out_dir / f"{table_names[logical]}.jsonl"
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
        paths.append(path)
    return paths


def load_catalog(metadata_url: str) -> list[CourseHierarchy]:
    """Every course hierarchy in the metadata store's `courses` table (query_api/models/catalog.py)."""
    engine = create_engine(metadata_url)
    try:
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT id, hierarchy FROM courses ORDER BY id")).all()
    except SQLAlchemyError as error:
        raise CatalogUnavailable(f"cannot read the course catalog from {metadata_url}: {error.__class__.__name__}: "
                                 f"{str(error).splitlines()[0]}") from error
    finally:
        engine.dispose()
    courses = []
    for course_id, hierarchy in raw:
        doc = json.loads(hierarchy) if isinstance(hierarchy, str) else hierarchy
        try:
            courses.append(parse_hierarchy(doc))
        except HierarchyError as error:
            raise CatalogUnavailable(f"course {course_id} in the catalog does not parse: {error}") from error
    return courses
