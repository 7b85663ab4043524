"""Pure DataFrame -> DataFrame transforms of the backfill (quinn style: parameters through closures,
compose with `df.transform(f)`; no reading, writing or collecting here).

Each input table goes through two steps: `check_*` adds the parsed values and a `reason` column (null when
the row is good, else the first RejectReason that applies), then `*_to_enriched` turns the good rows into
the stream's enriched rows, and `rejected_rows` keeps the others with their reason.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ingestion.schema import druid_type
from rollup_jobs.columns import (
    DAY_MS,
    MAX_KEY_LENGTH,
    epoch_ms,
    is_bad_time,
    python_float_str,
    strict_double,
    strict_long,
    utc_day,
    uuid_from_digest,
    with_fact_digest,
)
from rollup_jobs.readers import CORRUPT_COLUMN, SOURCE_COLUMN
from rollup_jobs.schema import (
    DAILY_PROGRESS_COLUMNS,
    ENRICHED_COLUMNS,
    SPARK_TYPES,
    TABLE_COLUMNS,
    RejectReason,
    Table,
)

Transform = Callable[[DataFrame], DataFrame]

CONTENT_ACTION = "batch-enrolment-update"  # the stream's edata.action for BE_JOB_REQUEST


def mid_for(table: Table) -> str:
    """Backfilled rows say where they came from in `mid` (the platform's message id does not exist here)."""
    return f"backfill:{table.value}"


# --- checks -------------------------------------------------------------------------------------------------

def _first_reason(*checks: tuple[Column, RejectReason]) -> Column:
    """The first reason whose condition holds, else null (a row has one reason, the most basic one)."""
    return F.coalesce(*(F.when(cond, F.lit(reason.value)) for cond, reason in checks), F.lit(None).cast("string"))


def _missing(*columns: str) -> Column:
    cond = F.lit(False)
    for c in columns:
        cond = cond | F.col(c).isNull() | (F.col(c).cast("string") == "")
    return cond


def _too_long(*columns: str) -> Column:
    cond = F.lit(False)
    for c in columns:
        cond = cond | (F.length(F.col(c).cast("string")) > MAX_KEY_LENGTH)
    return cond


def _any_bad_time(df: DataFrame, *columns: str) -> Column:
    cond = F.lit(False)
    for c in columns:
        cond = cond | is_bad_time(c, df.schema[c].dataType)
    return cond


def _known_course(df: DataFrame, courses: DataFrame, key: str) -> DataFrame:
    """Adds `_known_course` (a broadcast semi-lookup; unknown courses are rejected, as in the stream)."""
    known = courses.select(F.col("course_id").alias("_k_course"), F.lit(True).alias("_known_course"))
    return (df.join(F.broadcast(known), df[key] == known["_k_course"], "left").drop("_k_course")
            .withColumn("_known_course", F.coalesce(F.col("_known_course"), F.lit(False))))


CONTENT_KEYS = ("userid", "courseid", "batchid", "contentid")
ENROLMENT_KEYS = ("userid", "courseid", "batchid")
ASSESSMENT_KEYS = ("user_id", "course_id", "batch_id", "content_id", "attempt_id")


def check_content_consumption(courses: DataFrame) -> Transform:
    """Parsed `_status`, `_ets` (the row's time: last_completed_time for a completion, else the last access)
    and `_access_ms`, plus `reason`."""

    def transform(df: DataFrame) -> DataFrame:
        status = strict_long("status", df.schema["status"].dataType)
        access, completed, updated = (epoch_ms(c, df.schema[c].dataType)
                                      for c in ("last_access_time", "last_completed_time", "last_updated_time"))
        ets = F.when(status == 2, F.coalesce(completed, updated, access)).otherwise(F.coalesce(access, updated))
        out = (df.withColumn("_status", status).withColumn("_ets", ets).withColumn("_access_ms", access)
               .transform(lambda d: _known_course(d, courses, "courseid")))
        return out.withColumn("reason", _first_reason(
            (F.col(CORRUPT_COLUMN).isNotNull(), RejectReason.MALFORMED_ROW),
            (_missing(*CONTENT_KEYS), RejectReason.MISSING_KEY),
            (_too_long(*CONTENT_KEYS), RejectReason.KEY_TOO_LONG),
            (F.col("_status").isNull() | ~F.col("_status").isin(0, 1, 2), RejectReason.BAD_STATUS),
            (_any_bad_time(df, "last_access_time", "last_completed_time", "last_updated_time"),
             RejectReason.BAD_TIMESTAMP),
            (F.col("_ets").isNull(), RejectReason.MISSING_TIMESTAMP),
            (~F.col("_known_course"), RejectReason.UNKNOWN_COURSE),
        ))

    return transform


_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


def check_enrolments(courses: DataFrame) -> Transform:
    """Parsed `_active` (a missing value counts as active) and `_ets` (enrolled_date), plus `reason`."""

    def transform(df: DataFrame) -> DataFrame:
        dtype = df.schema["active"].dataType
        if isinstance(dtype, T.BooleanType):
            active = F.coalesce(F.col("active"), F.lit(True))
            bad_active = F.lit(False)
        else:
            text = F.lower(F.trim(F.col("active").cast("string")))
            active = F.when(text.isin(*_FALSE), F.lit(False)).otherwise(F.lit(True))
            bad_active = text.isNotNull() & (text != "") & ~text.isin(*_TRUE, *_FALSE)
        out = (df.withColumn("_active", active)
               .withColumn("_ets", epoch_ms("enrolled_date", df.schema["enrolled_date"].dataType))
               .transform(lambda d: _known_course(d, courses, "courseid")))
        return out.withColumn("reason", _first_reason(
            (F.col(CORRUPT_COLUMN).isNotNull(), RejectReason.MALFORMED_ROW),
            (_missing(*ENROLMENT_KEYS), RejectReason.MISSING_KEY),
            (_too_long(*ENROLMENT_KEYS), RejectReason.KEY_TOO_LONG),
            (bad_active, RejectReason.BAD_VALUE),
            (_any_bad_time(df, "enrolled_date"), RejectReason.BAD_TIMESTAMP),
            (F.col("_ets").isNull(), RejectReason.MISSING_TIMESTAMP),
            (~F.col("_known_course"), RejectReason.UNKNOWN_COURSE),
        ))

    return transform


def check_assessments(courses: DataFrame) -> Transform:
    """Parsed `_score`, `_max_score`, `_ets` (last_attempted_on), plus `reason`."""

    def transform(df: DataFrame) -> DataFrame:
        score = strict_double("total_score", df.schema["total_score"].dataType)
        max_score = strict_double("total_max_score", df.schema["total_max_score"].dataType)
        out = (df.withColumn("_score", score).withColumn("_max_score", max_score)
               .withColumn("_ets", epoch_ms("last_attempted_on", df.schema["last_attempted_on"].dataType))
               .transform(lambda d: _known_course(d, courses, "course_id")))
        return out.withColumn("reason", _first_reason(
            (F.col(CORRUPT_COLUMN).isNotNull(), RejectReason.MALFORMED_ROW),
            (_missing(*ASSESSMENT_KEYS), RejectReason.MISSING_KEY),
            (_too_long(*ASSESSMENT_KEYS), RejectReason.KEY_TOO_LONG),
            (F.col("_score").isNull() | F.col("_max_score").isNull() | (F.col("_score") < 0)
             | (F.col("_max_score") <= 0), RejectReason.BAD_SCORE),
            (F.col("_score") > F.col("_max_score"), RejectReason.SCORE_ABOVE_MAX),
            (_any_bad_time(df, "last_attempted_on"), RejectReason.BAD_TIMESTAMP),
            (F.col("_ets").isNull(), RejectReason.MISSING_TIMESTAMP),
            (~F.col("_known_course"), RejectReason.UNKNOWN_COURSE),
        ))

    return transform


def rejected_rows(table: Table) -> Transform:
    """Rejected rows as text, with `reason` and the file they came from."""

    def transform(df: DataFrame) -> DataFrame:
        cols = [F.col(c).cast("string").alias(c) for c in TABLE_COLUMNS[table]]
        return (df.filter(F.col("reason").isNotNull())
                .select(*cols, F.col(CORRUPT_COLUMN).alias("raw_line"), "reason",
                        F.col(SOURCE_COLUMN).alias("source_file")))

    return transform


# --- enriched rows -------------------------------------------------------------------------------------------

def _with_node(df: DataFrame, nodes: DataFrame, course: str, content: str) -> DataFrame:
    """unit_ids / is_leaf / is_optional from the current hierarchy; a content id outside it gets [] / null /
    null, exactly as ingestion.enrich does."""
    lookup = nodes.select(F.col("course_id").alias("_n_course"), F.col("content_id").alias("_n_content"),
                          F.col("unit_ids").alias("_n_units"), F.col("is_leaf").alias("_n_leaf"),
                          F.col("is_optional").alias("_n_optional"))
    cond = (df[course] == lookup["_n_course"]) & (df[content] == lookup["_n_content"])
    return df.join(F.broadcast(lookup), cond, "left").drop("_n_course", "_n_content")


def _enriched(**values: Column) -> list[Column]:
    """Every enriched column in model order, cast to its Spark type; unnamed columns are null."""
    out = []
    for name in ENRICHED_COLUMNS:
        spark_type = SPARK_TYPES[druid_type(name)]
        value = values.get(name)
        if value is None:
            value = F.array().cast(spark_type) if isinstance(spark_type, T.ArrayType) else F.lit(None)
        out.append(value.cast(spark_type).alias(name))
    return out


def _node_values() -> dict[str, Column]:
    return {"unit_ids": F.coalesce(F.col("_n_units"), F.array().cast("array<string>")),
            "is_leaf": F.col("_n_leaf"), "is_optional": F.col("_n_optional")}


def content_consumption_to_enriched(nodes: DataFrame) -> Transform:
    """One BE_JOB_REQUEST row per good row, at `_ets`; a completed row whose last access is later than its
    completion gives a second row at the last access (a revisit: status 2 again), so lastActivity is kept."""
    mid = mid_for(Table.CONTENT_CONSUMPTION)

    def transform(df: DataFrame) -> DataFrame:
        good = df.filter(F.col("reason").isNull())
        revisit = (F.col("_status") == 2) & (F.col("_access_ms") > F.col("_ets"))
        times = F.when(revisit, F.array(F.col("_ets"), F.col("_access_ms"))).otherwise(F.array(F.col("_ets")))
        key = (F.col("userid"), F.col("batchid"), F.col("courseid"), F.col("contentid"), F.col("_status"))
        # The event id is the table row's: hashed before the revisit split, once per input row.
        rows = (good.transform(lambda d: _with_node(d, nodes, "courseid", "contentid"))
                .transform(lambda d: with_fact_digest(d, "_event_digest", mid, *key, F.col("_ets")))
                .withColumn("_event_id", uuid_from_digest(F.col("_event_digest")))
                .withColumn("_row_ets", F.explode(times))
                .transform(lambda d: with_fact_digest(d, "_row_digest", "BE_JOB_REQUEST", *key, F.col("_row_ets"))))
        return rows.select(*_enriched(
            ets=F.col("_row_ets"),
            row_id=uuid_from_digest(F.col("_row_digest")),
            event_id=F.col("_event_id"),
            eid=F.lit("BE_JOB_REQUEST"), action=F.lit(CONTENT_ACTION), mid=F.lit(mid),
            user_id=F.col("userid"), batch_id=F.col("batchid"), course_id=F.col("courseid"),
            content_id=F.col("contentid"), status=F.col("_status"), **_node_values()))

    return transform


def enrolments_to_enriched() -> Transform:
    """One LPA_ENROLMENT row per good row at enrolled_date: `enrol`, or `unenrol` when the row is inactive
    (the table keeps no unenrolment time). Unlike the stream's enrolment rows, course_id is filled in."""
    mid = mid_for(Table.ENROLMENTS)

    def transform(df: DataFrame) -> DataFrame:
        action = F.when(F.col("_active"), F.lit("enrol")).otherwise(F.lit("unenrol"))
        key = (F.col("userid"), F.col("batchid"), F.col("courseid"), action, F.col("_ets"))
        rows = (df.filter(F.col("reason").isNull())
                .transform(lambda d: with_fact_digest(d, "_row_digest", "LPA_ENROLMENT", *key))
                .transform(lambda d: with_fact_digest(d, "_event_digest", mid, *key)))
        return rows.select(*_enriched(
            ets=F.col("_ets"), row_id=uuid_from_digest(F.col("_row_digest")),
            event_id=uuid_from_digest(F.col("_event_digest")),
            eid=F.lit("LPA_ENROLMENT"), action=action, mid=F.lit(mid),
            user_id=F.col("userid"), batch_id=F.col("batchid"), course_id=F.col("courseid")))

    return transform


def assessments_to_enriched(nodes: DataFrame) -> Transform:
    """One LPA_ASSESSMENT row per good attempt, keyed like the stream (scores spelled as Python does)."""
    mid = mid_for(Table.ASSESSMENTS)

    def transform(df: DataFrame) -> DataFrame:
        key = (F.col("user_id"), F.col("batch_id"), F.col("course_id"), F.col("content_id"), F.col("attempt_id"),
               F.col("_score_text"), F.col("_max_score_text"), F.col("_ets"))
        rows = (df.filter(F.col("reason").isNull())
                .transform(lambda d: _with_node(d, nodes, "course_id", "content_id"))
                .withColumn("_score_text", python_float_str(F.col("_score")))
                .withColumn("_max_score_text", python_float_str(F.col("_max_score")))
                .transform(lambda d: with_fact_digest(d, "_row_digest", "LPA_ASSESSMENT", *key))
                .transform(lambda d: with_fact_digest(d, "_event_digest", mid, *key)))
        return rows.select(*_enriched(
            ets=F.col("_ets"), row_id=uuid_from_digest(F.col("_row_digest")),
            event_id=uuid_from_digest(F.col("_event_digest")),
            eid=F.lit("LPA_ASSESSMENT"), mid=F.lit(mid),
            user_id=F.col("user_id"), batch_id=F.col("batch_id"), course_id=F.col("course_id"),
            content_id=F.col("content_id"), attempt_id=F.col("attempt_id"), score=F.col("_score"),
            max_score=F.col("_max_score"), **_node_values()))

    return transform


# --- daily progress ------------------------------------------------------------------------------------------

def daily_progress(scopes: DataFrame, scope_leaves: DataFrame) -> Transform:
    """Enriched rows -> progress per learner x course x scope (the course, each reported unit) as of each day
    with a change (contracts.md section 3 applied to the history up to the end of that UTC day).

    A course row is written for every day with activity (lastActivity moves); a unit row on the first
    activity day and whenever its figures (completed, best batch) change. `valid_to` is the next such day,
    so "as of day D" is `day <= D AND (valid_to IS NULL OR valid_to > D)`: no forward fill is needed.

    One shuffle: the rows are clustered by (user, course) once, and every later window and aggregation is
    keyed by (user, course) first, with no union or join on other keys (either would shuffle again). Only
    cells that can change a row are built: per batch and day the course's activity and new completions,
    per unit the days a leaf of it was newly completed, and the unit's first day. Only a (user, course) with
    more than one batch gets the full grid (every batch x day x scope), where the best batch can switch.
    """
    uc = ["user_id", "course_id"]
    ucb = [*uc, "batch_id"]
    # A cell to write for a row: a scope, a batch (null: the row's own) and its kind.
    own_kind, done_kind, zero_kind = 0, 1, 2  # the row's activity on the course; a new completion; neither

    def cell(scope: Column, batch: Column, kind: int) -> Column:
        return F.struct(scope.alias("unit_id"), batch.cast("string").alias("batch_id"), F.lit(kind).alias("kind"))

    no_cells = F.array().cast("array<struct<unit_id:string,batch_id:string,kind:int>>")
    # (course, leaf) -> whether a completion counts for the course, and the unit cells it adds. Built once
    # on the small catalog, so the common row needs no per-row lambda (higher-order functions are
    # interpreted, not compiled).
    leaf_cells = (scope_leaves.groupBy("course_id", F.col("leaf_id").alias("content_id")).agg(
        F.max(F.col("unit_id") == F.col("course_id")).alias("_in_course"),
        F.collect_list(F.when(F.col("unit_id") != F.col("course_id"),
                              cell(F.col("unit_id"), F.lit(None), done_kind))).alias("_leaf_cells")))
    course_cells = scopes.groupBy("course_id").agg(
        F.collect_list(F.when(F.col("level") == "unit", cell(F.col("unit_id"), F.lit(None), zero_kind)))
        .alias("_unit_cells"),
        F.collect_list("unit_id").alias("_scope_ids"))

    def transform(enriched: DataFrame) -> DataFrame:
        # AQE would coalesce this shuffle into a few large partitions (its bytes are small), but the stage
        # after it is CPU-bound: an explicit count (the session's) keeps every core busy to the end.
        partitions = int(enriched.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
        content = (enriched.filter((F.col("eid") == "BE_JOB_REQUEST") & F.col("user_id").isNotNull()
                                   & F.col("course_id").isNotNull())
                   .select(*ucb, "content_id", (F.col("status") == 2).alias("_is_done"), "ets",
                           utc_day(F.col("ets")).alias("day"))
                   .repartition(partitions, *uc))
        # A leaf is newly completed in a batch by its first status-2 row (status never goes down).
        per_leaf = (Window.partitionBy(*ucb, "content_id").orderBy("day", "ets")
                    .rowsBetween(Window.unboundedPreceding, Window.currentRow))
        # A window over (user, course) ordered like the per-leaf one: the rows are sorted once for both.
        group = (Window.partitionBy(*uc).orderBy("batch_id", "content_id", "day", "ets")
                 .rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing))
        rows = (content
                .withColumn("_newly", F.col("_is_done")
                            & (F.sum(F.col("_is_done").cast("int")).over(per_leaf) == 1))
                .withColumn("_batches", F.collect_set("batch_id").over(group))
                .withColumn("_first", F.col("ets") == F.min("ets").over(group))  # a row on the first day
                .join(F.broadcast(leaf_cells), ["course_id", "content_id"], "left")
                .join(F.broadcast(course_cells), "course_id", "left"))

        # Each row: its batch's activity on the course scope, its new completion on every unit it counts
        # for. Cells no row has: the units' first day (added by the earliest row(s) of the (user, course));
        # with several batches, where the best batch may change on any day, every batch x scope on each
        # row's day. Duplicate cells are harmless: they are summed below.
        own = F.array(cell(F.col("course_id"), F.lit(None), own_kind))
        done = F.coalesce(F.when(F.col("_newly"), F.col("_leaf_cells")), no_cells)
        every_batch = F.flatten(F.transform(F.col("_batches"), lambda b: F.transform(
            F.col("_scope_ids"), lambda s: cell(s, b, zero_kind))))
        grid = F.coalesce(F.when(F.size("_batches") > 1, every_batch).when(F.col("_first"), F.col("_unit_cells")),
                          no_cells)
        kind = F.col("_cell.kind")
        newly = (F.when(kind == own_kind, F.col("_newly") & F.coalesce(F.col("_in_course"), F.lit(False)))
                 .otherwise(kind == done_kind))
        cells = (rows.select(*ucb, "day", "ets", "_newly", "_in_course", F.explode(F.concat(own, done, grid))
                             .alias("_cell"))
                 .select(*uc, F.coalesce(F.col("_cell.batch_id"), F.col("batch_id")).alias("batch_id"),
                         F.col("_cell.unit_id").alias("unit_id"), "day", newly.cast("long").alias("newly"),
                         F.when(kind == own_kind, F.col("ets")).alias("day_ets"))
                 .groupBy(*ucb, "unit_id", "day").agg(F.sum("newly").alias("newly"), F.max("day_ets").alias("day_ets")))

        upto = (Window.partitionBy(*ucb, "unit_id").orderBy("day")
                .rowsBetween(Window.unboundedPreceding, Window.currentRow))
        state = (cells.withColumn("completed", F.sum("newly").over(upto))
                 .withColumn("batch_last", F.max("day_ets").over(upto)))
        # Best batch per (user, course, day): most completed in the course, then latest activity, then the
        # smallest id -- the minimum of (-completed, -last, batch) over the day's course cells.
        per_day = Window.partitionBy(*uc, "day")
        course_cell = F.col("unit_id") == F.col("course_id")
        rank_key = F.struct(-F.col("completed"), F.coalesce(-F.col("batch_last"), F.lit(2**62)), F.col("batch_id"))
        chosen = (state.withColumn("_best", F.min(F.when(course_cell, rank_key)).over(per_day))
                  .withColumn("last_activity", F.max(F.when(course_cell, F.col("batch_last"))).over(per_day))
                  .filter(F.col("batch_id") == F.col("_best.batch_id")))

        series = Window.partitionBy(*uc, "unit_id").orderBy("day")
        changed = (course_cell | F.lag("day").over(series).isNull()
                   | (F.lag("completed").over(series) != F.col("completed"))
                   | (F.lag("batch_id").over(series) != F.col("batch_id")))
        kept = (chosen.withColumn("_changed", changed).filter(F.col("_changed"))
                .join(F.broadcast(scopes), ["course_id", "unit_id"]))
        percent = F.when(F.col("leaf_count") == 0, F.lit(0)).otherwise(
            F.least(F.lit(100), F.floor(F.col("completed") * 100 / F.col("leaf_count"))))
        return kept.select(
            F.col("day"), (F.unix_date(F.col("day")).cast("long") * DAY_MS).alias("day_ms"),
            "user_id", "course_id", "level", "unit_id", "batch_id",
            F.col("completed").cast("long").alias("completed"), F.col("leaf_count").cast("long").alias("leaf_count"),
            percent.cast("long").alias("percent"),
            F.when(F.col("level") == "course", F.col("last_activity")).cast("long").alias("last_activity"),
            F.lead("day").over(series).alias("valid_to"),
        ).select(*DAILY_PROGRESS_COLUMNS)

    return transform
