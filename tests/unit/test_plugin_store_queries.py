"""The plugins' analytics queries on the embedded store: best attempt (highest score, ties to the latest
attempt, distinct attempt counts, filters), course completions (timed at the first completion of the last
leaf) and last activity."""

from __future__ import annotations

import duckdb
import pytest

from ingestion.hierarchy import parse_hierarchy
from query_api.store.base import AnalyticsStore, StoreUnavailable
from query_api.store.duckdb_store import DuckDBStore
from query_api.store.plugin_queries import BestAttemptRow, CourseCompletionRow
from tests.fixtures.courses import FRACTIONS
from tests.fixtures.progress_state import StateEvent as E
from tests.plugin_fixtures import *  # noqa: F403
from tests.plugin_fixtures import DAY, T0, attempt, load_rows, record_state


def test_best_attempt_is_the_highest_score_and_a_tie_goes_to_the_latest(duck: duckdb.DuckDBPyConnection) -> None:
    load_rows(duck, [
        attempt("u1", "q1", "a1", 6, ets=T0),
        attempt("u1", "q1", "a2", 8, ets=T0 + 1000),
        attempt("u1", "q1", "a3", 8, ets=T0 + 5000),  # same best score, later: this one
        attempt("u1", "q1", "a4", 3, ets=T0 + 9000),
        attempt("u1", "q1", "a4", 3, ets=T0 + 9000, batch="b_2"),  # same attempt id again: one attempt
        attempt("u2", "q1", "x", 10, ets=T0),
        attempt("u2", "q2", "y", 1, ets=T0),
        attempt("u3", "q1", "z", 9, ets=T0),  # not asked for
    ])
    store = DuckDBStore(duck)
    rows = sorted(store.best_attempts(["u1", "u2"], ["q1"]))
    assert rows == [BestAttemptRow("u1", "do_course_1", "q1", 8.0, 10.0, 4, "a3", T0 + 5000),
                    BestAttemptRow("u2", "do_course_1", "q1", 10.0, 10.0, 1, "x", T0)]
    assert {r.content_id for r in store.best_attempts(["u2"])} == {"q1", "q2"}  # None: any content
    assert store.best_attempts(["u1"], ["q1"], batch_ids=["b_2"])[0].attempt_id == "a4"
    assert store.best_attempts(["u1"], ["q1"], course_ids=["other"]) == []
    assert store.best_attempts([], ["q1"]) == [] and store.best_attempts(["u1"], []) == []


def test_values_are_parameters_not_sql(duck: duckdb.DuckDBPyConnection) -> None:
    tricky = "u'); DROP TABLE enriched_events; --"
    load_rows(duck, [attempt(tricky, "q1", "a", 1)])
    assert DuckDBStore(duck).best_attempts([tricky], ["q1"])[0].user_id == tricky


def test_course_completion_is_timed_at_the_first_completion_of_the_last_leaf(duck: duckdb.DuckDBPyConnection) -> None:
    store = DuckDBStore(duck)
    store.replace_course_leaves(parse_hierarchy(FRACTIONS))  # leaves do_leaf_1, do_leaf_2 (do_leaf_3 optional)
    record_state(duck, [
        E("u1", "b_1", "do_course_1", T0, {"do_leaf_1": 2}),
        E("u1", "b_1", "do_course_1", T0 + DAY, {"do_leaf_2": 2}),
        E("u1", "b_1", "do_course_1", T0 + 2 * DAY, {"do_leaf_2": 2, "do_leaf_3": 2}),  # revisits: not later
        E("u2", "b_1", "do_course_1", T0, {"do_leaf_1": 2, "do_leaf_2": 1}),
    ])
    rows = sorted(store.course_completions(["u1", "u2"], ["do_course_1"]))
    assert rows == [CourseCompletionRow("u1", "b_1", "do_course_1", 2, T0 + DAY),
                    CourseCompletionRow("u2", "b_1", "do_course_1", 1, T0)]


def test_last_activity_over_all_batches_or_some_courses(duck: duckdb.DuckDBPyConnection) -> None:
    record_state(duck, [E("u1", "b_1", "c1", T0, {}), E("u1", "b_2", "c2", T0 + DAY, {"x": 1}),
                        E("u2", "b_1", "c1", T0 - DAY, {})])
    store = DuckDBStore(duck)
    assert store.last_activity(["u1", "u2", "u3"]) == {"u1": T0 + DAY, "u2": T0 - DAY}
    assert store.last_activity(["u1"], ["c1"]) == {"u1": T0}
    assert store.last_activity(["u1"], []) == {}


def test_an_adapter_without_the_plugin_queries_answers_unavailable() -> None:
    class Minimal(AnalyticsStore):
        def progress_rows(self, user_ids, course_ids):  # type: ignore[no-untyped-def]
            raise NotImplementedError

        def replace_course_leaves(self, course):  # type: ignore[no-untyped-def]
            raise NotImplementedError

        def ping(self) -> None:
            return None

    with pytest.raises(StoreUnavailable):
        Minimal().best_attempts(["u"])
