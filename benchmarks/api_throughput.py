"""API throughput: gunicorn serving the query API over a DuckDB store file, under `wrk` for --seconds.

    .venv/bin/python benchmarks/api_throughput.py [--seconds 60] [--workers 2] [--threads 4] [--connections 16]

Set-up: a DuckDB store with --events content-state events generated in DuckDB (benchmarks/progress_report_data.py)
for a group of --members learners over --courses courses, the courses and the group created through the API
(SQLite metadata). Then gunicorn (gthread workers; each worker opens the DuckDB file read-only: DuckDB allows
many read-only openers of a file but only one read-write one) serves `api_app()` below, and wrk (a Lua script
adds the bearer token and prints percentiles as JSON) loads, one after the other:

- the Progress Report: GET /v1/groups/{id}/plugins/progress-report/report (the group's mentor);
- a light endpoint: GET /v1/groups/{id}.

Reports requests/s, latency p50/p95/p99 and errors (non-2xx, socket errors) per endpoint; 0 errors expected.
Needs `wrk` (apt-get install wrk). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from lpa.settings import Settings, load_settings  # noqa: E402

SECRET = "api-throughput-benchmark-key-0123456789abcdef0123456789"
MENTOR = "bench-mentor"
WRK_SCRIPT = """
wrk.headers["Authorization"] = "Bearer %(token)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "connect_errors": %%d, "read_errors": %%d, '
    .. '"write_errors": %%d, "status_errors": %%d, "timeouts": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, '
    .. '"max_us": %%d, "bytes": %%d}\\n', summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, summary.bytes))
end
"""


def api_app() -> Any:
    """gunicorn's app factory: `gunicorn 'benchmarks.api_throughput:api_app()'` with LPA_* settings and
    LPA_BENCH_DUCKDB = the store file, opened read-only by every worker."""
    import duckdb

    from query_api.app import create_app
    from query_api.store.duckdb_store import DuckDBStore

    settings = load_settings()
    conn = duckdb.connect(os.environ["LPA_BENCH_DUCKDB"], read_only=True)
    return create_app(settings, analytics=DuckDBStore(conn, timeout_s=settings.query_timeout_s))


def prepare(workdir: Path, members: int, courses: int, events: int) -> tuple[Settings, str, Path]:
    """The store file and the metadata (courses, a group of `members` with the progress report linked)."""
    from benchmarks.progress_report_data import BenchSize, course_docs, generate, hierarchies, user_id
    from ingestion.sinks.duckdb_conn import open_duckdb
    from query_api.app import create_app
    from query_api.auth import OPERATOR, issue_token
    from query_api.store.duckdb_store import DuckDBStore

    db = workdir / "analytics.duckdb"
    settings = load_settings(data_dir=workdir / "data", jwt_secret=SECRET, max_members_per_group=members + 1,
                             log_level="WARNING")
    size = BenchSize(members=members, courses=courses, events=events, outsiders=members)
    conn = open_duckdb(db)
    generate(conn, size)
    client = create_app(settings, analytics=DuckDBStore(conn, timeout_s=60)).test_client()
    operator = {"Authorization": f"Bearer {issue_token(settings, 'bench-ops', roles=[OPERATOR])}"}
    mentor = {"Authorization": f"Bearer {issue_token(settings, MENTOR)}"}
    for doc in course_docs(size):
        answer = client.put(f"/v1/courses/{doc['identifier']}/hierarchy", json=doc, headers=operator)
        assert answer.status_code in (200, 201), answer.json
    answer = client.post("/v1/groups", headers=mentor, json={
        "name": "Throughput group", "members": [{"userId": user_id(i)} for i in range(members)]})
    assert answer.status_code == 201, answer.json
    group_id = answer.json["id"]
    answer = client.put(f"/v1/groups/{group_id}/plugins/progress-report", headers=mentor,
                        json={"config": {"courseIds": [h.course_id for h in hierarchies(size)]}})
    assert answer.status_code == 201, answer.json
    conn.execute("CHECKPOINT")
    conn.close()
    return settings, group_id, db


def wrk(url: str, token: str, seconds: float, connections: int, threads: int, workdir: Path) -> dict[str, Any]:
    script = workdir / "auth.lua"
    script.write_text(WRK_SCRIPT % {"token": token})
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "30s",
                          "--latency", "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return {"requests": raw["requests"], "requests_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "p50_ms": round(raw["p50_us"] / 1000, 1), "p95_ms": round(raw["p95_us"] / 1000, 1),
            "p99_ms": round(raw["p99_us"] / 1000, 1), "max_ms": round(raw["max_us"] / 1000, 1),
            "errors": errors, "error_detail": {k: raw[k] for k in raw if k.endswith("errors") or k == "timeouts"},
            "bytes_per_response": round(raw["bytes"] / max(1, raw["requests"]))}


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from ingestion.broker import free_port
    from query_api.auth import issue_token

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    settings, group_id, db = prepare(workdir, args.members, args.courses, args.events)
    port = free_port()
    env = {**os.environ, "LPA_DATA_DIR": str(settings.data_dir), "LPA_JWT_SECRET": SECRET,
           "LPA_BENCH_DUCKDB": str(db), "LPA_LOG_LEVEL": "WARNING", "LPA_MAX_MEMBERS_PER_GROUP": str(args.members + 1)}
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", "gthread", "--threads",
           str(args.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
           "benchmarks.api_throughput:api_app()"]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    token = issue_token(settings, MENTOR)
    base = f"http://127.0.0.1:{port}"
    endpoints = {"progress_report": f"{base}/v1/groups/{group_id}/plugins/progress-report/report",
                 "group": f"{base}/v1/groups/{group_id}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(endpoints["group"], headers={"Authorization": f"Bearer {token}"},
                                timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        for url in endpoints.values():  # warm every worker
            for _ in range(args.workers * 2):
                requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60).raise_for_status()
        results = {name: wrk(url, token, args.seconds, args.connections, args.wrk_threads, workdir)
                   for name, url in endpoints.items()}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    return {
        "benchmark": "api_throughput",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "server": {"gunicorn_workers": args.workers, "worker_class": "gthread", "threads": args.threads},
        "load": {"tool": "wrk", "seconds": args.seconds, "connections": args.connections, "threads": args.wrk_threads},
        "size": {"members": args.members, "courses": args.courses, "events": args.events},
        "endpoints": results,
        "errors": sum(r["errors"] for r in results.values()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_at_end": os.getloadavg()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="wrk duration per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (processes)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--courses", type=int, default=5)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "api_throughput.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lpa-api-bench-") as workdir:
        result = run(args, Path(workdir))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
