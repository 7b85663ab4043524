"""DuckDBSink.write_tables: a batch that fails part-way leaves nothing behind -- no rows, no offsets, no
registered relations -- and the same sink goes on to write the next batch."""

from __future__ import annotations

import dataclasses

import duckdb
import pyarrow as pa
import pytest

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.fast_enrich import content_state_message
from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.duckdb_sink import BatchTables, DeadLetter, DuckDBSink, SinkBatch, batch_tables
from tests.fixtures import events as ev
from tests.fixtures.courses import FRACTIONS

CATALOG = MemoryCatalog([FRACTIONS])
BATCHES = MemoryBatches({"b_1": None})
TABLES = ("enriched_events", "raw_log", "content_state", "course_activity", "course_completion", "course_best",
          "deadletters", "pipeline_offsets")


def _batch() -> SinkBatch:
    batch = SinkBatch(source="lpa.raw@test")
    for offset, user in enumerate(("u_1", "u_2", "u_3")):
        raw = ev.line(ev.content_state(user, "b_1", FRACTIONS["identifier"], [("do_leaf_1", 2)], ets=1732500000000,
                                       mid=f"m{offset}"))
        message = content_state_message(raw, CATALOG, BATCHES)
        assert message is not None
        batch.add_fast(0, offset, message)
    batch.add_row_tuples(0, 3, None, [])
    batch.add_deadletter(DeadLetter(dl_id="dl-1", partition=0, offset=4, reason="invalid_json", detail="x",
                                    raw=b"{"))
    return batch


def _counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in TABLES}


def test_a_failing_batch_leaves_nothing_and_the_sink_writes_the_next() -> None:
    conn = open_duckdb()
    sink = DuckDBSink(conn)
    good = batch_tables(_batch(), sink.node_tables)
    broken = dataclasses.replace(good, tuples=pa.table({"not_a_column": [1]}))
    with pytest.raises(duckdb.Error):
        sink.write_tables(broken)
    assert set(_counts(conn).values()) == {0}
    for name in ("lpa_batch_fast", "lpa_batch_nodes", "lpa_batch_tuples", "lpa_batch_log", "lpa_batch_letters"):
        with pytest.raises(duckdb.CatalogException):
            conn.execute(f"SELECT * FROM {name}")  # noqa: S608 - fixed names
    result = sink.write_tables(good)
    assert (result.stored, result.deadlettered) == (3, 1)
    counts = _counts(conn)
    assert counts["raw_log"] == 5 and counts["deadletters"] == 1 and counts["content_state"] == 3
    assert conn.execute("SELECT next_offset FROM pipeline_offsets").fetchall() == [(5,)]


def test_fast_and_nodes_come_together() -> None:
    good = batch_tables(_batch(), DuckDBSink(open_duckdb()).node_tables)
    with pytest.raises(ValueError, match="both"):
        BatchTables(source=good.source, messages=good.messages, log=good.log, fast=good.fast)
