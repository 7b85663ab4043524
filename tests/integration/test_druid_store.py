"""The Druid adapter end to end over HTTP: the shared progress SQL on Druid SQL, the leaves datasource, the
wire contract (dynamic parameters, exact counts, query ids, arrayLines) and parity with the DuckDB adapter.

Runs against the DuckDB-backed double by default; with LPA_DRUID_URL set, against that Druid (the tests
that need fault injection or the double's request log are skipped there)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from ingestion.hierarchy import parse_hierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from query_api.progress.compute import build_report
from query_api.store.base import ProgressRows
from query_api.store.druid_store import DruidStore, druid_relations, leaves_rows
from query_api.store.duckdb_store import DuckDBStore
from query_api.store.queries import Relation
from tests.druid_double.rows import state_rows
from tests.druid_double.target import DruidTarget, close_target, open_target
from tests.fixtures.courses import FRACTIONS, simple_course
from tests.fixtures.progress_state import StateEvent as E
from tests.fixtures.progress_state import apply_events

pytestmark = pytest.mark.integration
T0 = 1732500000000


@pytest.fixture
def target() -> Iterator[DruidTarget]:
    t = open_target()
    yield t
    close_target(t)


@pytest.fixture
def store(target: DruidTarget) -> DruidStore:
    return target.store()


def double_only(target: DruidTarget) -> None:
    if not target.is_double:
        pytest.skip("needs the double (fault injection / request log)")


def _entry(store: DruidStore, doc: dict, user: str = "u") -> dict:
    course = parse_hierarchy(doc)
    report = build_report("g", [course], [user], store.progress_rows([user], [course.course_id]))
    return report["members"][0]["courses"][0]


def _sorted(rows: ProgressRows) -> tuple[list, list]:
    return sorted(rows.courses), sorted(rows.units)


def test_contract_example_through_druid_sql(target: DruidTarget, store: DruidStore) -> None:
    store.replace_course_leaves(parse_hierarchy(FRACTIONS))
    target.load(state_rows([E("u", "b_101", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_3": 2})]))
    entry = _entry(store, FRACTIONS)
    assert (entry["completed"], entry["leafCount"], entry["percent"], entry["batchId"]) == (1, 2, 50, "b_101")
    assert entry["lastActivity"] == "2024-11-25T02:00:00Z"
    assert entry["units"] == [{"unitId": "do_unit_1", "completed": 1, "leafCount": 2, "percent": 50}]


def test_status_is_the_max_ever_and_last_activity_the_max_ets(target: DruidTarget, store: DruidStore) -> None:
    store.replace_course_leaves(parse_hierarchy(FRACTIONS))
    target.load(state_rows([E("u", "b", "do_course_1", T0 + 20_000, {"do_leaf_1": 2}),
                            E("u", "b", "do_course_1", T0 + 30_000, {"do_leaf_1": 1}),
                            E("u", "b", "do_course_1", T0 + 5_000, {"do_leaf_1": 0}),
                            E("u", "b", "do_course_1", T0 + 90_000, {})]))  # empty contents is activity
    entry = _entry(store, FRACTIONS)
    assert entry["completed"] == 1
    assert entry["lastActivity"] == "2024-11-25T02:01:30Z"


def test_a_republish_replaces_the_leaves_including_with_none(target: DruidTarget, store: DruidStore) -> None:
    course = simple_course("c", {"un": ["x", "y"]})
    store.replace_course_leaves(parse_hierarchy(course))
    target.load(state_rows([E("u", "b", "c", T0, {"x": 2, "z": 2})]))
    assert _entry(store, course)["completed"] == 1

    republished = simple_course("c", {"un": ["x", "y", "z"]})  # z now counts: stored before, counted now
    store.replace_course_leaves(parse_hierarchy(republished))
    entry = _entry(store, republished)
    assert (entry["completed"], entry["leafCount"]) == (2, 3)
    assert entry["units"][0]["completed"] == 2

    emptied = copy.deepcopy(republished)
    emptied["children"][0]["children"] = []
    store.replace_course_leaves(parse_hierarchy(emptied))
    rows = store.progress_rows(["u"], ["c"])
    assert [r.completed for r in rows.courses] == [0]
    assert rows.units == []


def test_same_rows_as_the_duckdb_adapter(target: DruidTarget, store: DruidStore) -> None:
    """Parity: the same facts give the same progress rows in both engines (several batches, units, leaves
    outside the hierarchy, optional leaves, a learner and a course that are not asked for)."""
    courses = [parse_hierarchy(FRACTIONS), parse_hierarchy(simple_course("c2", {"u1": ["a", "b"], "u2": ["b", "c"]}))]
    events = [
        E("u1", "b1", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_2": 1, "do_leaf_3": 2}),
        E("u1", "b2", "do_course_1", T0 + 1000, {"do_leaf_1": 2, "do_leaf_2": 2}),
        E("u1", "b1", "c2", T0 + 2000, {"b": 2, "c": 2, "ghost": 2}),
        E("u2", "b1", "c2", T0 + 3000, {"a": 1}),
        E("u2", "b3", "c2", T0 + 4000, {}),
        E("u3", "b1", "c2", T0 + 5000, {"a": 2}),
        E("u1", "b9", "other", T0 + 6000, {"a": 2}),
    ]
    duck = DuckDBStore(open_duckdb(":memory:"))
    for course in courses:
        duck.replace_course_leaves(course)
        store.replace_course_leaves(course)
    apply_events(duck._conn, events)
    target.load(state_rows(events))

    args = (["u1", "u2"], ["do_course_1", "c2"])
    assert _sorted(store.progress_rows(*args)) == _sorted(duck.progress_rows(*args))
    assert store.progress_rows(["nobody"], ["c2"]) == ProgressRows(courses=[], units=[])


def test_values_travel_as_typed_parameters_with_exact_counts(target: DruidTarget, store: DruidStore) -> None:
    double_only(target)
    store.replace_course_leaves(parse_hierarchy(FRACTIONS))
    target.load(state_rows([E("u", "b", "do_course_1", T0, {"do_leaf_1": 2})]))
    tricky = "u'); DROP TABLE x; --"
    store.progress_rows([tricky, "u2"], ["do_course_1"])
    sent = [r for r in target.server.double.sql_requests if "course_id IN" in r["query"]]
    assert sent, "the progress queries were not sent"
    for request in sent:
        assert tricky not in request["query"] and "u2" not in request["query"]
        assert {"type": "VARCHAR", "value": tricky} in request["parameters"]
        assert request["resultFormat"] == "arrayLines" and request["header"] is True
        assert request["context"]["useApproximateCountDistinct"] is False
        assert request["context"]["useApproximateTopN"] is False
        assert request["context"]["timeout"] == 5000
    ids = [r["context"]["sqlQueryId"] for r in target.server.double.sql_requests]
    assert len(ids) == len(set(ids))


def test_run_sql_is_the_generic_path_for_later_queries(target: DruidTarget, store: DruidStore) -> None:
    target.load(state_rows([E("u", "b", "c", T0, {"x": 2, "y": 1})]))
    result = store.run_sql(f'SELECT content_id, MAX(status) AS s FROM "{target.enriched}" '
                           "WHERE user_id = ? AND status >= ? GROUP BY content_id ORDER BY content_id", ["u", 1])
    assert result.columns == ["content_id", "s"]
    assert result.dicts() == [{"content_id": "x", "s": 2}, {"content_id": "y", "s": 1}]


def test_relations_are_an_allow_list_of_datasource_names() -> None:
    assert '"lpa_enriched"' in druid_relations()[Relation.CONTENT_STATE]
    with pytest.raises(ValueError):
        druid_relations('x" UNION SELECT')
    with pytest.raises(ValueError):
        DruidStore("http://druid", datasource="a b")


def test_an_empty_leaf_set_is_still_a_version() -> None:
    course = parse_hierarchy(simple_course("c", {"un": []}))
    assert [r["kind"] for r in leaves_rows(course, 7)] == ["version"]
