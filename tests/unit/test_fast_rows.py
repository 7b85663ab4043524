"""DuckDB makes the same rows as Python for accepted content-state events (ingestion/sinks/fast_rows.py).

Reference: `content_state_rows` (itself pinned to the pydantic reference path by test_fast_enrich.py). The
pipeline hands DuckDB the canonical JSON, the program id and the hierarchy (`content_state_message`); the
SQL must give the same row tuples, ids included, and the sink must store the same thing either way."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.events import MAX_ETS
from ingestion.fast_enrich import content_state_message, content_state_rows
from ingestion.schema import COLUMNS
from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.duckdb_sink import DeadLetter, DuckDBSink, SinkBatch
from ingestion.sinks.fast_rows import (
    FAST_RELATION,
    NODES_RELATION,
    NodeTables,
    create_events_sql,
    fast_rows_sql,
)
from tests.fixtures import events as ev
from tests.fixtures.courses import FRACTIONS, simple_course

OTHER = simple_course("do_c1", {"u1": ["l1", "l2"], "u2": ["l2", "l3"]})
CATALOG = MemoryCatalog([FRACTIONS, OTHER])
BATCHES = MemoryBatches({"b_101": "prog_9", "b_known": None, "b_2": None})
_COLS = ", ".join(f'"{c}"' for c in COLUMNS)


def sql_rows(raws: list[bytes]) -> list[list[tuple[Any, ...]]]:
    """Per raw message (all accepted), the rows DuckDB makes, in item order."""
    batch = SinkBatch(source="t")
    for offset, raw in enumerate(raws):
        message = content_state_message(raw, CATALOG, BATCHES)
        assert message is not None, raw
        batch.add_fast(0, offset, message)
    conn = duckdb.connect()
    conn.register(FAST_RELATION, batch.fast_table())
    conn.register(NODES_RELATION, NodeTables().table(batch.courses))
    conn.execute(create_events_sql())
    found: list[list[tuple[Any, ...]]] = [[] for _ in raws]
    for *row, msg in conn.execute(f"SELECT {_COLS}, msg FROM ({fast_rows_sql()}) ORDER BY msg, item").fetchall():
        found[msg].append(tuple(row))
    return found


def python_rows(raw: bytes) -> list[tuple[Any, ...]]:
    fast = content_state_rows(raw, CATALOG, BATCHES)
    assert fast is not None
    return fast[1]


def assert_same_rows(raws: list[bytes]) -> None:
    assert sql_rows(raws) == [python_rows(raw) for raw in raws]


@pytest.mark.parametrize("contents", [[], [("do_leaf_1", 2)], [("do_leaf_1", 2), ("do_leaf_3", 1), ("nowhere", 0)],
                                      [("do_unit_1", 1)], [("do_leaf_1", 2), ("do_leaf_1", 2)]])
def test_rows_and_ids_equal_pythons(contents: list[tuple[str, int]]) -> None:
    assert_same_rows([ev.line(ev.content_state(contents=contents))])


def test_a_leaf_under_two_units_a_batch_without_program_and_several_courses_in_one_batch() -> None:
    assert_same_rows([ev.line(ev.content_state(batch="b_2", course="do_c1", contents=[("l2", 2), ("l3", 1)])),
                      ev.line(ev.content_state(contents=[("do_leaf_2", 1)])),
                      ev.line(ev.content_state(batch="b_unknown", course="do_c1", contents=[]))])


@pytest.mark.parametrize("text", ["ü_7 ✓", 'quote"d', "back\\slash", "tab\there", "line\nbreak", "😀 emoji",
                                  "pipe|in|id", "x" * 256, "\u2028", "\x1f", "\\u0041"])
def test_strings_that_json_escapes_come_out_the_same(text: str) -> None:
    event = ev.content_state(user=text, batch=text, contents=[(text, 2), ("do_leaf_1", 1)])
    event["mid"] = text
    event["extra"] = {"nested": [1, 2.5, None, text]}
    assert_same_rows([json.dumps(event, ensure_ascii=False).encode(), json.dumps(event).encode()])


@pytest.mark.parametrize("ets", [0, 1, MAX_ETS])
def test_ets_at_the_bounds(ets: int) -> None:
    assert_same_rows([ev.line(ev.content_state(contents=[("do_leaf_1", 2)], ets=ets))])


def test_a_nul_in_a_string_is_left_to_the_python_rows() -> None:
    raw = ev.line(ev.content_state(user="a\x00b", contents=[("do_leaf_1", 2)]))
    assert content_state_message(raw, CATALOG, BATCHES) is None
    assert content_state_rows(raw, CATALOG, BATCHES) is not None


def test_only_what_the_python_path_accepts_is_handed_over() -> None:
    for raw in (b"{", ev.line(ev.content_state(course="do_not_in_catalog")), ev.line(ev.enrolment("u", "b_101"))):
        assert content_state_message(raw, CATALOG, BATCHES) is None
        assert content_state_rows(raw, CATALOG, BATCHES) is None


_IDS = st.text(min_size=1, max_size=12) | st.sampled_from(["do_leaf_1", "do_leaf_2", "do_leaf_3", "do_unit_1",
                                                             "l2", "l3"])


@st.composite
def _events(draw: st.DrawFn) -> bytes:
    course = draw(st.sampled_from(["do_course_1", "do_c1"]))
    event = ev.content_state(user=draw(_IDS), batch=draw(st.sampled_from(["b_101", "b_2", "b_new"]) | _IDS),
                             course=course, ets=draw(st.integers(0, MAX_ETS)),
                             contents=draw(st.lists(st.tuples(_IDS, st.integers(0, 2)), max_size=4)))
    event["mid"] = draw(_IDS)
    return orjson.dumps(event) if draw(st.booleans()) else json.dumps(event, ensure_ascii=False, indent=1).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raws=st.lists(_events(), min_size=1, max_size=8))
def test_generated_batches_get_the_same_rows(raws: list[bytes]) -> None:
    raws = [raw for raw in raws if b"\\u0000" not in raw and b"\x00" not in raw]
    if raws:
        assert_same_rows(raws)


def _store(raws: list[bytes], fast: bool, rounds: int = 2) -> dict[str, list[tuple[Any, ...]]]:
    """Writes the messages `rounds` times (the second time all duplicates) and returns the store's tables."""
    conn = open_duckdb()
    sink = DuckDBSink(conn)
    offset = 0
    for _ in range(rounds):
        batch = SinkBatch(source="t")
        for raw in raws:
            message = content_state_message(raw, CATALOG, BATCHES) if fast else None
            if message is not None:
                batch.add_fast(0, offset, message)
            elif (rows := content_state_rows(raw, CATALOG, BATCHES)) is not None:
                batch.add_row_tuples(0, offset, rows[0], rows[1])
            else:
                batch.add_deadletter(DeadLetter(f"dl{offset}", 0, offset, "invalid_json", "", raw))
            offset += 1
        sink.write(batch)
    return {table: conn.execute(f"SELECT * EXCLUDE ({skip}) FROM {table} ORDER BY ALL").fetchall()
            for table, skip in (("enriched_events", "__time"), ("content_state", "last_ets"),
                                ("course_best", "entry"), ("raw_log", "processed_at"))}


def test_the_sink_stores_the_same_either_way_including_repeats() -> None:
    one = ev.line(ev.content_state(contents=[("do_leaf_1", 2), ("do_leaf_2", 1)], ets=1_732_500_000_000))
    same_fact = ev.line(ev.content_state(contents=[("do_leaf_1", 2)], ets=1_732_500_000_000, mid="other"))
    raws = [one, one, same_fact, b"{broken", ev.line(ev.content_state(contents=[], ets=5)),
            ev.line(ev.content_state(batch="b_2", course="do_c1", contents=[("l2", 2)]))]
    assert _store(raws, fast=True) == _store(raws, fast=False)
    outcomes = [row[3] for row in sorted(_store(raws, fast=True)["raw_log"], key=lambda r: r[2])]
    assert outcomes == ["stored", "duplicate", "duplicate", "deadlettered", "stored", "stored",
                        "duplicate", "duplicate", "duplicate", "deadlettered", "duplicate", "duplicate"]


def test_the_first_message_of_a_repeated_fact_owns_its_row() -> None:
    first = ev.line(ev.content_state(contents=[("do_leaf_1", 2)], ets=7, mid="first"))
    second = ev.line(ev.content_state(contents=[("do_leaf_1", 2)], ets=7, mid="second"))
    stored = _store([first, second], fast=True, rounds=1)["enriched_events"]
    assert [row[COLUMNS.index("mid")] for row in stored] == ["first"]


def test_a_fact_repeated_across_both_paths_keeps_its_first_message() -> None:
    """A row made by DuckDB and a Python row tuple with one row_id: the earlier message wins, either way."""
    fact = [("do_leaf_1", 2)]
    fast_first = ev.line(ev.content_state(contents=fact, ets=9, mid="fast"))
    tuple_later = ev.line(ev.content_state(contents=fact, ets=9, mid="tuple"))
    for order in ((fast_first, True), (tuple_later, False)), ((tuple_later, False), (fast_first, True)):
        conn = open_duckdb()
        batch = SinkBatch(source="t")
        for offset, (raw, fast) in enumerate(order):
            if fast:
                message = content_state_message(raw, CATALOG, BATCHES)
                assert message is not None
                batch.add_fast(0, offset, message)
            else:
                rows = content_state_rows(raw, CATALOG, BATCHES)
                assert rows is not None
                batch.add_row_tuples(0, offset, rows[0], rows[1])
        result = DuckDBSink(conn).write(batch)
        assert (result.stored, result.duplicates, result.rows_inserted) == (1, 1, 1)
        first_mid = orjson.loads(order[0][0])["mid"]
        assert conn.execute("SELECT mid FROM enriched_events").fetchall() == [(first_mid,)]
        assert conn.execute('SELECT "offset", outcome FROM raw_log ORDER BY 1').fetchall() == [
            (0, "stored"), (1, "duplicate")]


def test_a_republish_within_one_batch_gives_each_event_its_own_hierarchy() -> None:
    before = MemoryCatalog([OTHER])
    after = MemoryCatalog([simple_course("do_c1", {"u9": ["l2"], "u2": ["l3"]})])  # l2 moved to unit u9
    raw = [ev.line(ev.content_state(batch="b_2", course="do_c1", contents=[("l2", 2)], ets=ets)) for ets in (1, 2)]
    batch = SinkBatch(source="t")
    for offset, catalog in enumerate((before, after)):
        message = content_state_message(raw[offset], catalog, BATCHES)
        assert message is not None
        batch.add_fast(0, offset, message)
    conn = open_duckdb()
    sink = DuckDBSink(conn)
    sink.write(batch)
    units = conn.execute("SELECT ets, unit_ids FROM enriched_events ORDER BY ets").fetchall()
    assert units == [(1, ["u1", "u2"]), (2, ["u9"])]
    again = SinkBatch(source="t")  # the cache gives the republished hierarchy, not the first one
    message = content_state_message(ev.line(ev.content_state(batch="b_2", course="do_c1", contents=[("l2", 1)],
                                                             ets=3)), after, BATCHES)
    assert message is not None
    again.add_fast(0, 2, message)
    sink.write(again)
    assert conn.execute("SELECT unit_ids FROM enriched_events WHERE ets = 3").fetchall() == [(["u9"],)]


def test_a_replay_fills_the_program_the_first_time_lacked() -> None:
    raw = ev.line(ev.content_state(batch="b_late", contents=[("do_leaf_1", 2)], ets=11))
    conn = open_duckdb()
    sink = DuckDBSink(conn)
    for offset, batches in enumerate((MemoryBatches({}), MemoryBatches({"b_late": "prog_late"}))):
        batch = SinkBatch(source="t")
        message = content_state_message(raw, CATALOG, batches)
        assert message is not None
        batch.add_fast(0, offset, message)
        sink.write(batch)
    assert conn.execute("SELECT program_id FROM course_activity").fetchall() == [("prog_late",)]
    assert conn.execute("SELECT count(*) FROM enriched_events").fetchone() == (1,)
