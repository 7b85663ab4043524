"""`lpa backfill run` and `lpa backfill load`: thin commands over rollup_jobs.jobs and rollup_jobs.load.

Spark is imported only when `run` runs, so `lpa --help` stays fast and works without Java.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lpa.cli import main
from rollup_jobs.errors import BackfillError

if TYPE_CHECKING:
    from rollup_jobs.jobs import BackfillSummary


@main.group("backfill")
def backfill() -> None:
    """History from the platform's exported tables (Spark) into the analytics store.

    \b
    Example:
      lpa backfill run --input exports/ --catalog courses/ --output out/
      lpa backfill load --path out/
    """


def _progress(start: float) -> Callable[[str], None]:
    def report(message: str) -> None:
        click.echo(f"[{time.monotonic() - start:7.1f}s] {message}", err=True)

    return report


def _summary_table(summary: BackfillSummary) -> str:
    headers = ("table", "format", "files", "read", "enriched rows", "rejected", "reasons", "seconds")
    rows = [(t.table, t.fmt, f"{t.files:,}", f"{t.read:,}", f"{t.enriched_rows:,}", f"{t.rejected:,}",
             ", ".join(f"{k} {v:,}" for k, v in sorted(t.reasons.items())) or "-", f"{t.seconds:.1f}")
            for t in summary.tables]
    rows.append(("daily_progress", "parquet", "", "", f"{summary.daily_progress_rows:,}", "", "",
                 f"{summary.rollup_seconds:.1f}"))
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out += [line, f"{summary.courses} course(s) in the catalog; total {summary.total_seconds:.1f}s; "
                  f"output in {summary.output}"]
    return "\n".join(out)


@backfill.command("run")
@click.option("--input", "input_dir", required=True, metavar="DIR",
              help="Folder with one sub-folder per table (user_content_consumption, user_enrolments, "
                   "assessment_aggregator), CSV with a header or Parquet.")
@click.option("--catalog", "catalog_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Folder of course hierarchy JSON files (as for `lpa catalog load`).")
@click.option("--output", "output_dir", required=True, metavar="DIR",
              help="Where enriched/, daily_progress/, rejects/ and _summary.json are written (replaced).")
@click.option("--master", default="local[*]", show_default=True,
              help="Spark master; 'submit' leaves it to spark-submit (a cluster).")
@click.option("--shuffle-partitions", type=click.IntRange(min=1), default=None,
              help="spark.sql.shuffle.partitions (default: Spark's).")
@click.option("--driver-memory", default="2g", show_default=True, help="Driver memory for local runs.")
def run(input_dir: str, catalog_dir: str, output_dir: str, master: str, shuffle_partitions: int | None,
        driver_memory: str) -> None:
    """Turn exported tables into enriched rows (the stream's ids) and daily progress rollups.

    Bad rows go to OUTPUT/rejects/<table>/ with a reason and are counted; the job goes on.

    \b
    Example:
      lpa backfill run --input exports/ --catalog courses/ --output out/ --master 'local[2]'
    """
    start = time.monotonic()
    report = _progress(start)
    try:
        from pyspark.errors import PySparkException

        from rollup_jobs.jobs import run_backfill
        from rollup_jobs.session import build_session
    except ImportError as error:
        raise click.ClickException(f"the backfill needs PySpark: pip install -r requirements.txt ({error})") from error
    report(f"starting Spark ({master})")
    try:
        spark = build_session(None if master == "submit" else master, shuffle_partitions=shuffle_partitions,
                              driver_memory=driver_memory)
    except PySparkException as error:
        raise click.ClickException(f"Spark did not start (PySpark needs Java 17 on PATH or JAVA_HOME): "
                                   f"{str(error).splitlines()[0]}") from error
    try:
        summary = run_backfill(spark, input_dir, catalog_dir, output_dir, report)
    except BackfillError as error:
        raise click.ClickException(str(error)) from error
    except PySparkException as error:
        raise click.ClickException(f"the Spark job failed: {str(error).splitlines()[0]}") from error
    # No spark.stop(): the JVM ends with this process, and a caller's session (tests) stays usable.
    click.echo(_summary_table(summary))


@backfill.command("load")
@click.option("--path", "output_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="The --output folder of `lpa backfill run`.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data dir of the embedded stack (default: LPA_DATA_DIR or .lpa).")
def load(output_dir: str, data_dir: Path | None) -> None:
    """Load a backfill's outputs into the embedded DuckDB store (rows already there are skipped).

    The store must not be held by a running `lpa up`: stop it first.

    \b
    Example:
      lpa backfill load --path out/ --data-dir .lpa
    """
    from lpa.settings import load_settings
    from rollup_jobs.load import load_backfill, open_store

    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    store = settings.analytics_path
    try:
        conn = open_store(store)
        try:
            summary = load_backfill(conn, output_dir)
        finally:
            conn.close()
    except BackfillError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"loaded {output_dir} into {store}")
    click.echo(f"  enriched rows read {summary.enriched_read:,}: inserted {summary.enriched_inserted:,}, "
               f"already present {summary.already_present:,} (same ids as streamed or loaded before)")
    click.echo(f"  content_state {summary.content_state_rows:,} rows, course_activity "
               f"{summary.course_activity_rows:,} rows, daily_progress {summary.daily_progress_rows:,} rows")
