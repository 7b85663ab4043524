"""The DuckDB adapter's one-statement report (query_api/store/duckdb_report.py) writes the same bytes as the
reference path: the shared SQL's rows (`progress_rows`) written by `json_writer.report_json`, which a
property test in test_progress_json_writer.py holds equal to `build_report`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.hierarchy import CourseHierarchy, parse_hierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.json_sql import json_string_sql
from query_api.progress.compute import build_report
from query_api.progress.json_writer import report_json
from query_api.progress.models import ProgressReport
from query_api.store.base import AnalyticsStore, ProgressRows, StoreTimeout, StoreUnavailable
from query_api.store.duckdb_report import _KEPT_PARAMS, _KEPT_SQL, ReportStatement
from query_api.store.duckdb_store import DuckDBStore
from tests.fixtures.courses import FRACTIONS, simple_course
from tests.fixtures.progress_state import StateEvent as E
from tests.fixtures.progress_state import apply_events

T0 = 1732500000000
USERS = ["u1", "u2", 'u"3', "ü4", "u\\5", "u'); --"]
# batch ids come from the data, so the SQL escapes them: quotes, backslashes, control characters, non-ASCII
BATCHES = ["b1", "b2", "b\u00e93", 'b"4', "b\\5", "b\n6\t\x01", "b\u20287"]
COURSES = {
    "do_course_1": [parse_hierarchy(FRACTIONS)],
    # two versions each: the store's leaves may be an older or newer publish than the caller's hierarchy
    "c2": [parse_hierarchy(simple_course("c2", {"x1": ["a", "b", "c"], "x2": ["c", "d"], "x3": []}, name='Na"me')),
           parse_hierarchy(simple_course("c2", {"x2": ["c"], "x1": ["a", "e"]}))],
    "c3": [parse_hierarchy(simple_course("c3", {})),
           parse_hierarchy(simple_course("c3", {"y1": ["a", "b"], "y2": ["b", "z"], "y3": ["q"]}))],
}
CONTENTS = ["do_leaf_1", "do_leaf_2", "do_leaf_3", "a", "b", "c", "d", "e", "z", "q", "elsewhere"]
ETS = st.integers(min_value=0, max_value=4_102_444_800_000)

events = st.lists(st.builds(
    E, st.sampled_from(USERS), st.sampled_from(BATCHES), st.sampled_from([*COURSES, "c_unknown"]), ETS,
    st.dictionaries(st.sampled_from(CONTENTS), st.integers(0, 2), max_size=5)), max_size=30)
versions = st.fixed_dictionaries({cid: st.integers(0, len(v) - 1) for cid, v in COURSES.items()})
report_courses = st.lists(st.sampled_from([*COURSES, "c_unknown"]), max_size=5)


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_duckdb(":memory:")
    yield connection
    connection.close()


def _clear(conn: duckdb.DuckDBPyConnection) -> None:
    for table in ("content_state", "course_activity", "course_completion", "course_best", "course_leaves",
                  "unit_leaves"):
        conn.execute(f"DELETE FROM {table}")  # noqa: S608 (constant table names)


def _hierarchy(course_id: str, version: int) -> CourseHierarchy:
    if course_id not in COURSES:
        return CourseHierarchy(course_id=course_id, name=course_id)  # not in the catalog: no leaves
    return COURSES[course_id][min(version, len(COURSES[course_id]) - 1)]


def _reference(store: DuckDBStore, group_id: str, courses: list[CourseHierarchy], members: list[str]) -> bytes:
    return report_json(group_id, courses, members, store.progress_rows(members, [c.course_id for c in courses]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(evs=events, stored=versions, shown=versions, course_ids=report_courses,
       members=st.lists(st.sampled_from([*USERS, "u_none"]), max_size=8))
def test_one_statement_report_equals_the_reference_writer(
        conn: duckdb.DuckDBPyConnection, evs: list[E], stored: dict[str, int], shown: dict[str, int],
        course_ids: list[str], members: list[str]) -> None:
    _clear(conn)
    store = DuckDBStore(conn, timeout_s=30)
    for course_id, version in stored.items():
        store.replace_course_leaves(COURSES[course_id][version])
    apply_events(conn, evs)
    courses = [_hierarchy(cid, shown.get(cid, 0)) for cid in course_ids]  # repeats and unknown courses too
    written = store.progress_json("g\u00e9", courses, members)
    assert written == _reference(store, "g\u00e9", courses, members)
    ProgressReport.model_validate(json.loads(written))
    # the page, the CSV and the filtered answers parse this text instead of building the report from rows
    rows = store.progress_rows(members, [c.course_id for c in courses])
    assert orjson.loads(written) == build_report("g\u00e9", courses, members, rows)


SCENARIOS = {
    # a leaf under two units counts in each of them and once in the course
    "shared leaf": ({"c2": 0}, [E("u1", "b1", "c2", T0, {"a": 2, "c": 2, "d": 1})], ["c2"]),
    # the caller's hierarchy is newer than the store's leaves: a unit's count above its size caps at 100%
    "stale leaves": ({"c2": 0}, [E("u1", "b1", "c2", T0, {"a": 2, "b": 2, "c": 2})], ["c2"]),
    # best batch: most completed, then latest activity, then the smallest batch id; lastActivity over all
    "best batch": ({"c2": 0}, [E("u1", "b2", "c2", T0 + 5000, {"a": 2}), E("u1", "b1", "c2", T0 + 5000, {"b": 2}),
                               E("u1", 'b"0', "c2", T0 + 9000, {"z": 2}), E("u2", "b2", "c2", T0, {"a": 2}),
                               E("u2", "b1", "c2", T0 + 3000, {"b": 2}), E("u2", "b3", "c2", T0 + 60000, {})],
                   ["c2", "do_course_1", "c2"]),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_rules_through_the_one_statement(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    stored, evs, course_ids = SCENARIOS[name]
    store = DuckDBStore(conn)
    for course_id, version in stored.items():
        store.replace_course_leaves(COURSES[course_id][version])
    apply_events(conn, evs)
    for version in (0, 1):
        courses = [_hierarchy(cid, version) for cid in course_ids]
        written = store.progress_json("g", courses, ["u1", "u2"])
        assert written == _reference(store, "g", courses, ["u1", "u2"]), version
    entry = json.loads(store.progress_json("g", [COURSES["c2"][1]], ["u1"]))["members"][0]["courses"][0]
    if name == "shared leaf":
        assert entry["completed"] == 2
    if name == "stale leaves":
        assert entry["units"][1] == {"unitId": "x1", "completed": 2, "leafCount": 2, "percent": 100}
    if name == "best batch":
        assert (entry["batchId"], entry["lastActivity"]) == ("b1", "2024-11-25T02:00:09Z")
        other = json.loads(store.progress_json("g", [COURSES["c2"][1]], ["u2"]))["members"][0]["courses"][0]
        assert (other["batchId"], other["lastActivity"]) == ("b1", "2024-11-25T02:01:00Z")


def test_contract_example(conn: duckdb.DuckDBPyConnection) -> None:
    store = DuckDBStore(conn)
    course = parse_hierarchy(FRACTIONS)
    store.replace_course_leaves(course)
    apply_events(conn, [E("u_7", "b_101", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_3": 2})])
    report = json.loads(store.progress_json("g_1", [course], ["u_7"]))
    assert report["members"][0]["courses"][0] == {
        "courseId": "do_course_1", "batchId": "b_101", "completed": 1, "leafCount": 2, "percent": 50,
        "lastActivity": "2024-11-25T02:00:00Z",
        "units": [{"unitId": "do_unit_1", "completed": 1, "leafCount": 2, "percent": 50}]}


def test_no_members_or_no_courses_runs_no_query() -> None:
    store = DuckDBStore(duckdb.connect(":memory:"))  # no tables: any query would fail
    course = parse_hierarchy(FRACTIONS)
    nothing = ProgressRows(courses=[], units=[])
    assert store.progress_json("g", [course], []) == report_json("g", [course], [], nothing)
    assert store.progress_json("g", [], ["u2", "u1"]) == report_json("g", [], ["u2", "u1"], nothing)
    assert json.loads(store.progress_json("g", [], ["u2", "u1"]))["members"] == [
        {"userId": "u1", "courses": []}, {"userId": "u2", "courses": []}]
    assert ReportStatement([course], []).empty and ReportStatement([], ["u"]).empty


def test_failures_are_store_errors(conn: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(StoreUnavailable):  # missing tables
        DuckDBStore(duckdb.connect(":memory:")).progress_json("g", [parse_hierarchy(FRACTIONS)], ["u"])
    closed = open_duckdb(":memory:")
    closed.close()
    with pytest.raises(StoreUnavailable):
        DuckDBStore(closed).progress_json("g", [parse_hierarchy(FRACTIONS)], ["u"])

    class Slow(DuckDBStore):  # the statement runs under the adapter's timeout like every other query
        def _run(self, work):  # type: ignore[no-untyped-def]
            raise StoreTimeout("past the budget")

    with pytest.raises(StoreTimeout):
        Slow(conn).progress_json("g", [parse_hierarchy(FRACTIONS)], ["u"])


def test_adapters_without_a_writer_say_so() -> None:
    assert AnalyticsStore.progress_json(DuckDBStore(duckdb.connect(":memory:")), "g", [], []) is None


@given(st.text(max_size=12))
@settings(max_examples=200, deadline=None)
def test_batch_ids_are_escaped_as_json_dumps_does(value: str) -> None:
    value = value.encode("utf-8", "replace").decode("utf-8")  # DuckDB VARCHARs are valid UTF-8
    with duckdb.connect() as c:
        got = c.execute(f"SELECT {json_string_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchone()
    assert got == (json.dumps(value, ensure_ascii=False),)


def test_kept_cells_are_read_when_the_plans_match_and_computed_when_not(conn: duckdb.DuckDBPyConnection) -> None:
    """The writers keep each cell's text for the store's course plan; the statement reads it as is when the
    caller's hierarchy has the same plan, and computes the text when it does not (a newer hierarchy)."""
    store = DuckDBStore(conn)
    store.replace_course_leaves(COURSES["c2"][0])
    apply_events(conn, [E("u1", "b1", "c2", T0, {"a": 2, "b": 2}), E("u2", "b2", "c2", T0 + 1, {"c": 2})])
    kept = ReportStatement([COURSES["c2"][0]], ["u1", "u2"])
    cells = conn.execute(_KEPT_SQL, {name: kept.params[name] for name in _KEPT_PARAMS}).fetchall()
    assert len(cells) == 2 and all(entry is not None for _, entry in cells)  # the kept path answers
    assert kept.answer(conn.cursor(), "g") == kept.assemble("g", cells)  # the answer is the kept cells'
    newer = ReportStatement([COURSES["c2"][1]], ["u1", "u2"])  # another plan: the cells come back NULL
    assert all(entry is None for _, entry in conn.execute(
        _KEPT_SQL, {name: newer.params[name] for name in _KEPT_PARAMS}).fetchall())
    for course in (COURSES["c2"][0], COURSES["c2"][1]):
        assert store.progress_json("g", [course], ["u1", "u2"]) == _reference(store, "g", [course], ["u1", "u2"])


def test_a_statement_is_reused_for_the_same_courses_and_members_and_not_for_others(
        conn: duckdb.DuckDBPyConnection) -> None:
    """The same group's next report reuses the parameters and the answer's template; a republished course
    (a new parsed object) or another member list gets its own, and the answers stay the reference's."""
    store = DuckDBStore(conn)
    old, new = COURSES["c2"]
    store.replace_course_leaves(old)
    apply_events(conn, [E("u1", "b1", "c2", T0, {"a": 2, "b": 2}), E("u2", "b2", "c2", T0 + 1, {"c": 2})])
    group = ["u1", "u2", *(f"x{i}" for i in range(60))]
    first = ReportStatement.for_report([old], group)
    assert ReportStatement.for_report([old], group) is first
    assert ReportStatement.for_report([new], group) is not first
    assert ReportStatement.for_report([old], group[:-1]) is not first
    small = ReportStatement.for_report([old], ["u1"])  # a learner's own view: built each time, not kept
    assert ReportStatement.for_report([old], ["u1"]) is not small
    for course, users in (([old], group), ([new], group), ([old], ["u1"]), ([old], group)):
        for group in ("g1", "g2"):  # the template's head is the group's, per answer
            assert store.progress_json(group, course, users) == _reference(store, group, course, users)


def test_the_answer_falls_back_to_the_full_statement_when_one_course_is_not_kept(
        conn: duckdb.DuckDBPyConnection) -> None:
    """One course kept, one not (the caller's hierarchy is newer than the store's): the kept cells come back
    with a None among them, and the answer is the full statement's, never a partial one."""
    store = DuckDBStore(conn)
    store.replace_course_leaves(COURSES["c2"][0])
    store.replace_course_leaves(COURSES["c3"][0])
    apply_events(conn, [E("u1", "b1", "c2", T0, {"a": 2}), E("u1", "b1", "c3", T0, {"a": 2, "b": 1})])
    courses = [COURSES["c2"][0], COURSES["c3"][1]]
    statement = ReportStatement(courses, ["u1"])
    kept = statement.kept_rows(conn.cursor())
    assert sorted(entry is None for _, entry in kept) == [False, True]
    assert statement.answer(conn.cursor(), "g") == _reference(store, "g", courses, ["u1"])
    assert statement.answer(conn.cursor(), "g") == statement.assemble("g", statement.full_rows(conn.cursor()))
