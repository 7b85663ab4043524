"""The plugins' analytics queries on Druid SQL (the DuckDB-backed double, or LPA_DRUID_URL): the same rows
as the embedded adapter, values as typed parameters, exact counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingestion.hierarchy import parse_hierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from query_api.store.duckdb_store import DuckDBStore
from tests.druid_double.rows import state_rows
from tests.druid_double.target import DruidTarget, close_target, open_target
from tests.fixtures.courses import FRACTIONS
from tests.fixtures.progress_state import StateEvent as E
from tests.plugin_fixtures import DAY, T0, attempt, load_rows, record_state

pytestmark = pytest.mark.integration


@pytest.fixture
def target() -> Iterator[DruidTarget]:
    t = open_target()
    yield t
    close_target(t)


def test_plugin_queries_give_the_same_rows_on_druid_and_duckdb(target: DruidTarget) -> None:
    druid = target.store()
    duck_conn = open_duckdb(":memory:")
    duck = DuckDBStore(duck_conn)
    course = parse_hierarchy(FRACTIONS)
    druid.replace_course_leaves(course)
    duck.replace_course_leaves(course)
    events = [E("u1", "b_1", "do_course_1", T0, {"do_leaf_1": 2}),
              E("u1", "b_1", "do_course_1", T0 + DAY, {"do_leaf_2": 2}),
              E("u1", "b_2", "do_course_1", T0 + 2 * DAY, {"do_leaf_2": 2}),
              E("u2", "b_1", "do_course_1", T0 + 3 * DAY, {"do_leaf_1": 2, "do_leaf_2": 1})]
    attempts = [attempt("u1", "do_leaf_2", "a1", 6, ets=T0), attempt("u1", "do_leaf_2", "a2", 8, ets=T0 + 1000),
                attempt("u1", "do_leaf_2", "a3", 8, ets=T0 + 2000), attempt("u2", "do_leaf_2", "b1", 7.5, ets=T0),
                attempt("u2", "do_leaf_2", "b1", 7.5, ets=T0, batch="b_2")]
    record_state(duck_conn, events)
    load_rows(duck_conn, attempts)
    target.load(state_rows(events) + attempts)

    users = ["u1", "u2", "u3"]
    assert sorted(druid.best_attempts(users, ["do_leaf_2"])) == sorted(duck.best_attempts(users, ["do_leaf_2"]))
    assert sorted(druid.best_attempts(users))[0].attempt_id == "a3"
    assert sorted(druid.best_attempts(users, None, ["do_course_1"], ["b_2"])) == \
        sorted(duck.best_attempts(users, None, ["do_course_1"], ["b_2"]))
    assert sorted(druid.course_completions(users, ["do_course_1"])) == \
        sorted(duck.course_completions(users, ["do_course_1"]))
    assert druid.last_activity(users) == duck.last_activity(users) == {"u1": T0 + 2 * DAY, "u2": T0 + 3 * DAY}
    if target.is_double:
        sent = [r for r in target.server.double.sql_requests if "best_score" in r["query"]]
        assert sent and all("u1" not in r["query"] for r in sent)
        assert all(r["context"]["useApproximateCountDistinct"] is False for r in sent)
    duck_conn.close()
