"""course_completion, the counts every writer keeps (ingestion/sinks/duckdb_state.py): the sink's incremental
recounts equal a full recount, a republish recounts its course, an older store gets its counts on open, and
the writers of a store take turns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.fast_enrich import content_state_rows
from ingestion.hierarchy import parse_hierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.duckdb_sink import DuckDBSink, SinkBatch
from ingestion.sinks.duckdb_state import STATE_WRITE_LOCK, refresh_all
from query_api.store.duckdb_store import DuckDBStore
from tests.fixtures import events as ev
from tests.fixtures.courses import simple_course

T0 = 1732500000000
COURSE_V1 = simple_course("c1", {"u1": ["a", "b"], "u2": ["c", "d"]})
COURSE_V2 = simple_course("c1", {"u1": ["a"], "u3": ["c", "e"]})  # b and d gone, e new, u2 gone
OTHER = simple_course("c2", {"v1": ["x", "y"]})


def completion(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], tuple[int, dict[str, int]]]:
    rows = conn.execute("SELECT user_id, batch_id, course_id, completed, units FROM course_completion").fetchall()
    return {(u, b, c): (n, dict(units)) for u, b, c, n, units in rows}


def best(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, int, dict[str, int], int]]:
    rows = conn.execute("SELECT user_id, course_id, batch_id, completed, units, last_ets FROM course_best").fetchall()
    return {(u, c): (b, n, dict(units), ets) for u, c, b, n, units, ets in rows}


def state(conn: duckdb.DuckDBPyConnection) -> tuple[dict, dict]:
    return completion(conn), best(conn)


def recounted(conn: duckdb.DuckDBPyConnection) -> tuple[dict, dict]:
    """What a full recount gives, without keeping it."""
    conn.execute("BEGIN TRANSACTION")
    try:
        refresh_all(conn)
        return state(conn)
    finally:
        conn.execute("ROLLBACK")


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_duckdb(":memory:")
    yield connection
    connection.close()


def write(conn: duckdb.DuckDBPyConnection, catalog: MemoryCatalog, events: list[dict[str, Any]],
          offset: int = 0, batches: MemoryBatches | None = None) -> None:
    batch = SinkBatch(source="lpa.raw")
    for i, event in enumerate(events):
        enriched = content_state_rows(ev.line(event), catalog, batches or MemoryBatches())
        assert enriched is not None
        batch.add_row_tuples(0, offset + i, enriched[0], enriched[1])
    DuckDBSink(conn).write(batch)


items = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "x", "elsewhere"]), st.integers(0, 2)),
                 max_size=4)
stream = st.lists(st.tuples(st.sampled_from(["u_1", "u_2"]), st.sampled_from(["b1", "b2"]),
                            st.sampled_from(["c1", "c2"]), items), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=stream, polls=st.integers(1, 5), republish_after=st.integers(0, 25))
def test_the_sinks_counts_equal_a_full_recount(conn: duckdb.DuckDBPyConnection, events: list[tuple],
                                                polls: int, republish_after: int) -> None:
    for table in ("content_state", "course_activity", "course_completion", "course_best", "course_leaves",
                  "unit_leaves"):
        conn.execute(f"DELETE FROM {table}")  # noqa: S608 (constant table names)
    store, catalog = DuckDBStore(conn, timeout_s=30), MemoryCatalog([COURSE_V1, OTHER])
    for doc in (COURSE_V1, OTHER):
        store.replace_course_leaves(parse_hierarchy(doc))
    docs = [ev.content_state(u, b, c, contents, ets=T0 + i, mid=f"m{i}") for i, (u, b, c, contents) in
            enumerate(events)]
    size = max(1, len(docs) // polls)
    for start in range(0, len(docs), size):
        if start >= republish_after > start - size:
            store.replace_course_leaves(catalog.add(COURSE_V2))  # a republish between two polls
        write(conn, catalog, docs[start:start + size], offset=start)
        write(conn, catalog, docs[start:start + size], offset=start)  # a replay changes nothing
        assert state(conn) == recounted(conn)
    keys = conn.execute("SELECT DISTINCT user_id, batch_id, course_id FROM content_state WHERE status = 2").fetchall()
    assert set(completion(conn)) == set(keys)  # a row per key with a completion, no other
    assert conn.execute("SELECT count(*) FROM course_completion").fetchone() == (len(keys),)  # and only one
    pairs = conn.execute("SELECT DISTINCT user_id, course_id FROM course_activity").fetchall()
    assert set(best(conn)) == set(pairs)
    assert conn.execute("SELECT count(*) FROM course_best").fetchone() == (len(pairs),)


def test_counts_follow_the_rules_and_a_republish(conn: duckdb.DuckDBPyConnection) -> None:
    store, catalog = DuckDBStore(conn, timeout_s=30), MemoryCatalog([COURSE_V1, OTHER])
    store.replace_course_leaves(parse_hierarchy(COURSE_V1))
    store.replace_course_leaves(parse_hierarchy(OTHER))
    write(conn, catalog, [
        ev.content_state("u_1", "b1", "c1", [("a", 2), ("b", 2), ("c", 1), ("elsewhere", 2)], ets=T0, mid="m1"),
        ev.content_state("u_1", "b1", "c1", [("c", 2), ("b", 0)], ets=T0 + 1, mid="m2"),  # b stays completed
        ev.content_state("u_1", "b2", "c1", [("d", 1)], ets=T0 + 2, mid="m3"),  # no completion: no row
        ev.content_state("u_2", "b1", "c2", [("x", 2)], ets=T0 + 3, mid="m4"),
    ])
    assert completion(conn) == {("u_1", "b1", "c1"): (3, {"u1": 2, "u2": 1}), ("u_2", "b1", "c2"): (1, {"v1": 1})}
    # the cell: b1 has more completed leaves than the later b2; lastActivity is b2's
    assert best(conn) == {("u_1", "c1"): ("b1", 3, {"u1": 2, "u2": 1}, T0 + 2),
                          ("u_2", "c2"): ("b1", 1, {"v1": 1}, T0 + 3)}
    store.replace_course_leaves(catalog.add(COURSE_V2))  # a and c remain leaves; c moved to u3
    assert completion(conn) == {("u_1", "b1", "c1"): (2, {"u1": 1, "u3": 1}), ("u_2", "b1", "c2"): (1, {"v1": 1})}
    store.replace_course_leaves(parse_hierarchy(simple_course("c1", {"u9": ["z"]})))  # none completed any more
    assert completion(conn)[("u_1", "b1", "c1")] == (0, {})
    assert best(conn)[("u_1", "c1")] == ("b2", 0, {}, T0 + 2)  # a tie on 0: the latest activity wins


def test_a_store_without_counts_gets_them_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    conn = open_duckdb(path)
    DuckDBStore(conn).replace_course_leaves(parse_hierarchy(COURSE_V1))
    write(conn, MemoryCatalog([COURSE_V1]), [ev.content_state("u_1", "b1", "c1", [("a", 2), ("c", 2)], ets=T0)])
    expected = state(conn)
    conn.execute("DROP TABLE course_completion")  # as a store written before the tables existed
    conn.execute("DROP TABLE course_best")
    conn.close()
    reopened = open_duckdb(path)
    try:
        assert state(reopened) == expected
        assert expected[0] == {("u_1", "b1", "c1"): (2, {"u1": 1, "u2": 1})}
    finally:
        reopened.close()


def test_tables_without_their_hash_keys_are_rebuilt_once_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    conn = open_duckdb(path)
    DuckDBStore(conn).replace_course_leaves(parse_hierarchy(COURSE_V1))
    write(conn, MemoryCatalog([COURSE_V1]), [ev.content_state("u|1", "b1", "c1", [("a", 2), ("c", 1)], ets=T0),
                                             ev.content_state("u", "1|b1", "c1", [("a", 1)], ets=T0 + 1)],
          batches=MemoryBatches({"b1": "prog_1"}))
    states = "SELECT user_id, batch_id, course_id, content_id, status, last_ets FROM content_state ORDER BY ALL"
    activity = "SELECT user_id, batch_id, course_id, program_id, first_ets, last_ets FROM course_activity ORDER BY ALL"
    expected_states, expected_activity = conn.execute(states).fetchall(), conn.execute(activity).fetchall()
    # As an earlier version wrote them: keyed by their ids, no hash key columns.
    conn.execute("CREATE TABLE old_state AS SELECT * EXCLUDE (state_key) FROM content_state")
    conn.execute("CREATE TABLE old_activity AS SELECT * EXCLUDE (activity_key) FROM course_activity")
    conn.execute("DROP TABLE content_state")
    conn.execute("DROP TABLE course_activity")
    conn.execute("""CREATE TABLE content_state (user_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
        course_id VARCHAR NOT NULL, content_id VARCHAR NOT NULL, status BIGINT NOT NULL, last_ets BIGINT NOT NULL,
        PRIMARY KEY (user_id, batch_id, course_id, content_id))""")
    conn.execute("""CREATE TABLE course_activity (user_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL,
        course_id VARCHAR NOT NULL, program_id VARCHAR, first_ets BIGINT NOT NULL, last_ets BIGINT NOT NULL,
        PRIMARY KEY (user_id, batch_id, course_id))""")
    conn.execute("INSERT INTO content_state SELECT * FROM old_state")
    conn.execute("INSERT INTO course_activity SELECT * FROM old_activity")
    conn.close()
    reopened = open_duckdb(path)
    try:
        assert reopened.execute(states).fetchall() == expected_states
        assert reopened.execute(activity).fetchall() == expected_activity
        assert len(expected_states) == 3 and len(expected_activity) == 2  # ids that only differ by where a "|"
        # sits stay apart. The sink goes on writing into the rebuilt tables: nothing is doubled.
        write(reopened, MemoryCatalog([COURSE_V1]), [ev.content_state("u|1", "b1", "c1", [("c", 2)], ets=T0 + 2)])
        after = reopened.execute(states).fetchall()
        assert len(after) == 3 and ("u|1", "b1", "c1", "c", 2, T0 + 2) in after
        after_activity = reopened.execute(activity).fetchall()
        # The program id survives the rebuild, and a later event without one keeps it.
        assert len(after_activity) == 2 and ("u|1", "b1", "c1", "prog_1", T0, T0 + 2) in after_activity
        keys = {"content_state": "state_key", "course_activity": "activity_key"}
        for table, key in keys.items():  # the hash key is the primary key again
            assert reopened.execute("SELECT count(*) FROM duckdb_constraints() WHERE table_name = ? AND "
                                    "constraint_type = 'PRIMARY KEY' AND constraint_column_names = [?]",
                                    [table, key]).fetchone() == (1,)
    finally:
        reopened.close()


def test_a_republish_waits_for_the_sinks_transaction(conn: duckdb.DuckDBPyConnection) -> None:
    """Without turns, a sink could insert a key counted against the old leaves while a republish recounts the
    course from a snapshot that does not hold it: both commit, and the count stays stale."""
    store = DuckDBStore(conn, timeout_s=30)
    done = threading.Event()
    with STATE_WRITE_LOCK:  # as the sink holds it for its transaction
        worker = threading.Thread(target=lambda: (store.replace_course_leaves(parse_hierarchy(COURSE_V1)),
                                                  done.set()))
        worker.start()
        assert not done.wait(0.3)
    worker.join(timeout=10)
    assert done.is_set()
