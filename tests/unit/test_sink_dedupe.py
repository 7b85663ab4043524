"""enriched_events keeps each row_id once without a primary key: writers insert only ids not stored yet."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.duckdb_schema import insert_new_enriched_rows
from ingestion.sinks.duckdb_sink import ROW_SCHEMA


def _rows(*pairs: tuple[str, int]) -> pa.Table:
    columns = {field.name: [None] * len(pairs) for field in ROW_SCHEMA}
    columns |= {"row_id": [p[0] for p in pairs], "ets": [p[1] for p in pairs], "event_id": ["e"] * len(pairs),
                "eid": ["BE_JOB_REQUEST"] * len(pairs), "mid": ["m"] * len(pairs), "batch_id": ["b"] * len(pairs),
                "unit_ids": [[] for _ in pairs]}
    return pa.table(columns, schema=ROW_SCHEMA)


def test_stored_ids_and_repeats_within_the_new_rows_are_inserted_once(tmp_path: Path) -> None:
    conn = open_duckdb(tmp_path / "a.duckdb")
    conn.register("first", _rows(("r1", 10), ("r2", 20), ("r2", 20)))
    assert sorted(r[0] for r in conn.execute(insert_new_enriched_rows("first") + " RETURNING row_id").fetchall()) == [
        "r1", "r2"]
    # Far apart in time, so the ets range of the new rows spans old and new row groups alike.
    conn.register("second", _rows(("r2", 20), ("r3", 10_000_000), ("r1", 10)))
    assert [r[0] for r in conn.execute(insert_new_enriched_rows("second") + " RETURNING row_id").fetchall()] == ["r3"]
    conn.execute(insert_new_enriched_rows("second"))
    assert conn.execute("SELECT row_id, count(*) FROM enriched_events GROUP BY ALL ORDER BY 1").fetchall() == [
        ("r1", 1), ("r2", 1), ("r3", 1)]
