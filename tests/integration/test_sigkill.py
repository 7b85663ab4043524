"""Exactly-once into DuckDB: SIGKILL the pipeline process at random moments, restart it, compare with an
independent recomputation of what the events must give."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer

from ingestion.enrich import event_id_for
from ingestion.kafka_io import make_producer
from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.settings import Settings
from tests.fixtures import events as ev
from tests.fixtures.pipeline_process import committed_total, start_pipeline, write_catalog

pytestmark = pytest.mark.integration

LEAVES = {"do_course_1": ["do_leaf_1", "do_leaf_2", "do_leaf_3", "do_not_in_tree"],
          "do_course_b": ["l_b1", "l_b2", "l_b3"]}
BATCH_COURSE = {"b_1": "do_course_1", "b_2": "do_course_b", "b_3": "do_course_1"}


def _generate(rng: random.Random, count: int) -> tuple[list[bytes], Counter[str]]:
    """Raw messages (valid, bad, duplicated) and the dead-letter reasons they must produce."""
    lines: list[bytes] = [ev.line(ev.batch_event(b, [c], program="prog_9" if b == "b_1" else None, mid=f"mb-{b}"))
                          for b, c in BATCH_COURSE.items()]
    bad: Counter[str] = Counter()
    for i in range(count):
        batch = rng.choice(list(BATCH_COURSE))
        course = BATCH_COURSE[batch]
        user = f"u_{rng.randrange(40)}"
        roll = rng.random()
        if roll < 0.04:
            lines.append(b'{"eid": "BE_JOB_REQUEST", broken')
            bad["not_json"] += 1
        elif roll < 0.07:
            lines.append(ev.line(ev.content_state(user, batch, "do_course_missing", ets=1732500000000 + i)))
            bad["unknown_course"] += 1
        elif roll < 0.09:
            lines.append(ev.line(ev.content_state(user, batch, course, [(LEAVES[course][0], 1), ("x", 7)], ets=i)))
            bad["invalid_field"] += 1
        elif roll < 0.10:
            lines.append(ev.line(ev.enrolment(user, "b_never", mid=f"me-{i}")))
            bad["unknown_batch"] += 1
        elif roll < 0.15:
            lines.append(ev.line(ev.enrolment(user, batch, rng.choice(["enrol", "unenrol"]), ets=i, mid=f"me-{i}")))
        elif roll < 0.20:
            lines.append(ev.line(ev.assessment(user, batch, course, LEAVES[course][0], score=rng.randrange(11),
                                               attempt=f"a-{i}", ets=1732500000000 + i)))
        elif roll < 0.25 and len(lines) > 5:
            lines.append(rng.choice(lines[3:]))  # same bytes again: counted once (or dead-lettered again)
            reason = _expected_reason(lines[-1])
            if reason:
                bad[reason] += 1
        else:
            n = rng.randrange(0, 4)  # 0 items: an empty `contents` is activity too
            items = [(rng.choice(LEAVES[course]), rng.randrange(3)) for _ in range(n)]
            items = list(dict(items).items())  # one item per content: facts stay distinct within an event
            # same mid for different content on purpose: each is its own event
            lines.append(ev.line(ev.content_state(user, batch, course, items, ets=1732500000000 + i * 1000,
                                                  mid=f"LP.same.{i % 7}")))
    return lines, bad


def _expected_reason(raw: bytes) -> str | None:
    if raw.startswith(b'{"eid": "BE_JOB_REQUEST", broken'):
        return "not_json"
    data = json.loads(raw)
    if data["eid"] == "LPA_ENROLMENT" and data["edata"]["batchId"] == "b_never":
        return "unknown_batch"
    if data["eid"] == "BE_JOB_REQUEST":
        if data["edata"]["courseId"] == "do_course_missing":
            return "unknown_course"
        if any(c["status"] not in (0, 1, 2) for c in data["edata"]["contents"]):
            return "invalid_field"
    return None


def _expected(lines: list[bytes]) -> dict[str, Any]:
    rows_per_event: dict[str, int] = {}
    state: dict[tuple[str, str, str, str], int] = {}
    activity: dict[tuple[str, str, str], tuple[int, int]] = {}
    for raw in lines:
        if _expected_reason(raw):
            continue
        data = json.loads(raw)
        edata = data["edata"]
        if data["eid"] == "BE_JOB_REQUEST":
            rows_per_event[event_id_for(data)] = max(1, len(edata["contents"]))
            key3 = (edata["userId"], edata["batchId"], edata["courseId"])
            first, last = activity.get(key3, (data["ets"], data["ets"]))
            activity[key3] = (min(first, data["ets"]), max(last, data["ets"]))
            for item in edata["contents"]:
                key = (*key3, item["contentId"])
                state[key] = max(state.get(key, 0), item["status"])
        elif data["eid"] == "LPA_BATCH":
            rows_per_event[event_id_for(data)] = len(edata["courseIds"])
        else:
            rows_per_event[event_id_for(data)] = 1
    return {"rows_per_event": rows_per_event, "state": state, "activity": activity}


def _start(settings: Settings, db: Path, catalog: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    return start_pipeline(settings, db, catalog, log, "--max-poll-records", "97", *extra)


def test_sigkill_at_random_moments_loses_and_doubles_nothing(lpa_settings: Settings, tmp_path: Path) -> None:
    rng = random.Random(20241125)
    catalog = write_catalog(tmp_path / "catalog")
    db, log = tmp_path / "analytics.duckdb", tmp_path / "pipeline.log"
    lines, bad = _generate(rng, 3000)
    producer = make_producer(str(lpa_settings.kafka_bootstrap))
    watcher = KafkaConsumer(bootstrap_servers=lpa_settings.kafka_bootstrap, group_id=lpa_settings.consumer_group,
                            enable_auto_commit=False)
    # Interleaved waves mix every kind; the batch creates go first (keyed like their batch's later events,
    # so the pipeline sees them before those).
    waves = [lines[3 + i::6] for i in range(6)]
    waves[0] = lines[:3] + waves[0]
    published: list[bytes] = []
    kills = 0
    for wave in waves:
        for raw in wave:
            key = json.loads(raw)["edata"]["batchId"].encode() if raw[-1:] == b"}" else None
            producer.send(lpa_settings.raw_topic, key=key, value=raw)
        producer.flush()
        published.extend(wave)
        before = committed_total(watcher, lpa_settings)
        proc = _start(lpa_settings, db, catalog, log)
        deadline = time.monotonic() + 20
        while committed_total(watcher, lpa_settings) <= before and time.monotonic() < deadline:
            time.sleep(0.02)  # wait for progress, so the kill lands mid-stream
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    final = _start(lpa_settings, db, catalog, log, "--exit-when-idle")
    assert final.wait(120) == 0, log.read_text()[-3000:]
    assert kills >= 5

    expected = _expected(published)
    conn = open_duckdb(db)
    got_rows = dict(conn.execute("SELECT event_id, count(*) FROM enriched_events GROUP BY event_id").fetchall())
    assert got_rows == expected["rows_per_event"]
    got_state = {(u, b, c, x): s for u, b, c, x, s in
                 conn.execute("SELECT user_id, batch_id, course_id, content_id, status FROM content_state").fetchall()}
    assert got_state == expected["state"]
    activity_sql = "SELECT user_id, batch_id, course_id, first_ets, last_ets FROM course_activity"
    got_activity = {(u, b, c): (f, la) for u, b, c, f, la in conn.execute(activity_sql).fetchall()}
    assert got_activity == expected["activity"]
    # course_completion: one row per (learner, batch, course) with a completion, none twice (no key)
    completed_keys = {key[:3] for key, status in expected["state"].items() if status == 2}
    assert conn.execute("SELECT count(*), count(DISTINCT (user_id, batch_id, course_id)) FROM course_completion"
                        ).fetchone() == (len(completed_keys), len(completed_keys))
    cells = {(u, c) for u, _, c in expected["activity"]}  # course_best: one row per (learner, course)
    assert conn.execute("SELECT count(*), count(DISTINCT (user_id, course_id)) FROM course_best").fetchone() == (
        len(cells), len(cells))
    assert dict(conn.execute("SELECT reason, count(*) FROM deadletters GROUP BY reason").fetchall()) == dict(bad)
    assert conn.execute("SELECT count(*), count(DISTINCT (partition, \"offset\")) FROM raw_log").fetchone() == (
        len(published), len(published))
    assert conn.execute("SELECT sum(next_offset) FROM pipeline_offsets").fetchone()[0] == len(published)
    dead = conn.execute("SELECT count(*) FROM raw_log WHERE outcome = 'deadlettered'").fetchone()[0]
    assert dead == sum(bad.values())
