"""benchmarks/run_all.py: the table from results files and the generated section of docs/performance.md."""

from __future__ import annotations

from pathlib import Path

from benchmarks import run_all

INFO = {"date": "2026-01-01T00:00:00Z", "cpu": "Test CPU", "cores": 2, "memory_gb": 24.0, "python": "3.11.7",
        "versions": {"duckdb": "1.5.6", "kafka-python": "2.3.3"}, "load_avg_at_start": (0.5, 0.4, 0.3)}
API = {"server": {"gunicorn_workers": 2, "threads": 4}, "load": {"connections": 16, "seconds": 60},
       "endpoints": {"group": {"requests_per_s": 100.0, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "errors": 0},
                     "progress_report": {"requests_per_s": 9.0, "p50_ms": 10.0, "p95_ms": 20.0, "p99_ms": 30.0,
                                         "errors": 2}}}


def test_rows_say_whether_each_target_is_met() -> None:
    entries = {"api_throughput": {"status": "ok", "seconds": 1.0, "result": API},
               "chaos": {"status": "failed (exit 1)", "seconds": 1.0, "result": {
                   "events": 1000, "kills": 20, "passed": False, "seconds": 3.0}},
               "backfill": {"status": "timed out after 10 s", "seconds": 10.0, "result": None}}
    rows = {name: (figure, met) for name, figure, _, met in run_all.table(entries)}
    assert rows["API throughput: group"][1] is True
    report_figure, report_met = rows["API throughput: progress_report"]
    assert report_met is False and "2 errors" in report_figure
    assert rows["chaos: SIGKILLs during a stream"][1] is False
    assert rows["backfill"] == ("timed out after 10 s", False)


def test_generated_section_replaces_only_the_text_between_the_markers(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Perf\n\nprose before\n\n{run_all.BEGIN}\nold table\n{run_all.END}\n\nprose after\n")
    section = run_all.render([("x", "1 ms", "< 2 ms", True), ("y", "3", "-", None)], INFO, quick=False)
    run_all.write_doc(section, doc)
    text = doc.read_text()
    assert "old table" not in text and "prose before" in text and "prose after" in text
    assert "| x | 1 ms | < 2 ms | yes |" in text and "| y | 3 | - | - |" in text and "Test CPU, 2 cores" in text
    run_all.write_doc(section, doc)
    assert doc.read_text() == text  # idempotent


def test_missing_markers_append_a_section(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text("# Perf\n\nprose\n")
    run_all.write_doc(run_all.render([], INFO, quick=False), doc)
    text = doc.read_text()
    assert text.startswith("# Perf\n\nprose\n") and text.count(run_all.BEGIN) == 1


def test_a_partial_run_says_which_rows_are_kept_from_earlier_runs() -> None:
    section = run_all.render([("x", "1 ms", "< 2 ms", True)], INFO, quick=False,
                             kept={"chaos": "2026-11-26T05:13:55Z", "backfill": "2026-11-25T01:00:00Z"})
    assert ("these rows are kept from earlier runs, not re-run: backfill (2026-11-25T01:00:00Z); "
            "chaos (2026-11-26T05:13:55Z).") in section
    assert "kept from earlier" not in run_all.render([("x", "1 ms", "< 2 ms", True)], INFO, quick=False)
