"""A standalone pipeline process (used by the SIGKILL test and the benchmark; `lpa up` runs it in a thread).

Example:
    python -m ingestion.pipeline_main --bootstrap 127.0.0.1:9092 --duckdb /tmp/a.duckdb --catalog-dir courses/

Topics and the consumer group come from LPA_* settings unless given. Catalog: every *.json hierarchy in
--catalog-dir (re-read when files change); batches: batches.json there, plus the LPA_BATCH rows already in
DuckDB, plus the batch events the pipeline processes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from ingestion.catalog_memory import JsonDirCatalog, MemoryBatches
from ingestion.pipeline import Pipeline, PipelineConfig, hand_the_gil_over_sooner, tune_gc_for_streaming
from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.logging_setup import configure_logging
from lpa.settings import load_settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingestion.pipeline_main", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap host:port")
    parser.add_argument("--duckdb", required=True, type=Path, help="analytics store file")
    parser.add_argument("--catalog-dir", required=True, type=Path, help="directory of course hierarchy JSON files")
    parser.add_argument("--raw-topic")
    parser.add_argument("--enriched-topic")
    parser.add_argument("--deadletter-topic")
    parser.add_argument("--group")
    parser.add_argument("--no-enriched", action="store_true", help="do not publish to the enriched topic")
    parser.add_argument("--exit-when-idle", action="store_true", help="stop after two empty polls; print stats")
    parser.add_argument("--max-poll-records", type=int, default=5000)
    parser.add_argument("--duckdb-threads", type=int, default=None,
                        help="DuckDB worker threads (default: 1 on a machine with 2 cores or fewer, else DuckDB's)")
    return parser.parse_args(argv)


def writer_threads(cores: int | None = os.cpu_count()) -> int | None:
    """This process only writes. On 2 cores a second DuckDB thread competes with the Kafka/JSON thread (one
    thread was ahead in 4 of 4 interleaved benchmark runs, +3-38%); with more cores DuckDB's default stands."""
    return 1 if cores is not None and cores <= 2 else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = load_settings()
    tune_gc_for_streaming()
    hand_the_gil_over_sooner()
    configure_logging(settings.log_level, settings.log_format)
    overrides = {k: v for k, v in {"raw_topic": args.raw_topic, "enriched_topic": args.enriched_topic,
                                   "deadletter_topic": args.deadletter_topic,
                                   "consumer_group": args.group}.items() if v}
    config = PipelineConfig.from_settings(settings.model_copy(update=overrides), args.bootstrap,
                                          publish_enriched=not args.no_enriched,
                                          max_poll_records=args.max_poll_records)
    conn = open_duckdb(args.duckdb, threads=args.duckdb_threads or writer_threads())
    batches = MemoryBatches.from_json_dir(args.catalog_dir)
    batches.load_from_duckdb(conn)
    pipeline = Pipeline(config, conn, JsonDirCatalog(args.catalog_dir), batches, on_metadata_event=batches.apply)
    if args.exit_when_idle:
        stats = pipeline.run_until_idle(timeout_s=3600)
        pipeline.close()
        print(json.dumps(stats.__dict__))
        return 0
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        pipeline.run(stop)
    except Exception:
        return 1
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
