"""The DuckDB adapter runs the shared progress SQL: every contract section 3 rule through the real engine,
plus timeouts and a closed store (503 material, never a hang)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import duckdb
import pytest

from ingestion.hierarchy import parse_hierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from query_api.progress.compute import build_report
from query_api.store.base import CourseProgressRow, StoreTimeout, StoreUnavailable, UnitProgressRow
from query_api.store.duckdb_store import DuckDBStore
from query_api.store.queries import Relation, course_progress_sql, placeholders
from tests.fixtures.courses import COLLECTION, FRACTIONS, simple_course
from tests.fixtures.progress_state import StateEvent as E
from tests.fixtures.progress_state import apply_events

T0 = 1732500000000


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_duckdb(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def store(conn: duckdb.DuckDBPyConnection) -> DuckDBStore:
    return DuckDBStore(conn, timeout_s=5)


def _entry(store: DuckDBStore, doc: dict, user: str = "u") -> dict:
    course = parse_hierarchy(doc)
    report = build_report("g", [course], [user], store.progress_rows([user], [course.course_id]))
    return report["members"][0]["courses"][0]


def test_contract_example_through_sql(store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    store.replace_course_leaves(parse_hierarchy(FRACTIONS))
    apply_events(conn, [E("u", "b_101", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_3": 2})])
    entry = _entry(store, FRACTIONS)
    assert (entry["completed"], entry["leafCount"], entry["percent"], entry["batchId"]) == (1, 2, 50, "b_101")
    assert entry["units"] == [{"unitId": "do_unit_1", "completed": 1, "leafCount": 2, "percent": 50}]


def test_status_is_sticky_a_later_lower_status_does_not_undo_completion(
        store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    store.replace_course_leaves(parse_hierarchy(FRACTIONS))
    apply_events(conn, [E("u", "b", "do_course_1", T0 + 10, {"do_leaf_1": 2}),
                        E("u", "b", "do_course_1", T0 + 20, {"do_leaf_1": 1}),
                        E("u", "b", "do_course_1", T0 + 5, {"do_leaf_1": 0})])  # out of ets order
    entry = _entry(store, FRACTIONS)
    assert entry["completed"] == 1
    assert entry["lastActivity"] == "2024-11-25T02:00:00Z"


def test_optional_leaves_and_units_do_not_count(store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    doc = copy.deepcopy(FRACTIONS)
    doc["children"][0]["children"][1]["optional"] = True  # do_leaf_2 optional by its own flag
    store.replace_course_leaves(parse_hierarchy(doc))
    apply_events(conn, [E("u", "b", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_2": 2, "do_leaf_3": 2})])
    entry = _entry(store, doc)
    assert (entry["completed"], entry["leafCount"], entry["percent"]) == (1, 1, 100)
    assert [u["unitId"] for u in entry["units"]] == ["do_unit_1"]  # optional do_unit_2 left out


def test_unit_with_only_optional_leaves_stays_with_leaf_count_zero(
        store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    doc = simple_course("c", {"u1": ["a"], "u2": ["b"]})
    doc["children"][1]["relationalMetadata"] = {"b": {"optional": True}}
    store.replace_course_leaves(parse_hierarchy(doc))
    apply_events(conn, [E("u", "b1", "c", T0, {"a": 2, "b": 2})])
    entry = _entry(store, doc)
    assert entry["units"] == [{"unitId": "u1", "completed": 1, "leafCount": 1, "percent": 100},
                              {"unitId": "u2", "completed": 0, "leafCount": 0, "percent": 0}]


def test_republish_counts_against_the_current_hierarchy_including_content_stored_before(
        store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    v1 = simple_course("c", {"u1": ["a", "b"]})
    store.replace_course_leaves(parse_hierarchy(v1))
    # "z" is outside the hierarchy: stored, not counted yet
    apply_events(conn, [E("u", "b1", "c", T0, {"a": 2, "b": 2, "z": 2})])
    assert _entry(store, v1)["percent"] == 100

    v2 = simple_course("c", {"u1": ["a", "c"], "u2": ["z", "y"]})  # b removed, c and z, y added
    store.replace_course_leaves(parse_hierarchy(v2))
    entry = _entry(store, v2)
    assert (entry["completed"], entry["leafCount"], entry["percent"]) == (2, 4, 50)
    assert [(u["unitId"], u["completed"]) for u in entry["units"]] == [("u1", 1), ("u2", 1)]


def test_leaf_under_two_units_counts_in_each_and_once_in_the_course(
        store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    doc = simple_course("c", {"u1": ["shared", "a"], "u2": ["shared", "b"]})
    store.replace_course_leaves(parse_hierarchy(doc))
    apply_events(conn, [E("u", "b1", "c", T0, {"shared": 2})])
    entry = _entry(store, doc)
    assert (entry["completed"], entry["leafCount"]) == (1, 3)
    assert [(u["unitId"], u["completed"], u["leafCount"]) for u in entry["units"]] == [("u1", 1, 2), ("u2", 1, 2)]


def test_nested_collections_count_toward_their_depth_one_unit(
        store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    doc = simple_course("c", {"u1": ["a"]})
    doc["children"][0]["children"].append({"identifier": "sub", "mimeType": COLLECTION,
                                           "children": [{"identifier": "deep", "mimeType": "video/mp4"}]})
    store.replace_course_leaves(parse_hierarchy(doc))
    apply_events(conn, [E("u", "b1", "c", T0, {"deep": 2, "sub": 2})])  # a collection id never counts
    entry = _entry(store, doc)
    assert (entry["completed"], entry["leafCount"]) == (1, 2)
    assert entry["units"][0]["completed"] == 1


def test_best_batch_and_last_activity_over_all_batches(store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    doc = simple_course("c", {"u1": ["a", "b"], "u2": ["c"]})
    store.replace_course_leaves(parse_hierarchy(doc))
    apply_events(conn, [
        E("u", "b_old", "c", T0, {"a": 2, "b": 2}),
        E("u", "b_new", "c", T0 + 3_600_000, {"c": 2}),          # fewer completed, later
        E("u", "b_never_joined", "c", T0 + 7_200_000, {}),       # empty contents: activity only
    ])
    entry = _entry(store, doc)
    assert (entry["batchId"], entry["completed"]) == ("b_old", 2)
    assert entry["lastActivity"] == "2024-11-25T04:00:00Z"
    assert [(u["unitId"], u["completed"]) for u in entry["units"]] == [("u1", 2), ("u2", 0)]


def test_tie_goes_to_the_batch_with_the_latest_activity(store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    doc = simple_course("c", {"u1": ["a", "b"]})
    store.replace_course_leaves(parse_hierarchy(doc))
    apply_events(conn, [E("u", "b1", "c", T0 + 50, {"a": 2}),
                        E("u", "b2", "c", T0, {"b": 2}),
                        E("u", "b2", "c", T0 + 99, {"zzz_not_in_course": 1})])
    assert _entry(store, doc)["batchId"] == "b2"


def test_only_the_asked_learners_and_courses_are_read(store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    for cid in ("c1", "c2"):
        store.replace_course_leaves(parse_hierarchy(simple_course(cid, {"u": ["a"]})))
    apply_events(conn, [E(user, "b", cid, T0, {"a": 2}) for user in ("u1", "u2", "u'); --") for cid in ("c1", "c2")])
    rows = store.progress_rows(["u1", "u'); --"], ["c2"])
    assert sorted((CourseProgressRow(*r).user_id, r[2]) for r in rows.courses) == [("u'); --", "c2"), ("u1", "c2")]
    assert all(UnitProgressRow(*r).course_id == "c2" for r in rows.units)
    assert rows.units and rows.courses
    assert store.progress_rows([], ["c1"]).courses == []


def test_replace_course_leaves_removes_a_deleted_unit(store: DuckDBStore, conn: duckdb.DuckDBPyConnection) -> None:
    store.replace_course_leaves(parse_hierarchy(simple_course("c", {"u1": ["a"], "u2": ["b"]})))
    store.replace_course_leaves(parse_hierarchy(simple_course("c", {"u1": ["a"]})))
    assert conn.execute("SELECT unit_id, leaf_id FROM unit_leaves").fetchall() == [("u1", "a")]
    assert conn.execute("SELECT leaf_id FROM course_leaves").fetchall() == [("a",)]


def test_a_query_past_the_timeout_is_interrupted(conn: duckdb.DuckDBPyConnection) -> None:
    store = DuckDBStore(conn, timeout_s=0.2)
    with pytest.raises(StoreTimeout):
        store._run(lambda cur: cur.execute("SELECT sum(hash(range)) FROM range(100000000000)").fetchall())
    store.ping()  # the connection is still usable afterwards


def test_a_closed_store_is_unavailable_not_a_crash() -> None:
    connection = open_duckdb(":memory:")
    store = DuckDBStore(connection)
    connection.close()
    with pytest.raises(StoreUnavailable):
        store.progress_rows(["u"], ["c"])
    assert store.healthy() is False


def test_missing_tables_are_unavailable() -> None:
    store = DuckDBStore(duckdb.connect(":memory:"))
    with pytest.raises(StoreUnavailable):
        store.progress_rows(["u"], ["c"])


def test_shared_sql_uses_only_placeholders_and_adapter_relations() -> None:
    sql = course_progress_sql({r: f"rel_{r.value}" for r in Relation}, 3, 2)
    assert sql.count("?") == 2 * (3 + 2)
    assert "rel_content_state" in sql and "rel_course_activity" in sql
    with pytest.raises(ValueError):
        placeholders(0)
    with pytest.raises(ValueError):
        course_progress_sql({Relation.CONTENT_STATE: "x"}, 1, 1)
