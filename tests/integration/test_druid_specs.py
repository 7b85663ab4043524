"""`lpa druid apply-specs` and `lpa druid backfill` against the double's Overlord endpoints: idempotent
supervisor submission with a diff that ignores Druid's filled-in defaults, and a backfill that really lands
rows in the datasource."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingestion.schema import TIMESTAMP_COLUMN, druid_dimensions
from lpa.cli import main
from query_api.druid_cli import find_spec, load_spec, project, with_input
from query_api.store.druid_store import ENRICHED_DATASOURCE, DruidStore
from tests.druid_double import DruidDoubleServer
from tests.druid_double.rows import state_rows
from tests.fixtures.progress_state import StateEvent as E

pytestmark = pytest.mark.integration
T0 = 1732500000000


def _data_schema(datasource: str) -> dict:
    return {"dataSource": datasource, "timestampSpec": {"column": TIMESTAMP_COLUMN, "format": "millis"},
            "dimensionsSpec": {"dimensions": druid_dimensions()},
            "granularitySpec": {"segmentGranularity": "DAY", "queryGranularity": "NONE", "rollup": False}}


def _supervisor_spec(task_count: int | None = None) -> dict:
    io_config: dict = {"topic": "lpa.enriched", "inputFormat": {"type": "json"},
                       "consumerProperties": {"bootstrap.servers": "kafka:9092"}, "useEarliestOffset": True}
    if task_count:
        io_config["taskCount"] = task_count
    return {"type": "kafka", "spec": {"dataSchema": _data_schema("lpa_enriched"), "ioConfig": io_config,
                                      "tuningConfig": {"type": "kafka"}}}


def _index_spec() -> dict:
    return {"type": "index_parallel", "spec": {
        "dataSchema": _data_schema("lpa_enriched"),
        "ioConfig": {"type": "index_parallel", "inputSource": {"type": "local", "baseDir": "/placeholder",
                                                                "filter": "*.json"},
                     "inputFormat": {"type": "json"}, "appendToExisting": True},
        "tuningConfig": {"type": "index_parallel"}}}


@pytest.fixture
def druid() -> Iterator[DruidDoubleServer]:
    with DruidDoubleServer() as server:
        yield server


def _write(path: Path, spec: dict) -> Path:
    path.write_text(json.dumps(spec, indent=2))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["druid", *args])
    return result.exit_code, result.output


def test_apply_specs_creates_then_leaves_an_identical_spec_alone(druid: DruidDoubleServer, tmp_path: Path) -> None:
    spec = _write(tmp_path / "supervisor.json", _supervisor_spec())
    code, out = _run("apply-specs", "--url", druid.url, "--spec", str(spec))
    assert code == 0, out
    assert "+++ " in out and '"topic": "lpa.enriched"' in out and out.rstrip().endswith("created")
    assert druid.double.indexer.supervisor_posts == 1

    running = druid.double.indexer.supervisor("lpa_enriched")
    assert running["spec"]["tuningConfig"]["maxRowsInMemory"] == 150000  # Druid's defaults are filled in...
    code, out = _run("apply-specs", "--url", druid.url, "--spec", str(spec))
    assert code == 0, out
    assert out.strip() == "supervisor lpa_enriched: unchanged"  # ...and are not a difference
    assert druid.double.indexer.supervisor_posts == 1


def test_apply_specs_shows_the_diff_and_updates(druid: DruidDoubleServer, tmp_path: Path) -> None:
    spec = _write(tmp_path / "supervisor.json", _supervisor_spec())
    assert _run("apply-specs", "--url", druid.url, "--spec", str(spec))[0] == 0
    _write(spec, _supervisor_spec(task_count=4))

    code, out = _run("apply-specs", "--url", druid.url, "--spec", str(spec), "--dry-run")
    assert code == 0 and out.rstrip().endswith("would update")
    assert '-      "taskCount": 1,' in out and '+      "taskCount": 4,' in out
    assert druid.double.indexer.supervisor_posts == 1

    code, out = _run("apply-specs", "--url", druid.url, "--spec", str(spec))
    assert code == 0 and out.rstrip().endswith("updated")
    assert druid.double.indexer.supervisor("lpa_enriched")["spec"]["ioConfig"]["taskCount"] == 4
    assert _run("apply-specs", "--url", druid.url, "--spec", str(spec))[1].strip().endswith("unchanged")


def test_apply_specs_errors_are_one_clear_line(druid: DruidDoubleServer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "kafka",\n  "spec": }')
    code, out = _run("apply-specs", "--url", druid.url, "--spec", str(broken))
    assert code == 1 and f"{broken}: line 2: not JSON" in out and "Traceback" not in out

    no_topic = _supervisor_spec()
    del no_topic["spec"]["ioConfig"]["topic"]
    code, out = _run("apply-specs", "--url", druid.url, "--spec", str(_write(tmp_path / "s.json", no_topic)))
    assert code == 1 and "Druid refused the supervisor spec: HTTP 400" in out

    code, out = _run("apply-specs", "--url", "http://127.0.0.1:9", "--spec", str(broken.with_name("s.json")))
    assert code == 1 and "cannot reach Druid" in out


def test_backfill_indexes_the_files_and_waits(druid: DruidDoubleServer, tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    rows = state_rows([E("u1", "b1", "c1", T0, {"x": 2, "y": 1}), E("u2", "b1", "c1", T0 + 86_400_000, {"x": 2})])
    (history / "part-0.json").write_text("\n".join(r.model_dump_json() for r in rows[:2]) + "\n")
    (history / "part-1.json").write_text(rows[2].model_dump_json() + "\n")
    spec = _write(tmp_path / "index.json", _index_spec())

    code, out = _run("backfill", "--url", druid.url, "--path", str(history), "--spec", str(spec))
    assert code == 0, out
    assert "submitted task index_parallel_lpa_enriched_" in out and out.rstrip().endswith("SUCCESS")
    result = DruidStore(druid.url).run_sql("SELECT user_id, COUNT(*) FROM lpa_enriched GROUP BY user_id "
                                           "ORDER BY user_id")
    assert result.rows == [["u1", 2], ["u2", 1]]


def test_backfill_reads_parquet_and_reports_a_failed_task(druid: DruidDoubleServer, tmp_path: Path) -> None:
    rows = state_rows([E("u1", "b1", "c1", T0, {"x": 2})])
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text(rows[0].model_dump_json() + "\n")
    parquet = tmp_path / "rows.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_json_auto('{jsonl}')) TO '{parquet}' (FORMAT parquet)")
    spec = _write(tmp_path / "index.json", _index_spec())
    code, out = _run("backfill", "--url", druid.url, "--path", str(parquet), "--spec", str(spec))
    assert code == 0, out
    assert DruidStore(druid.url).run_sql("SELECT COUNT(*) FROM lpa_enriched").rows == [[1]]

    bad = tmp_path / "bad.json"
    bad.write_text('{"user_id": "no timestamp"}\n')
    code, out = _run("backfill", "--url", druid.url, "--path", str(bad), "--spec", str(spec))
    assert code == 1 and "FAILED" in out and "Unparseable timestamp" in out


def test_with_input_points_the_spec_at_the_path(tmp_path: Path) -> None:
    local = with_input(_index_spec(), str(tmp_path))["spec"]["ioConfig"]
    assert local["inputSource"] == {"type": "local", "baseDir": str(tmp_path.resolve()), "filter": "*.json"}
    s3 = with_input(_index_spec(), "s3://bucket/history/part.parquet")["spec"]["ioConfig"]
    assert s3["inputSource"] == {"type": "s3", "prefixes": ["s3://bucket/history/part.parquet"]}
    assert s3["inputFormat"] == {"type": "parquet"}


def test_project_keeps_only_what_our_spec_states() -> None:
    running = {"a": 1, "b": {"c": 2, "default": 3}, "l": [{"n": 1, "x": 0}]}
    assert project(running, {"b": {"c": 9}, "l": [{"n": 1}], "new": 1}) == {"b": {"c": 2}, "l": [{"n": 1}]}


def test_the_repo_specs_are_what_the_commands_deploy(druid: DruidDoubleServer, tmp_path: Path) -> None:
    """The specs in ingestion/specs (rendered from ingestion.schema) are the defaults; the adapter reads the
    datasource they create; the repo's supervisor spec applies once, then is unchanged."""
    render = pytest.importorskip("ingestion.specs.render")
    supervisor, index = load_spec(find_spec("kafka", None)), load_spec(find_spec("index_parallel", None))
    assert supervisor["spec"]["dataSchema"]["dataSource"] == index["spec"]["dataSchema"]["dataSource"]
    assert render.DATASOURCE == ENRICHED_DATASOURCE == supervisor["spec"]["dataSchema"]["dataSource"]

    assert _run("apply-specs", "--url", druid.url)[1].rstrip().endswith("created")
    assert _run("apply-specs", "--url", druid.url)[1].strip() == f"supervisor {ENRICHED_DATASOURCE}: unchanged"

    rows = state_rows([E("u1", "b1", "c1", T0, {"x": 2})])
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text(rows[0].model_dump_json() + "\n")
    history = tmp_path / "history"
    history.mkdir()
    (history / "_SUCCESS").write_text("")
    duckdb.sql(f"COPY (SELECT * FROM read_json_auto('{jsonl}')) TO '{history / 'part-0.parquet'}' (FORMAT parquet)")
    code, out = _run("backfill", "--url", druid.url, "--path", str(history))
    assert code == 0, out
    assert DruidStore(druid.url).run_sql(f"SELECT COUNT(*) FROM {ENRICHED_DATASOURCE}").rows == [[1]]
