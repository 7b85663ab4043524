"""Spark schemas derived from the one enriched-row definition (ingestion.schema.EnrichedRow), plus the
daily-progress rollup and the expected columns of each input table.

Nothing here is written by hand twice: the enriched schema is computed from the pydantic model's Druid
types, so a new field in EnrichedRow reaches the backfill output, and a test fails if the mapping is missing.
"""

from __future__ import annotations

from enum import StrEnum

from pyspark.sql import types as T

from ingestion.schema import COLUMNS, EnrichedRow, druid_type

SPARK_TYPES: dict[str, T.DataType] = {
    "timestamp": T.LongType(),  # epoch millis, like the stream (Druid reads it with format "millis")
    "string": T.StringType(),
    "long": T.LongType(),
    "double": T.DoubleType(),
    "multi": T.ArrayType(T.StringType()),
}


def _required(name: str) -> bool:
    return EnrichedRow.model_fields[name].is_required()


def enriched_spark_schema() -> T.StructType:
    """The enriched row as a Spark schema, in model order (non-nullable where the model requires a value)."""
    return T.StructType([T.StructField(name, SPARK_TYPES[druid_type(name)], nullable=not _required(name))
                         for name in COLUMNS])


ENRICHED_COLUMNS: tuple[str, ...] = COLUMNS

DAILY_PROGRESS_SCHEMA = T.StructType([
    T.StructField("day", T.DateType(), False),
    T.StructField("day_ms", T.LongType(), False),  # start of the UTC day, epoch ms: Druid's __time
    T.StructField("user_id", T.StringType(), False),
    T.StructField("course_id", T.StringType(), False),
    T.StructField("level", T.StringType(), False),  # "course" | "unit"
    T.StructField("unit_id", T.StringType(), False),  # the course id on course rows
    T.StructField("batch_id", T.StringType(), False),  # best batch as of the day (contracts.md section 3)
    T.StructField("completed", T.LongType(), False),
    T.StructField("leaf_count", T.LongType(), False),
    T.StructField("percent", T.LongType(), False),
    T.StructField("last_activity", T.LongType(), True),  # course rows only: max activity ets up to the day
    T.StructField("valid_to", T.DateType(), True),  # next day this row's figures change; null: still current
])
DAILY_PROGRESS_COLUMNS: tuple[str, ...] = tuple(DAILY_PROGRESS_SCHEMA.fieldNames())


class Table(StrEnum):
    """Input tables, named as on the platform (one folder each under --input)."""

    CONTENT_CONSUMPTION = "user_content_consumption"
    ENROLMENTS = "user_enrolments"
    ASSESSMENTS = "assessment_aggregator"


TABLE_COLUMNS: dict[Table, tuple[str, ...]] = {
    Table.CONTENT_CONSUMPTION: ("userid", "courseid", "batchid", "contentid", "status", "progress", "viewcount",
                                "completedcount", "last_access_time", "last_completed_time", "last_updated_time"),
    Table.ENROLMENTS: ("userid", "courseid", "batchid", "active", "enrolled_date", "completedon", "status"),
    Table.ASSESSMENTS: ("user_id", "course_id", "batch_id", "content_id", "attempt_id", "total_score",
                        "total_max_score", "last_attempted_on"),
}

# Columns a row cannot do without; the others may be absent from an export and are then read as null.
TABLE_REQUIRED: dict[Table, tuple[str, ...]] = {
    Table.CONTENT_CONSUMPTION: ("userid", "courseid", "batchid", "contentid", "status", "last_access_time",
                                "last_completed_time", "last_updated_time"),
    Table.ENROLMENTS: ("userid", "courseid", "batchid", "active", "enrolled_date"),
    Table.ASSESSMENTS: ("user_id", "course_id", "batch_id", "content_id", "attempt_id", "total_score",
                        "total_max_score", "last_attempted_on"),
}


class RejectReason(StrEnum):
    """Why a history row was not turned into an enriched row (the `reason` column of rejects/<table>/)."""

    MALFORMED_ROW = "malformed_row"  # a CSV line with the wrong number of fields
    MISSING_KEY = "missing_key"  # a key column (user, course, batch, content, attempt) null or empty
    KEY_TOO_LONG = "key_too_long"  # over the 256 characters the stream accepts
    BAD_STATUS = "bad_status"  # not 0, 1 or 2
    BAD_TIMESTAMP = "bad_timestamp"  # not epoch millis / ISO-8601, or outside 1970..3000
    MISSING_TIMESTAMP = "missing_timestamp"  # no time to place the row at
    BAD_VALUE = "bad_value"  # e.g. `active` not a boolean
    BAD_SCORE = "bad_score"  # not a finite number, negative score, max score <= 0
    SCORE_ABOVE_MAX = "score_above_max"
    UNKNOWN_COURSE = "unknown_course"  # not in the --catalog hierarchies
