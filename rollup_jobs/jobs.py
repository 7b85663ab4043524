"""Thin entry points: read, transform (rollup_jobs.transforms), write, count. No logic of its own.

Layout of --output:
    enriched/<table>/        Parquet, the stream's enriched columns (ingestion.schema.EnrichedRow)
    daily_progress/          Parquet, rollup_jobs.schema.DAILY_PROGRESS_SCHEMA
    rejects/<table>/         CSV with a header: the row as text, `reason`, `raw_line`, `source_file`
    _summary.json            the counts below (BackfillSummary)
Only small results (counts per reason) ever reach the driver, so the job runs unchanged on a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rollup_jobs.catalog import CatalogFrames, catalog_frames, load_catalog
from rollup_jobs.errors import InputNotFoundError
from rollup_jobs.readers import read_table
from rollup_jobs.schema import Table
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

Progress = Callable[[str], None]
SUMMARY_FILE = "_summary.json"


class TableSummary(BaseModel):
    table: str
    fmt: str
    files: int
    read: int
    enriched_rows: int
    rejected: int
    reasons: dict[str, int] = Field(default_factory=dict)
    seconds: float


class BackfillSummary(BaseModel):
    input: str
    output: str
    courses: int
    tables: list[TableSummary]
    daily_progress_rows: int
    rollup_seconds: float
    total_seconds: float


def _plan(table: Table, catalog: CatalogFrames) -> tuple[Callable[[DataFrame], DataFrame],
                                                          Callable[[DataFrame], DataFrame]]:
    match table:
        case Table.CONTENT_CONSUMPTION:
            return check_content_consumption(catalog.courses), content_consumption_to_enriched(catalog.nodes)
        case Table.ENROLMENTS:
            return check_enrolments(catalog.courses), enrolments_to_enriched()
        case Table.ASSESSMENTS:
            return check_assessments(catalog.courses), assessments_to_enriched(catalog.nodes)


def _count(spark: SparkSession, path: str) -> int:
    return spark.read.parquet(path).count()  # row-group metadata only


def backfill_table(spark: SparkSession, input_dir: str, output_dir: str, table: Table, catalog: CatalogFrames,
                   progress: Progress) -> TableSummary | None:
    start = time.monotonic()
    source = read_table(spark, input_dir, table)
    if source is None:
        progress(f"{table.value}: no folder in the input, skipped")
        return None
    progress(f"{table.value}: reading {source.files} {source.fmt.value} file(s) from {source.path}")
    check, to_enriched = _plan(table, catalog)
    checked = source.frame.transform(check)
    enriched_path = f"{output_dir}/enriched/{table.value}"
    checked.transform(to_enriched).write.mode("overwrite").parquet(enriched_path)
    enriched_rows = _count(spark, enriched_path)
    progress(f"{table.value}: wrote {enriched_rows:,} enriched rows")
    rejects = checked.transform(rejected_rows(table))
    rejects_path = f"{output_dir}/rejects/{table.value}"
    rejects.write.mode("overwrite").option("header", True).csv(rejects_path)
    # Counted from what was written: a small aggregate, never the rows themselves.
    reasons = {row["reason"]: int(row["n"]) for row in spark.read.option("header", True).csv(rejects_path)
               .groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()}
    rejected = sum(reasons.values())
    read = source.frame.count()  # Parquet: footers only; CSV: one more pass over the lines
    if rejected:
        detail = ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items()))
        progress(f"{table.value}: rejected {rejected:,} row(s) ({detail}) -> {rejects_path}")
    return TableSummary(table=table.value, fmt=source.fmt.value, files=source.files, read=read,
                        enriched_rows=enriched_rows, rejected=rejected, reasons=reasons,
                        seconds=round(time.monotonic() - start, 2))


def run_backfill(spark: SparkSession, input_dir: str, catalog_dir: str | Path, output_dir: str,
                 progress: Progress = lambda _msg: None) -> BackfillSummary:
    """The whole job: every table present under input_dir, then the daily rollups from what was written."""
    start = time.monotonic()
    courses = load_catalog(catalog_dir)
    progress(f"catalog: {len(courses)} course(s) from {catalog_dir}")
    catalog = catalog_frames(spark, courses)
    summaries: list[TableSummary] = []
    for table in Table:  # content consumption first: without it there is nothing to backfill
        summary = backfill_table(spark, input_dir, output_dir, table, catalog, progress)
        if summary is None and table is Table.CONTENT_CONSUMPTION:
            raise InputNotFoundError(f"{input_dir}: no {table.value} folder: nothing to backfill")
        if summary is not None:
            summaries.append(summary)

    rollup_start = time.monotonic()
    progress("daily_progress: computing rollups from the enriched content-state rows")
    # One pass: daily_progress clusters the rows by (user, course) itself and shuffles nothing after that,
    # so nothing is cached (a cache would cost a full serialisation of the history).
    history = (spark.read.parquet(f"{output_dir}/enriched/{Table.CONTENT_CONSUMPTION.value}")
               .select("eid", "user_id", "batch_id", "course_id", "content_id", "status", "ets"))
    rollup_path = f"{output_dir}/daily_progress"
    (history.transform(daily_progress(catalog.scopes, catalog.scope_leaves))
     .write.mode("overwrite").parquet(rollup_path))
    rollup_rows = _count(spark, rollup_path)
    progress(f"daily_progress: wrote {rollup_rows:,} rows")
    result = BackfillSummary(input=input_dir, output=output_dir, courses=len(courses), tables=summaries,
                              daily_progress_rows=rollup_rows,
                              rollup_seconds=round(time.monotonic() - rollup_start, 2),
                              total_seconds=round(time.monotonic() - start, 2))
    _write_summary(spark, output_dir, result)
    return result


def _write_summary(spark: SparkSession, output_dir: str, summary: BackfillSummary) -> None:
    """A small JSON beside the outputs (through Hadoop's FileSystem, so it works on any store)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(f"{output_dir}/{SUMMARY_FILE}")
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # type: ignore[attr-defined]
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(summary.model_dump_json(indent=2).encode()))
    finally:
        stream.close()
