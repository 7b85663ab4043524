"""One schema, one place: the Druid specs, the DuckDB table and the enriched-row model cannot drift apart."""

from __future__ import annotations

import json

import pyarrow as pa

from ingestion.schema import COLUMNS, TIMESTAMP_COLUMN, EnrichedRow, duckdb_columns
from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.duckdb_sink import ROW_SCHEMA
from ingestion.specs import render


def test_committed_spec_files_equal_what_render_produces() -> None:
    for path, text in render.rendered().items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m ingestion.specs.render"


def test_supervisor_and_backfill_share_one_data_schema() -> None:
    supervisor = json.loads(render.SUPERVISOR_FILE.read_text())
    backfill = json.loads(render.BACKFILL_FILE.read_text())
    assert supervisor["spec"]["dataSchema"] == backfill["spec"]["dataSchema"]
    assert supervisor["spec"]["dataSchema"]["granularitySpec"]["rollup"] is False


def test_every_spec_dimension_is_a_model_field_and_every_field_is_stored() -> None:
    schema = render.data_schema()
    dims = [d["name"] for d in schema["dimensionsSpec"]["dimensions"]]
    assert set(dims) <= set(EnrichedRow.model_fields)
    non_time = [c for c in COLUMNS if c != TIMESTAMP_COLUMN]
    assert [schema["timestampSpec"]["column"], *dims] == [TIMESTAMP_COLUMN, *non_time]


def test_duckdb_table_has_the_model_fields_plus_time() -> None:
    conn = open_duckdb(":memory:")
    table = conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                         "WHERE table_name = 'enriched_events' ORDER BY ordinal_position").fetchall()
    assert [name for name, _ in table] == [*EnrichedRow.model_fields, "__time"]
    assert table[:-1] == duckdb_columns()


def test_sink_arrow_schema_follows_the_model() -> None:
    assert ROW_SCHEMA.names == list(COLUMNS)
    assert ROW_SCHEMA.field("unit_ids").type == pa.list_(pa.string())
