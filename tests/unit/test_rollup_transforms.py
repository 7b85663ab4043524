"""rollup_jobs transforms on tiny DataFrames (chispa), and the schema / id pins against the stream's code."""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from datetime import date
from typing import Any, get_args

import duckdb
import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ingestion.enrich import EVENT_NAMESPACE, fact_row_id
from ingestion.hierarchy import parse_hierarchy
from ingestion.schema import COLUMNS, DruidType, EnrichedRow, druid_type
from rollup_jobs import load
from rollup_jobs.catalog import CatalogFrames, catalog_frames
from rollup_jobs.columns import (
    epoch_ms,
    fact_id,
    is_bad_time,
    python_float_str,
    strict_double,
    strict_long,
    uuid5,
)
from rollup_jobs.readers import CORRUPT_COLUMN, SOURCE_COLUMN
from rollup_jobs.schema import (
    DAILY_PROGRESS_COLUMNS,
    DAILY_PROGRESS_SCHEMA,
    SPARK_TYPES,
    TABLE_COLUMNS,
    Table,
    enriched_spark_schema,
)
from rollup_jobs.transforms import (
    assessments_to_enriched,
    check_assessments,
    check_content_consumption,
    check_enrolments,
    content_consumption_to_enriched,
    daily_progress,
    enrolments_to_enriched,
    rejected_rows,
)
from tests.fixtures.courses import COLLECTION, FRACTIONS, simple_course

pytest_plugins = ["tests.spark_fixtures"]

DAY = 86_400_000
T0 = 1732406400000  # 2024-11-24T00:00:00Z


COURSES = [parse_hierarchy(FRACTIONS),
           parse_hierarchy(simple_course("do_course_2", {"u_a": ["l_a1", "l_a2"], "u_b": ["l_b1"]})),
           parse_hierarchy({"identifier": "do_course_3", "mimeType": COLLECTION, "children": [
               {"identifier": "u_opt_leaves", "mimeType": COLLECTION,
                "children": [{"identifier": "l_x", "mimeType": "video/mp4", "optional": True}]}]})]


@pytest.fixture(scope="module")
def catalog(spark: SparkSession) -> CatalogFrames:
    return catalog_frames(spark, COURSES)


def _table(spark: SparkSession, table: Table, rows: list[dict[str, Any]]) -> DataFrame:
    """A table as the CSV reader gives it: every column text, plus the reader's two extra columns."""
    names = [*TABLE_COLUMNS[table], CORRUPT_COLUMN, SOURCE_COLUMN]
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names])
    return spark.createDataFrame([tuple(r.get(n) for n in names) for r in rows], schema)


def _content(user: str = "u_7", course: str = "do_course_1", batch: str = "b_1", content: str = "do_leaf_1",
             status: Any = "2", access: Any = None, completed: Any = None, updated: Any = None,
             **extra: Any) -> dict[str, Any]:
    return {"userid": user, "courseid": course, "batchid": batch, "contentid": content, "status": status,
            "last_access_time": access, "last_completed_time": completed, "last_updated_time": updated, **extra}


# --- schema and ids -------------------------------------------------------------------------------------------

def test_every_druid_type_has_a_spark_type() -> None:
    assert set(SPARK_TYPES) == set(get_args(DruidType))


def test_spark_schema_is_the_enriched_row_in_model_order() -> None:
    schema = enriched_spark_schema()
    assert tuple(schema.fieldNames()) == COLUMNS
    for field in schema.fields:
        assert field.dataType == SPARK_TYPES[druid_type(field.name)], field.name
        assert field.nullable == (not EnrichedRow.model_fields[field.name].is_required()), field.name


def test_daily_progress_table_in_duckdb_matches_the_spark_schema() -> None:
    conn = duckdb.connect()
    conn.execute(load.DAILY_PROGRESS_DDL)
    described = {name: kind for name, kind, *_ in conn.execute("DESCRIBE daily_progress").fetchall()}
    expected = {T.LongType(): "BIGINT", T.StringType(): "VARCHAR", T.DateType(): "DATE"}
    assert tuple(described) == DAILY_PROGRESS_COLUMNS == load.DAILY_PROGRESS_COLUMNS
    assert described == {f.name: expected[f.dataType] for f in DAILY_PROGRESS_SCHEMA.fields}


@pytest.mark.parametrize("key", [
    ("u_7", "b_101", "do_course_1", "do_leaf_1", 2, 1732500000000),
    ("ü✓ 学", "a|b", "", "x", 0, 0),
    ("u", "b", "c", None, 1, 32503680000000),
])
def test_fact_id_is_the_streams_fact_row_id(spark: SparkSession, key: tuple[Any, ...]) -> None:
    schema = "u string, b string, c string, x string, s long, e long"
    df = spark.createDataFrame([key], schema)
    got = df.select(fact_id("BE_JOB_REQUEST", *(F.col(c) for c in df.columns)).alias("id")).first()
    assert got is not None
    assert got["id"] == fact_row_id("BE_JOB_REQUEST", *key)


def test_uuid5_is_pythons_for_every_variant_nibble(spark: SparkSession) -> None:
    names = [f"name-{i}" for i in range(300)]
    # UUID5 is SHA-1 by definition (RFC 4122); not a security use.
    digests = {hashlib.sha1(EVENT_NAMESPACE.bytes + n.encode()).hexdigest()[16] for n in names}  # noqa: S324
    assert len(digests) == 16  # every value of the nibble the variant bits are set in
    df = spark.createDataFrame([(n,) for n in names], "n string")
    got = [r["id"] for r in df.select(uuid5(F.col("n")).alias("id")).collect()]
    assert got == [str(uuid.uuid5(EVENT_NAMESPACE, n)) for n in names]


FLOATS = [7.5, 10.0, 0.0, -0.0, 1e7, 1e16, 1e-5, 0.1, 0.30000000000000004, 123456789.123, 2.5e-3, 1e22, 5e-324]


def test_scores_are_spelled_as_python_spells_them(spark: SparkSession) -> None:
    df = spark.createDataFrame([(v,) for v in FLOATS], "v double")
    got = [r["s"] for r in df.select(python_float_str(F.col("v")).alias("s")).collect()]
    assert got == [str(v) for v in FLOATS]


def test_strict_numbers_refuse_what_the_stream_refuses(spark: SparkSession) -> None:
    values = ["2", "2.0", " 2", "two", None, "1e3", "NaN", "Infinity", "-0", ".5"]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    rows = df.select(strict_long("v", T.StringType()).alias("i"), strict_double("v", T.StringType()).alias("d"))
    got = [(r["i"], r["d"]) for r in rows.collect()]
    assert [g[0] for g in got] == [2, None, None, None, None, None, None, None, 0, None]
    assert [g[1] for g in got] == [2.0, 2.0, 2.0, None, None, 1000.0, None, None, -0.0, 0.5]


def test_times_parse_from_millis_iso_and_cassandra_exports(spark: SparkSession) -> None:
    values = ["1732500000000", "2024-11-25T02:00:00Z", "2024-11-25 02:00:00.000+0000", "2024-11-25 07:30:00+05:30",
              "2024-11-25T02:00:00", "yesterday", "", None, "99999999999999999"]
    df = spark.createDataFrame([(v,) for v in values], "v string")
    rows = df.select(epoch_ms("v", T.StringType()).alias("ms"), is_bad_time("v", T.StringType()).alias("bad"))
    got = [(r["ms"], r["bad"]) for r in rows.collect()]
    assert got == [(1732500000000, False)] * 5 + [(None, True), (None, False), (None, False), (None, True)]


def test_typed_parquet_columns_are_read_as_they_are(spark: SparkSession) -> None:
    df = spark.createDataFrame([(1732500000000,)], "v long").withColumn("t", F.timestamp_millis("v"))
    row = df.select(epoch_ms("v", T.LongType()).alias("a"), epoch_ms("t", T.TimestampType()).alias("b")).first()
    assert row is not None and row["a"] == row["b"] == 1732500000000


# --- content consumption ---------------------------------------------------------------------------------------

def test_content_rows_get_the_first_reason_that_applies(spark: SparkSession, catalog: CatalogFrames) -> None:
    ok = "2024-11-25T02:00:00Z"
    rows = [
        _content(user="good", access=ok, completed=ok),
        _content(user="", access=ok),
        _content(user="u" * 257, access=ok),
        _content(user="st3", status="3", access=ok),
        _content(user="stx", status="2.0", access=ok),
        _content(user="badtime", status="1", access="yesterday"),
        _content(user="notime", status="1"),
        _content(user="nocourse", course="do_course_404", access=ok, completed=ok),
        _content(user="corrupt", access=ok, **{CORRUPT_COLUMN: "a,b,c"}),
        _content(user="st3badtime", status="3", access="yesterday"),
    ]
    got = _table(spark, Table.CONTENT_CONSUMPTION, rows).transform(check_content_consumption(catalog.courses))
    expected = spark.createDataFrame([
        ("good", None), ("", "missing_key"), ("u" * 257, "key_too_long"), ("st3", "bad_status"),
        ("stx", "bad_status"), ("badtime", "bad_timestamp"), ("notime", "missing_timestamp"),
        ("nocourse", "unknown_course"), ("corrupt", "malformed_row"), ("st3badtime", "bad_status"),
    ], "userid string, reason string")
    assert_df_equality(got.select("userid", "reason"), expected, ignore_row_order=True, ignore_nullable=True)


def test_rejected_rows_keep_the_row_as_text_with_reason_and_file(spark: SparkSession,
                                                                 catalog: CatalogFrames) -> None:
    rows = [_content(status="9", access="1", **{SOURCE_COLUMN: "file:/x.csv"}), _content(access="1")]
    got = (_table(spark, Table.CONTENT_CONSUMPTION, rows).transform(check_content_consumption(catalog.courses))
           .transform(rejected_rows(Table.CONTENT_CONSUMPTION)))
    assert got.columns == [*TABLE_COLUMNS[Table.CONTENT_CONSUMPTION], "raw_line", "reason", "source_file"]
    assert [(r["status"], r["reason"], r["source_file"]) for r in got.collect()] == [("9", "bad_status", "file:/x.csv")]


def _enrich_content(spark: SparkSession, catalog: CatalogFrames, rows: list[dict[str, Any]]) -> DataFrame:
    return (_table(spark, Table.CONTENT_CONSUMPTION, rows).transform(check_content_consumption(catalog.courses))
            .transform(content_consumption_to_enriched(catalog.nodes)))


def test_content_row_time_is_the_completion_for_status_2_else_the_last_access(spark: SparkSession,
                                                                              catalog: CatalogFrames) -> None:
    rows = [
        _content(user="done", access=str(T0), completed=str(T0 + 5), updated=str(T0 + 9)),  # access earlier
        _content(user="doing", status="1", access=str(T0 + 7), completed=None, updated=str(T0 + 9)),
        _content(user="noaccess", status="1", updated=str(T0 + 9)),
        _content(user="revisit", access=str(T0 + DAY), completed=str(T0)),
        _content(user="nocompletion", access=str(T0 + 3), updated=str(T0 + 2)),
    ]
    got = _enrich_content(spark, catalog, rows).select("user_id", "ets", "status")
    expected = spark.createDataFrame([
        ("done", T0 + 5, 2), ("doing", T0 + 7, 1), ("noaccess", T0 + 9, 1),
        ("revisit", T0, 2), ("revisit", T0 + DAY, 2),
        ("nocompletion", T0 + 2, 2), ("nocompletion", T0 + 3, 2),  # updated stands in, the access is a revisit
    ], "user_id string, ets long, status long")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_content_rows_are_the_streams_rows(spark: SparkSession, catalog: CatalogFrames) -> None:
    rows = [_content(content="do_leaf_3", access=str(T0), completed=str(T0)),  # optional leaf
            _content(content="do_elsewhere", access=str(T0), completed=str(T0))]  # outside the hierarchy
    got = _enrich_content(spark, catalog, rows)
    by_content = {r["content_id"]: r.asDict() for r in got.collect()}
    leaf3 = by_content["do_leaf_3"]
    assert leaf3["row_id"] == fact_row_id("BE_JOB_REQUEST", "u_7", "b_1", "do_course_1", "do_leaf_3", 2, T0)
    assert (leaf3["unit_ids"], leaf3["is_leaf"], leaf3["is_optional"]) == (["do_unit_2"], 1, 1)
    assert (leaf3["eid"], leaf3["action"], leaf3["mid"]) == ("BE_JOB_REQUEST", "batch-enrolment-update",
                                                             "backfill:user_content_consumption")
    elsewhere = by_content["do_elsewhere"]
    assert (elsewhere["unit_ids"], elsewhere["is_leaf"], elsewhere["is_optional"]) == ([], None, None)
    assert tuple(got.columns) == COLUMNS
    assert [f.dataType for f in got.schema.fields] == [f.dataType for f in enriched_spark_schema().fields]


# --- enrolments and assessments ---------------------------------------------------------------------------------

def test_enrolments_become_enrol_or_unenrol(spark: SparkSession, catalog: CatalogFrames) -> None:
    base = {"courseid": "do_course_1", "batchid": "b_1", "enrolled_date": "2024-11-24T00:00:00Z"}
    rows = [{"userid": "a", "active": "true", **base}, {"userid": "b", "active": "False", **base},
            {"userid": "c", "active": None, **base}, {"userid": "d", "active": "maybe", **base},
            {"userid": "e", "active": "1", **base, "enrolled_date": None}]
    checked = _table(spark, Table.ENROLMENTS, rows).transform(check_enrolments(catalog.courses))
    assert_df_equality(checked.select("userid", "reason"), spark.createDataFrame(
        [("a", None), ("b", None), ("c", None), ("d", "bad_value"), ("e", "missing_timestamp")],
        "userid string, reason string"), ignore_row_order=True, ignore_nullable=True)
    got = checked.transform(enrolments_to_enriched()).select("user_id", "action", "ets", "course_id", "eid")
    assert_df_equality(got, spark.createDataFrame(
        [("a", "enrol", T0, "do_course_1", "LPA_ENROLMENT"), ("b", "unenrol", T0, "do_course_1", "LPA_ENROLMENT"),
         ("c", "enrol", T0, "do_course_1", "LPA_ENROLMENT")],
        "user_id string, action string, ets long, course_id string, eid string"),
        ignore_row_order=True, ignore_nullable=True)


def test_assessments_are_checked_and_keyed_like_the_stream(spark: SparkSession, catalog: CatalogFrames) -> None:
    base = {"user_id": "u_7", "course_id": "do_course_1", "batch_id": "b_1", "content_id": "do_leaf_2",
            "last_attempted_on": str(T0)}
    rows = [{**base, "attempt_id": "ok", "total_score": "7", "total_max_score": "10"},
            {**base, "attempt_id": "big", "total_score": "1e7", "total_max_score": "10000000"},
            {**base, "attempt_id": "over", "total_score": "11", "total_max_score": "10"},
            {**base, "attempt_id": "neg", "total_score": "-1", "total_max_score": "10"},
            {**base, "attempt_id": "zero", "total_score": "0", "total_max_score": "0"},
            {**base, "attempt_id": "nan", "total_score": "NaN", "total_max_score": "10"},
            {**base, "attempt_id": None, "total_score": "1", "total_max_score": "10"}]
    checked = _table(spark, Table.ASSESSMENTS, rows).transform(check_assessments(catalog.courses))
    reasons = {r["attempt_id"]: r["reason"] for r in checked.collect()}
    assert reasons == {"ok": None, "big": None, "over": "score_above_max", "neg": "bad_score", "zero": "bad_score",
                       "nan": "bad_score", None: "missing_key"}
    got = {r["attempt_id"]: r for r in checked.transform(assessments_to_enriched(catalog.nodes)).collect()}
    assert got["ok"]["row_id"] == fact_row_id("LPA_ASSESSMENT", "u_7", "b_1", "do_course_1", "do_leaf_2", "ok",
                                              7.0, 10.0, T0)
    assert got["big"]["row_id"] == fact_row_id("LPA_ASSESSMENT", "u_7", "b_1", "do_course_1", "do_leaf_2", "big",
                                               1e7, 1e7, T0)
    assert (got["ok"]["unit_ids"], got["ok"]["is_leaf"], got["ok"]["status"]) == (["do_unit_1"], 1, None)
    assert math.isclose(got["ok"]["score"], 7.0) and got["ok"]["max_score"] == 10.0


# --- daily progress ----------------------------------------------------------------------------------------------

def _history(spark: SparkSession, rows: list[tuple[str, str, str, str | None, int, int]]) -> DataFrame:
    """(user, batch, course, content, status, ets) content-state rows in the enriched shape."""
    cols = "user_id string, batch_id string, course_id string, content_id string, status long, ets long"
    return spark.createDataFrame(rows, cols).withColumn("eid", F.lit("BE_JOB_REQUEST"))


def _progress(df: DataFrame) -> list[tuple[Any, ...]]:
    return sorted((r["user_id"], r["course_id"], r["unit_id"], r["day"].isoformat(), r["batch_id"], r["completed"],
                   r["leaf_count"], r["percent"], r["last_activity"],
                   r["valid_to"].isoformat() if r["valid_to"] else None) for r in df.collect())


def test_daily_progress_follows_the_best_batch_day_by_day(spark: SparkSession, catalog: CatalogFrames) -> None:
    history = _history(spark, [
        ("u", "b_old", "do_course_1", "do_leaf_1", 2, T0),            # day 0: b_old 1 done
        ("u", "b_new", "do_course_1", "do_leaf_1", 2, T0 + DAY + 5),  # day 1: tie 1-1, b_new is later
        ("u", "b_new", "do_course_1", "do_leaf_x", 1, T0 + 2 * DAY),  # day 2: activity only (not in hierarchy)
        ("u", "b_old", "do_course_1", "do_leaf_2", 2, T0 + 3 * DAY),  # day 3: b_old 2 done
        ("u", "b_old", "do_course_1", "do_leaf_3", 2, T0 + 3 * DAY + 1),  # optional leaf: no count
    ])
    got = _progress(history.transform(daily_progress(catalog.scopes, catalog.scope_leaves)))
    d = [date(2024, 11, 24 + i).isoformat() for i in range(4)]
    assert got == sorted([
        ("u", "do_course_1", "do_course_1", d[0], "b_old", 1, 2, 50, T0, d[1]),
        ("u", "do_course_1", "do_course_1", d[1], "b_new", 1, 2, 50, T0 + DAY + 5, d[2]),
        ("u", "do_course_1", "do_course_1", d[2], "b_new", 1, 2, 50, T0 + 2 * DAY, d[3]),
        ("u", "do_course_1", "do_course_1", d[3], "b_old", 2, 2, 100, T0 + 3 * DAY + 1, None),
        # The unit row changes only with its figures (batch switch on day 1, completion on day 3).
        ("u", "do_course_1", "do_unit_1", d[0], "b_old", 1, 2, 50, None, d[1]),
        ("u", "do_course_1", "do_unit_1", d[1], "b_new", 1, 2, 50, None, d[3]),
        ("u", "do_course_1", "do_unit_1", d[3], "b_old", 2, 2, 100, None, None),
        # do_unit_2 is optional: never reported.
    ])


def test_daily_progress_counts_units_and_all_optional_units(spark: SparkSession, catalog: CatalogFrames) -> None:
    history = _history(spark, [
        ("v", "b", "do_course_2", "l_a1", 2, T0), ("v", "b", "do_course_2", "l_b1", 1, T0 + 1),
        ("v", "b", "do_course_2", "l_b1", 2, T0 + DAY), ("v", "b", "do_course_2", "l_a1", 1, T0 + DAY),  # no regress
        ("w", "b", "do_course_3", "l_x", 2, T0),
    ])
    got = _progress(history.transform(daily_progress(catalog.scopes, catalog.scope_leaves)))
    d0, d1 = date(2024, 11, 24).isoformat(), date(2024, 11, 25).isoformat()
    assert got == sorted([
        ("v", "do_course_2", "do_course_2", d0, "b", 1, 3, 33, T0 + 1, d1),
        ("v", "do_course_2", "do_course_2", d1, "b", 2, 3, 66, T0 + DAY, None),
        ("v", "do_course_2", "u_a", d0, "b", 1, 2, 50, None, None),
        ("v", "do_course_2", "u_b", d0, "b", 0, 1, 0, None, d1),
        ("v", "do_course_2", "u_b", d1, "b", 1, 1, 100, None, None),
        ("w", "do_course_3", "do_course_3", d0, "b", 0, 0, 0, T0, None),
        ("w", "do_course_3", "u_opt_leaves", d0, "b", 0, 0, 0, None, None),
    ])


def _oracle_progress(history: list[tuple[str, str, str, str | None, int, int]]) -> list[tuple[Any, ...]]:
    """The rollup rows computed the slow, obvious way (docs/backfill.md): for every activity day of each
    (learner, course), every batch's figures from the rows up to that day; a course row every day, a unit row
    when its (batch, completed) differs from the day before; valid_to the series' next row."""
    courses = {c.course_id: c for c in COURSES}
    out: list[tuple[Any, ...]] = []
    for user, course_id in sorted({(u, c) for u, _, c, *_ in history}):
        course = courses[course_id]
        rows = [r for r in history if (r[0], r[2]) == (user, course_id)]
        batches = sorted({r[1] for r in rows})
        days = sorted({r[5] // DAY for r in rows})
        scopes = [(course_id, course.leaf_ids)] + [(u.unit_id, u.leaf_ids) for u in course.reported_units]
        series: dict[str, list[tuple[Any, ...]]] = {scope: [] for scope, _ in scopes}
        previous: dict[str, tuple[str, int]] = {}
        for day in days:
            upto = [r for r in rows if r[5] // DAY <= day]
            done = {b: {r[3] for r in upto if r[1] == b and r[4] == 2} for b in batches}
            last = {b: max((r[5] for r in upto if r[1] == b), default=None) for b in batches}
            best = min(batches, key=lambda b: (-len(done[b] & course.leaf_ids),
                                               -last[b] if last[b] is not None else 2**62, b))
            last_activity = max(v for v in last.values() if v is not None)
            for scope, leaves in scopes:
                n = len(done[best] & leaves)
                if scope != course_id and previous.get(scope) == (best, n):
                    continue
                previous[scope] = (best, n)
                percent = min(100, n * 100 // len(leaves)) if leaves else 0
                series[scope].append((user, course_id, scope, day, best, n, len(leaves), percent,
                                      last_activity if scope == course_id else None))
        for items in series.values():
            for i, item in enumerate(items):
                valid_to = items[i + 1][3] if i + 1 < len(items) else None
                out.append((*item[:3], date.fromordinal(date(1970, 1, 1).toordinal() + item[3]).isoformat(),
                            *item[4:], valid_to and date.fromordinal(date(1970, 1, 1).toordinal() + valid_to)
                            .isoformat()))
    return sorted(out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_daily_progress_equals_the_obvious_computation(spark: SparkSession, catalog: CatalogFrames,
                                                       seed: int) -> None:
    """Random histories (one to three batches per learner and course, leaves, non-leaves, optional leaves,
    unknown content, every status, several rows a day) against the per-day recomputation."""
    rng = random.Random(seed)
    contents = {c.course_id: [*sorted(c.nodes), "do_elsewhere", None] for c in COURSES}
    history = []
    for user in (f"u{i}" for i in range(40)):
        for course_id in rng.sample(sorted(contents), rng.randint(1, 3)):
            batches = [f"b{j}" for j in range(rng.choice([1, 1, 2, 3]))]
            for _ in range(rng.randint(1, 12)):
                history.append((user, rng.choice(batches), course_id, rng.choice(contents[course_id]),
                                rng.choice([0, 1, 2, 2]), T0 + rng.randrange(6 * DAY)))
    got = _progress(_history(spark, history).transform(daily_progress(catalog.scopes, catalog.scope_leaves)))
    assert got == _oracle_progress(history)


def test_daily_progress_schema(spark: SparkSession, catalog: CatalogFrames) -> None:
    got = _history(spark, [("u", "b", "do_course_2", "l_a1", 2, T0)]).transform(
        daily_progress(catalog.scopes, catalog.scope_leaves))
    assert [(f.name, f.dataType) for f in got.schema.fields] == [
        (f.name, f.dataType) for f in DAILY_PROGRESS_SCHEMA.fields]


def test_druid_spec_file_is_rendered_from_the_rollup_schema() -> None:
    from rollup_jobs import druid_spec

    assert druid_spec.SPEC_FILE.read_text() == druid_spec.rendered()
    names = [d["name"] for d in druid_spec.dimensions()]
    assert names == [c for c in DAILY_PROGRESS_COLUMNS if c != druid_spec.TIME_COLUMN]
