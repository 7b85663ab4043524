"""benchmarks/ingest_writer.py: it records the batches a real pipeline run commits and writes them again into
a fresh store, which must end up with what the pipeline stored (otherwise its timings describe other work)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.ingest_writer import TimedConnection, record_batches, replay, statement_label
from ingestion.sinks.duckdb_conn import open_duckdb

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("enriched_events", "raw_log", "content_state", "course_activity", "course_completion", "course_best",
          "deadletters", "pipeline_offsets")


def _contents(path: Path) -> dict[str, int]:
    conn = open_duckdb(path)
    try:
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
                  for table in TABLES}
        counts["row_ids"] = conn.execute("SELECT count(DISTINCT row_id) FROM enriched_events").fetchone()[0]
        return counts
    finally:
        conn.close()


def test_the_replayed_batches_store_what_the_pipeline_stored(tmp_path: Path) -> None:
    batches = record_batches(3000, tmp_path)
    assert sum(tables.messages for tables in batches) == 3000
    total, seconds = replay(batches, tmp_path / "replay.duckdb")
    assert total > 0 and seconds["COMMIT"] > 0
    recorded, replayed = _contents(tmp_path / "record.duckdb"), _contents(tmp_path / "replay.duckdb")
    assert replayed == recorded
    assert recorded["raw_log"] == 3000 and recorded["deadletters"] > 0 and recorded["course_best"] > 0


def test_the_command_writes_its_results_file(tmp_path: Path) -> None:
    out = tmp_path / "writer.json"
    printed = subprocess.run([sys.executable, "benchmarks/ingest_writer.py", "--events", "2000", "--replays", "1",
                              "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    result = json.loads(out.read_text())
    assert sum(result["batches"]) == 2000 and result["writer_seconds_min"] > 0
    assert "COMMIT" in result["statement_seconds_min"] and "messages/s" in printed


def test_statements_are_labelled_by_their_first_words() -> None:
    label = statement_label("INSERT INTO raw_log\n   SELECT ?, m.partition")
    assert label == "INSERT INTO raw_log SELECT ?, m.partition"
    conn = TimedConnection(open_duckdb())
    conn.execute("SELECT ?", [1])
    conn.execute("SELECT ?", [2])
    assert list(conn.seconds) == ["SELECT ?"]
