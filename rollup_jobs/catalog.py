"""The catalog as small Spark lookup tables, built on the driver from the hierarchy JSON files.

The hierarchies are parsed by ingestion.hierarchy.parse_hierarchy, the same parser the stream uses, so unit
ids, leaf and optional flags are the stream's. Catalogs are small (thousands of nodes), so the lookups are
broadcast to every executor rather than shuffled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ingestion.hierarchy import CourseHierarchy, HierarchyError, parse_hierarchy
from rollup_jobs.errors import CatalogError

NODES_SCHEMA = T.StructType([
    T.StructField("course_id", T.StringType(), False),
    T.StructField("content_id", T.StringType(), False),
    T.StructField("unit_ids", T.ArrayType(T.StringType()), False),
    T.StructField("is_leaf", T.LongType(), False),
    T.StructField("is_optional", T.LongType(), False),
])
COURSES_SCHEMA = T.StructType([T.StructField("course_id", T.StringType(), False)])
SCOPES_SCHEMA = T.StructType([
    T.StructField("course_id", T.StringType(), False),
    T.StructField("level", T.StringType(), False),
    T.StructField("unit_id", T.StringType(), False),
    T.StructField("leaf_count", T.LongType(), False),
])
SCOPE_LEAVES_SCHEMA = T.StructType([
    T.StructField("course_id", T.StringType(), False),
    T.StructField("unit_id", T.StringType(), False),
    T.StructField("leaf_id", T.StringType(), False),
])


def load_catalog(folder: str | Path) -> list[CourseHierarchy]:
    """Every `*.json` file under the folder (one course each, or a list of courses); a later file with the
    same course id replaces the earlier one, like a republish."""
    root = Path(folder)
    if not root.is_dir():
        raise CatalogError(f"catalog folder {root} does not exist")
    courses: dict[str, CourseHierarchy] = {}
    files = sorted(root.rglob("*.json"))
    if not files:
        raise CatalogError(f"catalog folder {root} has no .json files")
    for path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CatalogError(f"{path}: not a readable JSON file ({error})") from error
        for index, item in enumerate(doc if isinstance(doc, list) else [doc]):
            try:
                course = parse_hierarchy(item)
            except HierarchyError as error:
                where = f"{path}[{index}]" if isinstance(doc, list) else str(path)
                raise CatalogError(f"{where}: {error}") from error
            courses[course.course_id] = course
    return list(courses.values())


@dataclass(frozen=True)
class CatalogFrames:
    """The lookups the transforms join with (each small enough to broadcast)."""

    courses: DataFrame  # course_id
    nodes: DataFrame  # course_id, content_id -> unit_ids, is_leaf, is_optional
    scopes: DataFrame  # course_id -> (level, unit_id, leaf_count): the course and its reported units
    scope_leaves: DataFrame  # course_id, unit_id, leaf_id: non-optional leaves of each scope

    def broadcast(self) -> CatalogFrames:
        return CatalogFrames(*(F.broadcast(df) for df in (self.courses, self.nodes, self.scopes,
                                                          self.scope_leaves)))


def catalog_frames(spark: SparkSession, courses: list[CourseHierarchy]) -> CatalogFrames:
    nodes = [(c.course_id, node_id, list(p.ancestor_ids), int(p.is_leaf), int(p.optional))
             for c in courses for node_id, p in c.nodes.items()]
    scopes: list[tuple[str, str, str, int]] = []
    leaves: list[tuple[str, str, str]] = []
    for c in courses:
        scopes.append((c.course_id, "course", c.course_id, c.leaf_count))
        leaves.extend((c.course_id, c.course_id, leaf) for leaf in sorted(c.leaf_ids))
        for unit in c.reported_units:
            scopes.append((c.course_id, "unit", unit.unit_id, unit.leaf_count))
            leaves.extend((c.course_id, unit.unit_id, leaf) for leaf in sorted(unit.leaf_ids))
    return CatalogFrames(
        courses=spark.createDataFrame([(c.course_id,) for c in courses], COURSES_SCHEMA),
        nodes=spark.createDataFrame(nodes, NODES_SCHEMA),
        scopes=spark.createDataFrame(scopes, SCOPES_SCHEMA),
        scope_leaves=spark.createDataFrame(leaves, SCOPE_LEAVES_SCHEMA),
    ).broadcast()
