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
# What each table must hold alike in both stores (not the processed_at / received_at times of the writes).
COMPARED = {
    "enriched_events": "*",
    "raw_log": "topic, partition, \"offset\", outcome, event_id",
    "content_state": "*",
    "course_activity": "*",
    "course_completion": "*",
    "course_best": "*",
    "deadletters": "dl_id, topic, partition, \"offset\", reason, detail, raw",
    "pipeline_offsets": "*",
}


def _differences(recorded: Path, replayed: Path) -> dict[str, int]:
    """Per table, the rows in one store and not the other (both ways; a multiset comparison)."""
    conn = open_duckdb(replayed)
    try:
        # ATTACH takes no parameters: the test's own temporary path, quoted as a SQL string literal.
        quoted = str(recorded).replace("'", "''")
        conn.execute(f"ATTACH '{quoted}' AS recorded (READ_ONLY)")
        found = {}
        for table, columns in COMPARED.items():
            # Table and column names are the fixed ones above, never input.
            mine, theirs = f"SELECT {columns} FROM {table}", f"SELECT {columns} FROM recorded.{table}"
            found[table] = conn.execute(f"SELECT (SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})) + "
                                        f"(SELECT count(*) FROM ({theirs} EXCEPT ALL {mine}))").fetchone()[0]
        return found
    finally:
        conn.close()


def test_the_replayed_batches_store_what_the_pipeline_stored(tmp_path: Path) -> None:
    batches = record_batches(3000, tmp_path)
    assert sum(tables.messages for tables in batches) == 3000
    total, seconds = replay(batches, tmp_path / "replay.duckdb")
    assert total > 0 and seconds["COMMIT"] > 0
    assert _differences(tmp_path / "record.duckdb", tmp_path / "replay.duckdb") == dict.fromkeys(COMPARED, 0)
    conn = open_duckdb(tmp_path / "replay.duckdb")
    try:
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
                  for table in ("raw_log", "deadletters", "course_best")}
    finally:
        conn.close()
    assert counts["raw_log"] == 3000 and counts["deadletters"] > 0 and counts["course_best"] > 0


def test_the_command_writes_its_results_file(tmp_path: Path) -> None:
    out = tmp_path / "writer.json"
    printed = subprocess.run([sys.executable, "benchmarks/ingest_writer.py", "--events", "2000", "--replays", "1",
                              "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=True,
                             timeout=300).stdout
    result = json.loads(out.read_text())
    assert sum(result["batches"]) == 2000 and result["writer_seconds_min"] > 0
    assert "COMMIT" in result["statement_seconds_min"] and "messages/s" in printed


def test_statements_are_labelled_by_their_first_words() -> None:
    label = statement_label("INSERT INTO raw_log\n   SELECT ?, m.partition")
    assert label == "INSERT INTO raw_log SELECT ?, m.partition"
    store = open_duckdb()
    try:
        conn = TimedConnection(store)
        conn.execute("SELECT ?", [1])
        conn.execute("SELECT ?", [2])
        assert list(conn.seconds) == ["SELECT ?"]
    finally:
        store.close()
