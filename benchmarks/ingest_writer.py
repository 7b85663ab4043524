"""The ingest pipeline's DuckDB writer alone, on the batches of a real pipeline run, statement by statement.

    .venv/bin/python benchmarks/ingest_writer.py [--events 200000] [--replays 3]

Why: the pipeline's rate is bounded by its writer thread (docs/performance.md, seventh session), and a writer
measured on synthetic batches read ~35% low. This runs the pipeline in-process on the ingest benchmark's
events (one Tansu broker, the same generator), keeps the Arrow tables of every batch it commits
(`batch_tables`: what the writer thread registers), then writes those batches again into fresh stores,
`--replays` times, timing each SQL statement through a thin connection wrapper. The first pass runs with
the standalone pipeline's process tuning (GC thresholds, 0.1 ms GIL switch interval), so the batch sizes
follow the writer's pace as they do there. The replays leave out the writer thread's turning of the batch's
Python lists into Arrow tables (~0.6 s per 200 k messages, made once while recording).

Writes benchmarks/results/ingest_writer.json and prints the statements by total time (minimum over the
replays). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from benchmarks.ingest_throughput import bench_settings, generate, publish, write_catalog  # noqa: E402
from ingestion.broker import EmbeddedBroker, ensure_topics  # noqa: E402
from ingestion.catalog_memory import JsonDirCatalog, MemoryBatches  # noqa: E402
from ingestion.pipeline import (  # noqa: E402
    Pipeline,
    PipelineConfig,
    hand_the_gil_over_sooner,
    tune_gc_for_streaming,
)
from ingestion.pipeline_main import writer_threads  # noqa: E402
from ingestion.sinks.duckdb_conn import open_duckdb  # noqa: E402
from ingestion.sinks.duckdb_sink import BatchTables, DuckDBSink, SinkResult  # noqa: E402


class TimedConnection:
    """The calls DuckDBSink and `materialise` make, each statement's time added up under its first words (a
    call of several statements counts under its first: "DELETE FROM course_completion" is `materialise`'s
    recount of course_completion and course_best)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._conn = conn
        self.seconds: dict[str, float] = defaultdict(float)

    def execute(self, sql: str, parameters: Any = None) -> duckdb.DuckDBPyConnection:
        start = time.perf_counter()
        result = self._conn.execute(sql) if parameters is None else self._conn.execute(sql, parameters)
        self.seconds[statement_label(sql)] += time.perf_counter() - start
        return result

    def register(self, name: str, table: Any) -> None:
        self._conn.register(name, table)

    def unregister(self, name: str) -> None:
        self._conn.unregister(name)


def statement_label(sql: str) -> str:
    """The first words of a statement, enough to tell the sink's statements apart."""
    return " ".join(sql.split())[:56]


def record_batches(n: int, workdir: Path) -> list[BatchTables]:
    """The tables of every batch a pipeline run over the benchmark's `n` events committed, in order."""
    lines = generate(n)
    catalog_dir = write_catalog(workdir)
    with EmbeddedBroker() as broker:
        settings = bench_settings()
        ensure_topics(broker.bootstrap, settings)
        publish(broker.bootstrap, settings.raw_topic, lines)
        conn = open_duckdb(workdir / "record.duckdb", threads=writer_threads())
        try:
            batches = MemoryBatches.from_json_dir(catalog_dir)
            pipeline = Pipeline(PipelineConfig.from_settings(settings, broker.bootstrap, publish_enriched=False),
                                conn, JsonDirCatalog(catalog_dir), batches, on_metadata_event=batches.apply)
            recorded: list[BatchTables] = []
            write_tables = pipeline.sink.write_tables

            def keep_and_write(tables: BatchTables) -> SinkResult:
                recorded.append(tables)
                return write_tables(tables)

            pipeline.sink.write_tables = keep_and_write  # type: ignore[method-assign]
            try:
                pipeline.run_until_idle(timeout_s=3600)
            finally:
                pipeline.close()
        finally:
            conn.close()
    handled = sum(tables.messages for tables in recorded)
    if handled != n:
        raise SystemExit(f"the pipeline run committed {handled} of {n} messages: nothing to measure on")
    return recorded


def replay(batches: list[BatchTables], path: Path) -> tuple[float, dict[str, float]]:
    """Writes the batches into a fresh store; (seconds in all, seconds per statement)."""
    conn = open_duckdb(path, threads=writer_threads())
    try:
        timed = TimedConnection(conn)
        sink = DuckDBSink(timed)  # type: ignore[arg-type]
        start = time.perf_counter()
        for tables in batches:
            sink.write_tables(tables)
        return time.perf_counter() - start, dict(timed.seconds)
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--replays", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ingest_writer.json")
    args = parser.parse_args()
    tune_gc_for_streaming()  # as pipeline_main does: the recorded batch sizes follow the writer's pace
    hand_the_gil_over_sooner()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        batches = record_batches(args.events, workdir)
        runs = [replay(batches, workdir / f"replay{i}.duckdb") for i in range(args.replays)]
    totals = [total for total, _ in runs]
    labels = {label for _, seconds in runs for label in seconds}
    per_statement = {label: min(seconds.get(label, 0.0) for _, seconds in runs) for label in labels}
    messages = sum(tables.messages for tables in batches)
    result = {
        "events": args.events, "batches": [tables.messages for tables in batches],
        "writer_seconds_runs": [round(total, 3) for total in totals],
        "writer_seconds_min": round(min(totals), 3),
        "writer_messages_per_s": round(messages / min(totals)),
        "statement_seconds_min": {label: round(value, 3) for label, value in
                                  sorted(per_statement.items(), key=lambda item: -item[1])},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(batches)} batches ({', '.join(str(size) for size in result['batches'])} messages); writer "
          f"{min(totals):.2f} s at best of {len(totals)} = {result['writer_messages_per_s']:,} messages/s")
    print(f"{'statement':<58} {'seconds':>8}")
    for label, value in result["statement_seconds_min"].items():
        print(f"{label:<58} {value:>8.3f}")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
