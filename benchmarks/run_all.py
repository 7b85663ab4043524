"""Every benchmark in one command, each in its own subprocess with its own timeout; one results file and
one generated table in docs/performance.md (between the `results` markers; prose outside them is kept).

    .venv/bin/python benchmarks/run_all.py                 # full sizes (an hour or more on 2 cores)
    .venv/bin/python benchmarks/run_all.py --quick         # small sizes: a smoke run of the machinery
    .venv/bin/python benchmarks/run_all.py --only freshness,api_throughput

Full runs write benchmarks/results/<name>.json, benchmarks/results/all.json (with the machine) and the table;
--quick writes under benchmarks/results/quick/ and leaves docs/performance.md alone (the table is printed).
The chaos entry runs tests/integration/test_chaos.py at the issue's size (1,000,000 events, 20 SIGKILLs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

Row = tuple[str, str, str, bool | None]  # benchmark, figure, target, met (None: no target)


@dataclass(frozen=True)
class Bench:
    name: str
    full: list[str]  # arguments after the python executable; {out} is replaced by the results file
    quick: list[str]
    timeout_s: float
    rows: Callable[[dict[str, Any]], list[Row]]
    env: dict[str, str] | None = None
    quick_env: dict[str, str] | None = None


def _ingest_rows(r: dict[str, Any]) -> list[Row]:
    rate, ratio = r["pipeline_duckdb_only_events_per_s"], r["pipeline_vs_bare"]
    bare = r["bare_consume_events_per_s"]
    return [("ingest vs bare consume", f"{rate:,} events/s = {ratio:.1%} of bare ({bare:,}/s), {r['events']:,} events",
             ">= 40% of bare and >= 20,000 events/s", ratio >= 0.4 and rate >= 20000)]


def _freshness_rows(r: dict[str, Any]) -> list[Row]:
    f = r["freshness_ms"] or {"p50": "-", "p95": "-", "p99": "-"}
    kept = r["pipeline"]["kept_up"]
    return [("event-to-API freshness", f"p50 {f['p50']} ms, p95 {f['p95']} ms, p99 {f['p99']} ms at "
             f"{r['achieved_rate']:,} events/s for {r['seconds']:.0f} s ({r['probes_seen']}/{r['probes']} probes seen)",
             f"steady {r['target_rate']:,.0f} events/s, pipeline keeps up", kept and r["probes_unseen"] == 0)]


def _report_rows(r: dict[str, Any]) -> list[Row]:
    t, s = r["timings"], r["size"]
    ratio = r["ratios"]["api_p95_over_bare_p95"]
    aim = r.get("aim", {"api_p95_ms": 150, "api_over_bare": 1.5})
    return [("progress report vs bare store query",
             f"API p95 {t['api']['p95_ms']:,} ms, bare p95 {t['bare']['p95_ms']:,} ms (x{ratio}); {s['events']:,} "
             f"events, {s['members']:,} members, {s['courses']} courses",
             f"p95 < {aim['api_p95_ms']} ms, <= {aim['api_over_bare']}x bare",
             t["api"]["p95_ms"] < aim["api_p95_ms"] and ratio <= aim["api_over_bare"])]


def _backfill_rows(r: dict[str, Any]) -> list[Row]:
    ratio = r["ratio_backfill_to_bare"]
    same = r.get("ratio_backfill_to_bare_same_volume")
    beside = f"; x{same} of a bare write of every row with two SHA-1 ids" if same is not None else ""
    floor = r.get("ratio_bare_copy_to_bare")
    if floor is not None:
        beside += f"; a bare copy of the rows alone: x{floor}"
    return [("backfill vs bare Spark", f"x{ratio} of a bare group-by ({r['rows']:,} rows, "
             f"{r['rows_per_second_backfill']:,} rows/s){beside}", "<= 1.5x bare", ratio <= 1.5)]


def _api_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    server, load = r["server"], r["load"]
    setup = (f"gunicorn {server['gunicorn_workers']}x{server['threads']} gthread, wrk {load['connections']} "
             f"connections, {load['seconds']:.0f} s")
    for name, e in r["endpoints"].items():
        rows.append((f"API throughput: {name}", f"{e['requests_per_s']:,} req/s, p50 {e['p50_ms']} ms, p95 "
                     f"{e['p95_ms']} ms, p99 {e['p99_ms']} ms, {e['errors']} errors ({setup})",
                     "0 errors", e["errors"] == 0))
    return rows


def _chaos_rows(r: dict[str, Any]) -> list[Row]:
    return [("chaos: SIGKILLs during a stream", f"{r['events']:,} events, {r['kills']} SIGKILLs: "
             f"{'store equals the recomputation' if r['passed'] else 'FAILED'} ({r['seconds']:.0f} s)",
             "nothing lost, nothing doubled", r["passed"])]


BENCHES = [
    Bench("ingest", ["benchmarks/ingest_throughput.py", "--out", "{out}"],
          ["benchmarks/ingest_throughput.py", "--events", "20000", "--out", "{out}"], 3600, _ingest_rows),
    Bench("freshness", ["benchmarks/freshness.py", "--rate", "2000", "--seconds", "60", "--out", "{out}"],
          ["benchmarks/freshness.py", "--rate", "2000", "--seconds", "8", "--out", "{out}"], 1200, _freshness_rows),
    Bench("progress_report", ["-m", "benchmarks.progress_report", "--out", "{out}"],
          ["-m", "benchmarks.progress_report", "--events", "200000", "--members", "100", "--courses", "5",
           "--runs", "5", "--out", "{out}"], 3600, _report_rows),
    Bench("backfill", ["-m", "benchmarks.backfill_spark", "--results", "{out}"],
          ["-m", "benchmarks.backfill_spark", "--rows", "200000", "--udf-rows", "20000", "--results", "{out}"],
          3600, _backfill_rows),
    Bench("api_throughput", ["benchmarks/api_throughput.py", "--seconds", "60", "--out", "{out}"],
          ["benchmarks/api_throughput.py", "--seconds", "3", "--events", "50000", "--out", "{out}"], 1800, _api_rows),
    Bench("chaos", ["benchmarks/run_all.py", "--chaos-run", "{out}"], ["benchmarks/run_all.py", "--chaos-run", "{out}"],
          3600, _chaos_rows, env={"LPA_CHAOS_EVENTS": "1000000", "LPA_CHAOS_KILLS": "20"},
          quick_env={"LPA_CHAOS_EVENTS": "20000", "LPA_CHAOS_KILLS": "5"}),
]


def chaos_run(out: Path) -> int:
    """The chaos test as a benchmark entry: pass/fail, size and time into a results file."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           "-o", "timeout=3600", "tests/integration/test_chaos.py"], cwd=ROOT)
    result = {"benchmark": "chaos", "events": int(os.environ.get("LPA_CHAOS_EVENTS", "200000")),
              "kills": int(os.environ.get("LPA_CHAOS_KILLS", "20")), "passed": proc.returncode == 0,
              "seconds": round(time.perf_counter() - start, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["passed"] else 1


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for package in ("duckdb", "kafka-python", "confluent-kafka", "pyspark", "gunicorn", "flask"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb, "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_avg_at_start": os.getloadavg()}


def run_one(bench: Bench, quick: bool, folder: Path) -> dict[str, Any]:
    out = folder / f"{bench.name}.json"
    args = [a.replace("{out}", str(out)) for a in (bench.quick if quick else bench.full)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **((bench.quick_env if quick else bench.env) or {})}
    start = time.perf_counter()
    status = "ok"
    try:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, timeout=bench.timeout_s)
        if done.returncode != 0:
            status = f"failed (exit {done.returncode})"
    except subprocess.TimeoutExpired:
        status = f"timed out after {bench.timeout_s:.0f} s"
    seconds = round(time.perf_counter() - start, 1)
    result: dict[str, Any] | None = None
    if status == "ok" or bench.name == "chaos":
        try:
            result = json.loads(out.read_text())
        except (OSError, ValueError) as error:
            status = f"no results file: {error}"
    return {"status": status, "seconds": seconds, "result": result,
            "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def table(entries: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for bench in BENCHES:
        entry = entries.get(bench.name)
        if entry is None:
            continue
        if entry["result"] is None:
            rows.append((bench.name, entry["status"], "-", False))
            continue
        try:
            rows.extend(bench.rows(entry["result"]))
        except (KeyError, TypeError, ValueError) as error:
            rows.append((bench.name, f"unreadable result: {error!r}", "-", False))
    return rows


def render(rows: list[Row], info: dict[str, Any], quick: bool, kept: dict[str, str] | None = None) -> str:
    """The generated section; `kept` names the rows a partial run kept from earlier runs, with their date."""
    mark = {True: "yes", False: "**no**", None: "-"}
    lines = [BEGIN, "", f"Generated by `benchmarks/run_all.py{' --quick' if quick else ''}` on {info['date']}: "
             f"{info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, Python {info['python']}, "
             f"DuckDB {info['versions'].get('duckdb')}, kafka-python {info['versions'].get('kafka-python')}, "
             f"confluent-kafka {info['versions'].get('confluent-kafka')}; "
             f"load average at start {info['load_avg_at_start'][0]:.2f}. Raw figures: "
             f"`benchmarks/results/{'quick/' if quick else ''}all.json`.",
             "", "| benchmark | figure | target | met? |", "|---|---|---|---|"]
    if kept:
        earlier = "; ".join(f"{name} ({when})" for name, when in sorted(kept.items()))
        lines[3:3] = ["", f"A partial run (`--only`): these rows are kept from earlier runs, not re-run: {earlier}."]
    for name, figure, target, met in rows:
        lines.append(f"| {name} | {figure} | {target} | {mark[met]} |")
    lines += ["", END]
    return "\n".join(lines)


def write_doc(section: str, doc: Path = DOC) -> None:
    """Replace the text between the markers (append the section when the markers are missing)."""
    text = doc.read_text() if doc.exists() else "# Performance\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n## All benchmarks (generated)\n\n" + section + "\n"
    doc.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes; results under benchmarks/results/quick")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(b.name for b in BENCHES)}")
    parser.add_argument("--chaos-run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.chaos_run:
        return chaos_run(args.chaos_run)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    folder = RESULTS / "quick" if args.quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    info = machine()
    entries: dict[str, dict[str, Any]] = {}
    previous = folder / "all.json"
    kept: dict[str, str] = {}
    if wanted and previous.exists():
        # A partial run (--only) updates its rows and keeps the other benchmarks' last results in the table.
        earlier = json.loads(previous.read_text())
        entries.update(earlier.get("benchmarks", {}))
        for entry in entries.values():  # saved with the entry, so a later partial run keeps the right date
            entry.setdefault("run_at", str(earlier.get("machine", {}).get("date") or "an earlier run"))
        kept = {name: str(entry["run_at"]) for name, entry in entries.items() if name not in wanted}
    for bench in BENCHES:
        if wanted and bench.name not in wanted:
            continue
        print(f"== {bench.name} ==", flush=True)
        entries[bench.name] = run_one(bench, args.quick, folder)
        print(f"== {bench.name}: {entries[bench.name]['status']} in {entries[bench.name]['seconds']} s", flush=True)
    rows = table(entries)
    (folder / "all.json").write_text(json.dumps({"machine": info, "quick": args.quick, "benchmarks": entries,
                                                 "table": rows}, indent=2) + "\n")
    section = render(rows, info, args.quick, kept)
    if not args.quick:
        write_doc(section)
    print(section)
    return 0 if all(e["status"] == "ok" for e in entries.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
