"""Event-to-API freshness under a steady event rate, on the real embedded stack (`lpa up` in this process).

    .venv/bin/python benchmarks/freshness.py [--rate 2000] [--seconds 60] [--out benchmarks/results/freshness.json]

Set-up through the user's paths: a course of 5 units x 20 leaves via the catalog API; an LPA_BATCH create and
enrolments on the raw topic (the batch's group gets the learners as members). Then a rate-controlled producer
sends content-state events at --rate for --seconds, `ets` = send time:

- background: random learners, random leaves, random statuses;
- probes: every --probe-ms one event completes a new leaf for one of 20 probe learners (who get no other
  events), so that learner's `completed` in the group's Progress Report goes up by exactly one.

A poller reads the report over HTTP (the mentor's token) as fast as it answers and records, per probe, the
first answer that shows the new count: freshness = time of that answer - send time (an upper bound: poll
period + report time included). Also: whether the pipeline kept up (messages handled vs produced when the
load stops, and the time to drain). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from ingestion.kafka_io import make_producer  # noqa: E402
from lpa.runtime import Stack  # noqa: E402
from lpa.settings import load_settings  # noqa: E402
from query_api.auth import OPERATOR, issue_token  # noqa: E402
from tests.fixtures.courses import simple_course  # noqa: E402

COURSE = "do_fresh"
BATCH = "b_fresh"
MENTOR = "u_mentor_fresh"
UNITS = {f"unit_{u}": [f"leaf_{u}_{k}" for k in range(20)] for u in range(5)}
LEAVES = [leaf for leaves in UNITS.values() for leaf in leaves]
PROBES = [f"u_probe_{i:02d}" for i in range(20)]
LEARNERS = [f"u_bg_{i:04d}" for i in range(200)]


def _event(user: str, items: list[tuple[str, int]], ets: int, mid: str) -> bytes:
    contents = ", ".join(f'{{"contentId": "{c}", "status": {s}}}' for c, s in items)
    return (f'{{"eid": "BE_JOB_REQUEST", "ets": {ets}, "mid": "{mid}", "edata": {{"action": '
            f'"batch-enrolment-update", "batchId": "{BATCH}", "userId": "{user}", "courseId": "{COURSE}", '
            f'"contents": [{contents}]}}}}').encode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run(rate: float, seconds: float, probe_ms: float, workdir: Path) -> dict[str, Any]:
    settings = load_settings(data_dir=workdir / "data", api_port=0, log_level="WARNING", log_format="text",
                             jwt_secret="freshness-benchmark-key-0123456789abcdef0123456789",
                             max_members_per_group=1000)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per report poll
    stack = Stack(settings).start(on_progress=lambda _: None)
    try:
        stack.wait_ready(60)
        api = stack.api_url
        operator = {"Authorization": f"Bearer {issue_token(settings, 'bench-ops', roles=[OPERATOR])}"}
        mentor = {"Authorization": f"Bearer {issue_token(settings, MENTOR)}"}
        session = requests.Session()
        answer = session.put(f"{api}/v1/courses/{COURSE}/hierarchy", json=simple_course(COURSE, UNITS),
                             headers=operator, timeout=30)
        answer.raise_for_status()
        producer = make_producer(stack.bootstrap, linger_ms=5)
        topic, key = settings.raw_topic, BATCH.encode()
        producer.send(topic, key=key, value=json.dumps(
            {"eid": "LPA_BATCH", "ets": int(time.time() * 1000), "mid": "fresh-batch",
             "edata": {"action": "create", "batchId": BATCH, "name": "Freshness", "courseIds": [COURSE],
                       "mentors": [MENTOR], "createdBy": MENTOR}}).encode())
        for i, user in enumerate(PROBES + LEARNERS):
            producer.send(topic, key=key, value=json.dumps(
                {"eid": "LPA_ENROLMENT", "ets": int(time.time() * 1000), "mid": f"fresh-enrol-{i}",
                 "edata": {"action": "enrol", "batchId": BATCH, "userId": user}}).encode())
        producer.flush()
        setup_messages = 1 + len(PROBES) + len(LEARNERS)
        deadline = time.monotonic() + 120
        assert stack.pipeline is not None
        while stack.pipeline.stats.messages < setup_messages:
            if time.monotonic() > deadline:
                raise RuntimeError("the pipeline did not take the set-up events")
            time.sleep(0.1)
        group_id = session.get(f"{api}/v1/batches/{BATCH}", headers=mentor, timeout=30).json()["groupId"]
        report_url = f"{api}/v1/groups/{group_id}/plugins/progress-report/report"

        def completed() -> dict[str, int]:
            body = session.get(report_url, headers=mentor, timeout=30).json()
            return {m["userId"]: m["courses"][0]["completed"] for m in body["members"] if m["userId"] in probe_set}

        probe_set = set(PROBES)
        pending: dict[tuple[str, int], float] = {}  # (probe learner, expected completed) -> send time
        seen: list[float] = []
        lock = threading.Lock()
        stop_polling = threading.Event()
        polls = [0]

        def poller() -> None:
            while not stop_polling.is_set() or pending:
                now_counts = completed()
                now = time.time()
                polls[0] += 1
                with lock:
                    for (user, count), sent in list(pending.items()):
                        if now_counts.get(user, 0) >= count:
                            seen.append(now - sent)
                            del pending[(user, count)]
                if stop_polling.is_set() and time.time() > stop_after[0]:
                    return

        stop_after = [float("inf")]
        poll_thread = threading.Thread(target=poller, daemon=True)
        poll_thread.start()

        rng = random.Random(3)
        sent = 0
        probes = 0
        began = time.time()
        next_probe = began
        while (now := time.time()) - began < seconds:
            due = int((now - began) * rate) - sent
            for _ in range(max(0, due)):
                ets = int(time.time() * 1000)
                if time.time() >= next_probe and probes < len(PROBES) * len(LEAVES):
                    user, leaf = PROBES[probes % len(PROBES)], LEAVES[probes // len(PROBES)]
                    send_time = time.time()
                    producer.send(topic, key=key, value=_event(user, [(leaf, 2)], ets, f"probe-{probes}"))
                    with lock:  # this learner's completed count once the event is in: one more leaf
                        pending[(user, probes // len(PROBES) + 1)] = send_time
                    probes += 1
                    next_probe += probe_ms / 1000
                else:
                    items = [(rng.choice(LEAVES), rng.randrange(3)) for _ in range(rng.randrange(1, 3))]
                    producer.send(topic, key=key, value=_event(rng.choice(LEARNERS), list(dict(items).items()),
                                                               ets, f"bg-{sent}"))
                sent += 1
            time.sleep(0.005)
        producer.flush()
        load_s = time.time() - began
        handled_at_end = stack.pipeline.stats.messages - setup_messages
        drain_start = time.monotonic()
        while stack.pipeline.stats.messages - setup_messages < sent and time.monotonic() - drain_start < 600:
            time.sleep(0.05)
        drain_s = time.monotonic() - drain_start
        stop_after[0] = time.time() + 30
        stop_polling.set()
        poll_thread.join(timeout=60)
        producer.close()
        samples_ms = [s * 1000 for s in seen]
        return {
            "benchmark": "freshness",
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "target_rate": rate, "seconds": seconds, "sent": sent, "achieved_rate": round(sent / load_s),
            "probes": probes, "probes_seen": len(seen), "probes_unseen": len(pending), "report_polls": polls[0],
            "freshness_ms": ({"p50": round(statistics.median(samples_ms)), "p95": round(percentile(samples_ms, 0.95)),
                              "p99": round(percentile(samples_ms, 0.99)), "max": round(max(samples_ms))}
                             if samples_ms else None),
            "pipeline": {"handled_when_load_stopped": handled_at_end, "lag_when_load_stopped": sent - handled_at_end,
                         "drain_s": round(drain_s, 2), "kept_up": drain_s < 2.0},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_avg_at_end": os.getloadavg()},
        }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=2000.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--probe-ms", type=float, default=100.0, help="one probe event every this many ms")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "freshness.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lpa-fresh-") as workdir:
        result = run(args.rate, args.seconds, args.probe_ms, Path(workdir))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
