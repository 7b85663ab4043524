"""Benchmark: the Progress Report for a group of 1,000 members x 20 courses over 10 million content-state
events, through the API, side by side with the bare DuckDB queries it runs, in one run.

    .venv/bin/python -m benchmarks.progress_report                 # full size (takes a few minutes)
    .venv/bin/python -m benchmarks.progress_report --events 1000000 --members 200 --runs 20   # quick

The events are generated inside DuckDB (benchmarks/progress_report_data.py; no Kafka) and folded into
content_state / course_activity as the sink does. The courses go through the catalog API (which writes the
current leaves), the group and the plugin link through the groups API. Timed, interleaved run by run so that
a noisy neighbour hits all of them alike:

- bare:    exactly the SQL the API's store runs for this answer: the DuckDB adapter's statement
           (query_api/store/duckdb_report.py, `ReportStatement.kept_rows`: the kept cells; the store runs the
           full statement only when its course plans differ, which the benchmark's store never does) on a
           DuckDB cursor, fetchall();
- store:   DuckDBStore.progress_json (bare + timeout timer + joining the entries into the JSON text);
- api:     GET /v1/groups/{id}/plugins/progress-report/report through Flask's test client (auth, metadata
           reads, the store, the JSON answer), the whole body read;
- http:    the same over a real HTTP server (werkzeug, threaded, as `lpa up` serves it), fetched with
           `requests` by a client in another process (a client inside the server's process would compete
           with it for the GIL and count its own parsing of 9.3 MB);
- rows:    for reference, the shared two statements of query_api/store/queries.py (what the Druid adapter
           runs, and what the CSV, the filtered answers and the group page read), fetchall().

Before timing, the API's body is checked byte for byte against the reference writer (json_writer over the
shared statements' rows).

Results: benchmarks/results/progress_report.json (and printed).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from pydantic_core import to_json
from werkzeug.serving import make_server

from benchmarks.progress_report_data import BenchSize, course_docs, generate, hierarchies, user_id
from ingestion.pipeline import tune_gc_for_streaming
from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.settings import Settings
from query_api.app import create_app
from query_api.auth import OPERATOR, issue_token
from query_api.progress.compute import build_report
from query_api.progress.json_writer import report_json
from query_api.store import queries
from query_api.store.duckdb_report import ReportStatement
from query_api.store.duckdb_store import DuckDBStore

RESULTS = Path(__file__).resolve().parent / "results" / "progress_report.json"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1), "min_ms": round(ordered[0] * 1000, 1),
            "runs": len(ordered)}


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


_CLIENT = """
import os, sys, requests
session = requests.Session()
headers = {"Authorization": os.environ["BENCH_AUTH"]}
for _ in sys.stdin:
    # the body read in one call: requests' default 10 kB chunks cost the client ~10 ms per 9.3 MB
    response = session.get(os.environ["BENCH_URL"], headers=headers, timeout=60, stream=True)
    body = response.raw.read()
    sys.stdout.write(f"{response.status_code} {len(body)}\\n")
    sys.stdout.flush()
"""


class HttpClientProcess:
    """A `requests` client in its own process: `get()` asks it for one GET and waits for the whole body."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        env = {**os.environ, "BENCH_URL": url, "BENCH_AUTH": headers["Authorization"]}
        self._process = subprocess.Popen([sys.executable, "-c", _CLIENT], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env=env)

    def get(self) -> int:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the HTTP client process ended (exit code {self._process.poll()})")
        status, length = line.split()
        assert status == "200", status
        return int(length)

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()


def run(size: BenchSize, runs: int, workdir: Path) -> dict[str, Any]:
    # The process settings of `lpa up`, which serves this API over the embedded store (it tunes the collector
    # for the pipeline running beside the API); the same for every path timed below.
    tune_gc_for_streaming()
    db_path = workdir / "analytics.duckdb"
    conn = open_duckdb(db_path)
    t0 = time.perf_counter()
    generate(conn, size)
    generated_s = time.perf_counter() - t0
    state_rows = conn.execute("SELECT count(*) FROM content_state").fetchone()[0]  # type: ignore[index]
    activity_rows = conn.execute("SELECT count(*) FROM course_activity").fetchone()[0]  # type: ignore[index]

    store = DuckDBStore(conn, timeout_s=30)
    settings = Settings(data_dir=workdir / "data", jwt_secret="benchmark-signing-key-0123456789abcdef012345",
                        max_members_per_group=size.members + 1, max_groups_per_user=10)
    app = create_app(settings, analytics=store)
    client = app.test_client()
    operator = {"Authorization": f"Bearer {issue_token(settings, 'bench-ops', roles=[OPERATOR])}"}
    mentor = {"Authorization": f"Bearer {issue_token(settings, 'bench-mentor')}"}
    for doc in course_docs(size):
        answer = client.put(f"/v1/courses/{doc['identifier']}/hierarchy", json=doc, headers=operator)
        assert answer.status_code in (200, 201), answer.json
    members = [user_id(i) for i in range(size.members)]
    answer = client.post("/v1/groups", headers=mentor, json={"name": "Benchmark group",
                                                             "members": [{"userId": u} for u in members]})
    assert answer.status_code == 201, answer.json
    group_id = answer.json["id"]
    course_ids = [h.course_id for h in hierarchies(size)]
    answer = client.put(f"/v1/groups/{group_id}/plugins/progress-report", headers=mentor,
                        json={"config": {"courseIds": course_ids}})
    assert answer.status_code == 201, answer.json
    path = f"/v1/groups/{group_id}/plugins/progress-report/report"

    relations = DuckDBStore.RELATIONS
    course_sql = queries.course_progress_sql(relations, len(members), len(course_ids))
    unit_sql = queries.unit_progress_sql(relations, len(members), len(course_ids))
    cursor = conn.cursor()
    parsed = hierarchies(size)
    statement = ReportStatement(parsed, members)

    def bare() -> None:
        statement.kept_rows(cursor)

    def shared_rows() -> None:
        cursor.execute(course_sql, queries.course_progress_params(members, course_ids)).fetchall()
        cursor.execute(unit_sql, queries.unit_progress_params(members, course_ids)).fetchall()

    def via_store() -> None:
        store.progress_json(group_id, parsed, members)

    def via_api() -> None:
        response = client.get(path, headers=mentor)
        assert response.status_code == 200
        response.get_data()

    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    client_process = HttpClientProcess(f"http://127.0.0.1:{http.server_port}{path}", mentor)

    def via_http() -> None:
        assert client_process.get() == len(body)

    # what the API answers, and where the time goes (one pass of each stage)
    body = client.get(path, headers=mentor).get_data()
    report = json.loads(body)
    assert len(report["members"]) == size.members and len(report["courses"]) == size.courses
    rows = store.progress_rows(members, course_ids)
    assert body == report_json(group_id, parsed, members, rows), "the API's answer differs from the reference"
    entries = statement.kept_rows(cursor)
    assert all(entry is not None for _, entry in entries), "the store should keep every cell: bare is its SQL"

    def median_ms(fn: Callable[[], Any], n: int = 5) -> float:
        return round(statistics.median(timed(fn) for _ in range(n)) * 1000, 1)

    # where the API's time goes (median of 5 passes each): the unfiltered JSON answer is the statement + the
    # envelope; the shared rows + build_report (+ to_json) are the path of adapters without a writer (Druid)
    stages = {"statement_ms": median_ms(bare),
              "envelope_ms": median_ms(lambda: statement.assemble(group_id, entries)),
              "store_ms": median_ms(via_store),
              "shared_rows_ms": median_ms(shared_rows),
              "report_json_of_rows_ms": median_ms(lambda: report_json(group_id, parsed, members, rows)),
              "build_report_ms": median_ms(lambda: build_report(group_id, parsed, members, rows))}
    built = build_report(group_id, parsed, members, rows)
    stages["to_json_of_built_ms"] = median_ms(lambda: to_json(built))

    def api_get(query: str) -> Callable[[], None]:
        def get() -> None:
            answer = client.get(f"{path}?{query}", headers=mentor)
            assert answer.status_code == 200, answer.status_code
            answer.get_data()
        return get

    # the filtered answers and the CSV (what the page shows) parse the store's JSON text, then filter or write
    stages["api_status_filter_ms"] = median_ms(api_get("status=in-progress"))
    stages["api_inactive_filter_ms"] = median_ms(api_get("inactiveDays=30"))
    stages["api_csv_ms"] = median_ms(api_get("format=csv"))

    timed_paths = (("bare", bare), ("store", via_store), ("api", via_api), ("http", via_http), ("rows", shared_rows))
    samples: dict[str, list[float]] = {name: [] for name, _ in timed_paths}
    try:
        for _, fn in timed_paths:  # warm-up
            fn()
        for _ in range(runs):
            for name, fn in timed_paths:
                gc.collect()
                samples[name].append(timed(fn))
    finally:
        client_process.close()
        http.shutdown()
        thread.join(timeout=10)
        conn.close()

    result = {name: percentiles(values) for name, values in samples.items()}
    return {
        "benchmark": "progress_report",
        "size": {"members": size.members, "courses": size.courses, "units_per_course": size.units,
                 "leaves_per_unit": size.leaves_per_unit, "events": size.events, "outsiders": size.outsiders,
                 "content_state_rows": state_rows, "course_activity_rows": activity_rows,
                 "shared_course_rows": len(rows.courses), "shared_unit_rows": len(rows.units),
                 "statement_rows": len(entries),
                 "response_bytes": len(body)},
        "timings": result,
        "ratios": {"api_p95_over_bare_p95": round(result["api"]["p95_ms"] / result["bare"]["p95_ms"], 2),
                   "http_p95_over_bare_p95": round(result["http"]["p95_ms"] / result["bare"]["p95_ms"], 2),
                   "api_p95_over_shared_rows_p95": round(result["api"]["p95_ms"] / result["rows"]["p95_ms"], 2)},
        "stages_median_ms": stages,
        "aim": {"api_p95_ms": 150, "api_over_bare": 1.5},
        "generation_s": round(generated_s, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__,
                    "platform": platform.platform(), "load_avg_at_end": os.getloadavg()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    size = BenchSize(members=args.members, courses=args.courses, events=args.events, outsiders=args.members)
    with tempfile.TemporaryDirectory(prefix="lpa-bench-") as workdir:
        result = run(size, args.runs, Path(workdir))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
