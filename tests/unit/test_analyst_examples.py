"""docs/analysts.md's Druid SQL examples run on the embedded store and give the answers the doc shows.

The embedded DuckDB store gets the fixture the doc describes; the Druid datasource names are views over
its tables (`lpa_enriched` over enriched_events; `lpa_course_leaves` over course_leaves + unit_leaves as one
version), and the Druid functions the doc uses are the double's DuckDB macros of the same name."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from ingestion.hierarchy import parse_hierarchy
from ingestion.schema import COLUMNS
from ingestion.sinks.duckdb_conn import open_duckdb
from query_api.store.duckdb_store import DuckDBStore
from tests.druid_double import dialect
from tests.druid_double.results import json_value
from tests.druid_double.rows import state_rows
from tests.fixtures.analyst_examples import EVENTS, examples
from tests.fixtures.courses import FRACTIONS

EXAMPLES = examples()

_VIEWS = (
    "CREATE VIEW lpa_enriched AS SELECT * FROM enriched_events",
    """CREATE VIEW lpa_course_leaves AS
       SELECT TIMESTAMP '2024-01-01 00:00:00' AS __time, course_id, 'course' AS kind, NULL AS unit_id, leaf_id
       FROM course_leaves
       UNION ALL
       SELECT TIMESTAMP '2024-01-01 00:00:00', course_id, 'unit', unit_id, leaf_id FROM unit_leaves""",
)


@pytest.fixture(scope="module")
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_duckdb(":memory:")
    DuckDBStore(connection).replace_course_leaves(parse_hierarchy(FRACTIONS))
    names = ", ".join(f'"{c}"' for c in (*COLUMNS, "__time"))
    marks = ", ".join("?" * len(COLUMNS)) + ", epoch_ms(?::BIGINT)"
    for row in state_rows(EVENTS):
        values = row.model_dump()
        connection.execute(f"INSERT INTO enriched_events ({names}) VALUES ({marks})",
                           [values[c] for c in COLUMNS] + [row.ets])
    for statement in (*dialect.MACROS, *_VIEWS):
        connection.execute(statement)
    yield connection
    connection.close()


def test_the_doc_has_the_promised_examples() -> None:
    assert {"course-progress", "unit-progress", "batch-progress"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_gives_the_documented_answer(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    sql, expected = EXAMPLES[name]
    rows = conn.execute(sql).fetchall()
    assert [[json_value(v) for v in row] for row in rows] == expected
