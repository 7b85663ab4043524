"""The backfill end to end on local[2]: the job over tests/fixtures/backfill, its agreement with the stream's
enricher on the same history, the DuckDB load (no double counting), and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from pyspark.sql import SparkSession

from ingestion.enrich import enrich, event_id_for
from ingestion.events import validate_event
from ingestion.hierarchy import CourseHierarchy
from ingestion.schema import COLUMNS, EnrichedRow
from lpa.cli import main
from rollup_jobs.catalog import load_catalog
from rollup_jobs.jobs import SUMMARY_FILE, BackfillSummary, run_backfill
from rollup_jobs.load import load_backfill, open_store
from rollup_jobs.schema import enriched_spark_schema

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.spark_fixtures"]

BACKFILL_FIXTURES = Path(__file__).parents[1] / "fixtures" / "backfill"
INPUT = BACKFILL_FIXTURES / "input"
CATALOG = BACKFILL_FIXTURES / "catalog"


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


# The same history as the fixture tables, as the platform would have streamed it (written out by hand).
STATE = [  # user, batch, course, content, status, ets
    ("u_7", "b_101", "do_course_1", "do_leaf_1", 2, ms("2024-11-25T01:00:00")),
    ("u_7", "b_101", "do_course_1", "do_leaf_1", 2, ms("2024-11-25T02:00:00")),  # a revisit, still status 2
    ("u_7", "b_101", "do_course_1", "do_leaf_2", 1, ms("2024-11-26T10:00:00")),
    ("u_7", "b_102", "do_course_1", "do_leaf_1", 2, ms("2024-11-20T08:00:00")),
    ("u_7", "b_102", "do_course_1", "do_leaf_2", 2, ms("2024-11-27T09:30:00")),
    ("u_8", "b_201", "do_course_2", "do_leaf_a1", 2, 1732500000000),
    ("u_8", "b_201", "do_course_2", "do_leaf_b1", 2, 1732590000000),
    ("u_8", "b_201", "do_course_2", "do_leaf_b1", 2, 1732600000000),
    ("u_8", "b_201", "do_course_2", "do_extra", 2, 1732700000000),
    ("u_8", "b_201", "do_course_2", "do_leaf_a2", 0, 1732800000000),
    ("u_9", "b_101", "do_course_1", "do_leaf_3", 2, ms("2024-11-24T12:00:00")),
]
ATTEMPTS = [  # user, batch, course, content, attempt, score, max, ets
    ("u_7", "b_101", "do_course_1", "do_leaf_2", "att-1", 7.5, 10, ms("2024-11-26T10:05:00")),
    ("u_7", "b_101", "do_course_1", "do_leaf_2", "att-2", 10000000, 10000000, ms("2024-11-26T11:05:00")),
    ("u_8", "b_201", "do_course_2", "do_leaf_9", "att-3", 0.1, 0.30000000000000004, 1732700000000),
]


class _Catalog:
    def __init__(self, courses: list[CourseHierarchy]) -> None:
        self._courses = {c.course_id: c for c in courses}

    def course(self, course_id: str) -> CourseHierarchy | None:
        return self._courses.get(course_id)


class _Batches:
    def program_id(self, batch_id: str) -> str | None:
        return None

    def exists(self, batch_id: str) -> bool:
        return True


def stream_rows() -> list[EnrichedRow]:
    """What ingestion.enrich makes of the streamed history (the stream's result)."""
    catalog, batches = _Catalog(load_catalog(CATALOG)), _Batches()
    events: list[dict[str, Any]] = [
        {"eid": "BE_JOB_REQUEST", "ets": ets, "mid": f"LP.{ets}.{i}",
         "edata": {"action": "batch-enrolment-update", "batchId": b, "userId": u, "courseId": c,
                   "contents": [{"contentId": x, "status": s}]}}
        for i, (u, b, c, x, s, ets) in enumerate(STATE)]
    events += [{"eid": "LPA_ASSESSMENT", "ets": ets, "mid": f"m-{a}",
                "edata": {"batchId": b, "courseId": c, "userId": u, "contentId": x, "attemptId": a,
                          "score": score, "maxScore": top}}
               for u, b, c, x, a, score, top, ets in ATTEMPTS]
    return [row for data in events for row in enrich(validate_event(data), event_id_for(data), catalog, batches)]


def _comparable(row: dict[str, Any]) -> tuple[Any, ...]:
    """Every column but event_id and mid (the backfill has no message to take them from)."""
    return tuple(tuple(row[c]) if c == "unit_ids" else row[c] for c in COLUMNS if c not in ("event_id", "mid"))


@pytest.fixture(scope="module")
def job(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[BackfillSummary, Path]:
    out = tmp_path_factory.mktemp("backfill") / "out"
    messages: list[str] = []
    summary = run_backfill(spark, str(INPUT), CATALOG, str(out), messages.append)
    assert any("rejected 7 row(s)" in m for m in messages)
    return summary, out


def test_job_counts_every_row_once_and_rejects_with_reasons(job: tuple[BackfillSummary, Path]) -> None:
    summary, out = job
    tables = {t.table: t for t in summary.tables}
    content = tables["user_content_consumption"]
    assert (content.read, content.enriched_rows, content.rejected) == (16, 11, 7)  # 9 good rows + 2 revisits
    assert content.reasons == {"missing_key": 1, "bad_status": 2, "bad_timestamp": 1, "missing_timestamp": 1,
                               "unknown_course": 1, "malformed_row": 1}
    assert tables["user_enrolments"].reasons == {"bad_value": 1, "missing_timestamp": 1}
    assert tables["assessment_aggregator"].reasons == {"bad_score": 1, "score_above_max": 1}
    assert json.loads((out / SUMMARY_FILE).read_text())["daily_progress_rows"] == summary.daily_progress_rows > 0
    rejects = duckdb.sql("SELECT reason, userid, raw_line FROM read_csv("
                         f"'{out}/rejects/user_content_consumption/*.csv', header=true, all_varchar=true) "
                         "ORDER BY reason").fetchall()
    assert [r[0] for r in rejects] == sorted(["missing_key", "bad_status", "bad_status", "bad_timestamp",
                                              "missing_timestamp", "unknown_course", "malformed_row"])
    assert any(r[0] == "malformed_row" and r[2].endswith("extra,fields") for r in rejects)


def test_enriched_parquet_has_the_enriched_row_schema(spark: SparkSession, job: tuple[BackfillSummary, Path]) -> None:
    written = spark.read.parquet(f"{job[1]}/enriched/*")
    assert [(f.name, f.dataType) for f in written.schema.fields] == [
        (f.name, f.dataType) for f in enriched_spark_schema().fields]


def test_spark_rows_are_the_streams_rows_for_the_same_history(spark: SparkSession,
                                                              job: tuple[BackfillSummary, Path]) -> None:
    out = job[1]
    spark_rows = [r.asDict() for r in spark.read.parquet(f"{out}/enriched/user_content_consumption",
                                                         f"{out}/enriched/assessment_aggregator").collect()]
    stream = [r.model_dump() for r in stream_rows()]
    assert sorted(map(_comparable, spark_rows)) == sorted(map(_comparable, stream))


def _contract_progress(rows: list[EnrichedRow]) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """contracts.md section 3 computed directly from the stream's rows: (user, course, scope) ->
    (batch, completed, leaf_count, percent, lastActivity on the course scope)."""
    courses = {c.course_id: c for c in load_catalog(CATALOG)}
    status: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    last: dict[tuple[str, str, str], int] = {}
    for r in rows:
        if r.eid != "BE_JOB_REQUEST" or r.content_id is None:
            continue
        key = (r.user_id or "", r.course_id or "", r.batch_id)
        status[key][r.content_id] = max(status[key].get(r.content_id, 0), r.status or 0)
        last[key] = max(last.get(key, 0), r.ets)
    done = {k: {x for x, s in v.items() if s == 2} for k, v in status.items()}
    result: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for user, course_id in {(u, c) for u, c, _ in done}:
        course = courses[course_id]
        batches = [b for u, c, b in done if (u, c) == (user, course_id)]
        best = max(batches, key=lambda b: (len(done[(user, course_id, b)] & course.leaf_ids),
                                           last[(user, course_id, b)], [-ord(ch) for ch in b]))
        completed_leaves = done[(user, course_id, best)]
        last_activity = max(last[(user, course_id, b)] for b in batches)
        scopes = [(course_id, course.leaf_ids)] + [(u.unit_id, u.leaf_ids) for u in course.reported_units]
        for scope, leaves in scopes:
            n = len(completed_leaves & leaves)
            percent = min(100, n * 100 // len(leaves)) if leaves else 0
            result[(user, course_id, scope)] = (best, n, len(leaves), percent,
                                                last_activity if scope == course_id else None)
    return result


def test_latest_rollups_match_the_contract_on_the_streams_rows(spark: SparkSession,
                                                                job: tuple[BackfillSummary, Path]) -> None:
    latest = spark.read.parquet(f"{job[1]}/daily_progress").filter("valid_to IS NULL").collect()
    got = {(r["user_id"], r["course_id"], r["unit_id"]): (r["batch_id"], r["completed"], r["leaf_count"],
                                                          r["percent"], r["last_activity"]) for r in latest}
    assert got == _contract_progress(stream_rows())


def _insert_stream_rows(conn: duckdb.DuckDBPyConnection, rows: list[EnrichedRow]) -> None:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    conn.executemany(f'INSERT INTO enriched_events ({cols}, "__time") VALUES ({marks}, epoch_ms(?))',
                     [[*r.model_dump().values(), r.ets] for r in rows])


def test_load_after_the_stream_adds_only_what_the_stream_lacked(job: tuple[BackfillSummary, Path],
                                                                tmp_path: Path) -> None:
    summary, out = job
    total = sum(t.enriched_rows for t in summary.tables)
    conn = open_store(tmp_path / "analytics.duckdb")
    streamed = stream_rows()
    _insert_stream_rows(conn, streamed)
    first = load_backfill(conn, out)
    assert (first.enriched_read, first.enriched_inserted) == (total, total - len(streamed))  # the enrolments
    again = load_backfill(conn, out)
    assert (again.enriched_inserted, again.already_present) == (0, total)
    assert conn.execute("SELECT count(*) FROM enriched_events").fetchone() == (total,)
    state = conn.execute("SELECT user_id, batch_id, course_id, content_id, status, last_ets FROM content_state "
                         "ORDER BY ALL").fetchall()
    expected: dict[tuple[str, str, str, str], tuple[int, int]] = {}
    for u, b, c, x, s, ets in STATE:
        old = expected.get((u, b, c, x), (0, 0))
        expected[(u, b, c, x)] = (max(old[0], s), max(old[1], ets))
    assert state == sorted((*k, *v) for k, v in expected.items())
    activity = conn.execute("SELECT user_id, batch_id, first_ets, last_ets FROM course_activity "
                            "WHERE user_id = 'u_7' ORDER BY ALL").fetchall()
    assert activity == [("u_7", "b_101", ms("2024-11-25T01:00:00"), ms("2024-11-26T10:00:00")),
                        ("u_7", "b_102", ms("2024-11-20T08:00:00"), ms("2024-11-27T09:30:00"))]
    assert conn.execute("SELECT count(*) FROM daily_progress").fetchone() == (summary.daily_progress_rows,)


def test_cli_runs_the_job_and_loads_it(tmp_path: Path, spark: SparkSession) -> None:
    runner = CliRunner(mix_stderr=False)
    out = tmp_path / "out"
    result = runner.invoke(main, ["backfill", "run", "--input", str(INPUT), "--catalog", str(CATALOG),
                                  "--output", str(out), "--master", "local[2]"])
    assert result.exit_code == 0, result.output
    assert "user_content_consumption: wrote 11 enriched rows" in result.stderr  # progress
    table = result.stdout.splitlines()
    assert table[0].split()[:4] == ["table", "format", "files", "read"]
    assert any(line.startswith("user_content_consumption") and " 16 " in line for line in table)
    loaded = runner.invoke(main, ["backfill", "load", "--path", str(out), "--data-dir", str(tmp_path / "data")])
    assert loaded.exit_code == 0, loaded.output
    assert "inserted 17" in loaded.output


def test_cli_says_what_is_wrong_with_the_input(tmp_path: Path, spark: SparkSession) -> None:
    runner = CliRunner()
    bad = tmp_path / "in" / "user_content_consumption"
    bad.mkdir(parents=True)
    (bad / "a.csv").write_text("userid,courseid\nu,c\n")
    result = runner.invoke(main, ["backfill", "run", "--input", str(tmp_path / "in"), "--catalog", str(CATALOG),
                                  "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "lacks column(s) batchid, contentid, status" in result.output and "Traceback" not in result.output
    empty = runner.invoke(main, ["backfill", "run", "--input", str(tmp_path / "nothing"), "--catalog", str(CATALOG),
                                 "--output", str(tmp_path / "out")])
    assert empty.exit_code == 1 and "no user_content_consumption folder" in empty.output


def test_load_into_a_store_held_by_a_running_stack_says_what_to_do(job: tuple[BackfillSummary, Path],
                                                                   tmp_path: Path) -> None:
    store = tmp_path / "data" / "analytics.duckdb"
    store.parent.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(60)", str(store)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(main, ["backfill", "load", "--path", str(job[1]),
                                           "--data-dir", str(store.parent)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "in use by another process" in result.output and "Stop it" in result.output
