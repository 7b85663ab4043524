"""The pipeline against the real embedded broker: store, enrich, dead-letter, resume, `lpa ingest`,
`lpa deadletter list|replay`."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.events import PlatformEvent
from ingestion.kafka_io import make_consumer, make_producer, read_to_end, topic_partitions
from ingestion.pipeline import H_REASON, H_SOURCE_OFFSET, Pipeline, PipelineConfig, PipelineError
from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.topic_publisher import PublishError, TopicPublisher
from lpa.cli import main
from lpa.settings import Settings
from tests.fixtures import events as ev
from tests.fixtures.courses import FRACTIONS, simple_course

pytestmark = pytest.mark.integration


def _publish(settings: Settings, lines: list[bytes]) -> None:
    producer = make_producer(str(settings.kafka_bootstrap))
    for raw in lines:
        producer.send(settings.raw_topic, key=b"b_101", value=raw)
    producer.flush()
    producer.close()


def _pipeline(settings: Settings, conn: duckdb.DuckDBPyConnection, catalog: MemoryCatalog | None = None,
              batches: MemoryBatches | None = None, **config: object) -> Pipeline:
    batches = batches if batches is not None else MemoryBatches()
    return Pipeline(PipelineConfig.from_settings(settings, str(settings.kafka_bootstrap), **config), conn,
                    catalog or MemoryCatalog([FRACTIONS]), batches, on_metadata_event=batches.apply)


def _topic(settings: Settings, topic: str) -> list:
    consumer = make_consumer(str(settings.kafka_bootstrap))
    try:
        return list(read_to_end(consumer, topic_partitions(consumer, topic)))
    finally:
        consumer.close()


def _env(settings: Settings) -> dict[str, str]:
    return {"LPA_KAFKA_BOOTSTRAP": str(settings.kafka_bootstrap), "LPA_RAW_TOPIC": settings.raw_topic,
            "LPA_ENRICHED_TOPIC": settings.enriched_topic, "LPA_DEADLETTER_TOPIC": settings.deadletter_topic,
            "LPA_CONSUMER_GROUP": settings.consumer_group, "LPA_DATA_DIR": str(settings.data_dir)}


def test_events_are_stored_enriched_and_bad_ones_dead_lettered(lpa_settings: Settings) -> None:
    conn = open_duckdb(":memory:")
    good = [ev.batch_event(), ev.enrolment(), ev.content_state(contents=[("do_leaf_1", 2), ("do_leaf_3", 1)]),
            ev.content_state(contents=[]), ev.assessment()]
    bad = [b"{not json", ev.line(ev.content_state(course="do_missing")), ev.line(ev.enrolment(batch="b_none"))]
    _publish(lpa_settings, [ev.line(e) for e in good] + bad + [ev.line(good[2])])
    stats = _pipeline(lpa_settings, conn, publish_enriched=True).run_until_idle()

    assert (stats.stored, stats.duplicates, stats.deadlettered) == (5, 1, 3)
    leaf3 = conn.execute("SELECT unit_ids, is_leaf, is_optional, program_id, course_id FROM enriched_events "
                         "WHERE content_id = 'do_leaf_3'").fetchone()
    assert leaf3 == (["do_unit_2"], 1, 1, "prog_9", "do_course_1")
    assert conn.execute("SELECT count(*) FROM content_state").fetchone() == (2,)
    assert conn.execute("SELECT first_ets, last_ets, program_id FROM course_activity").fetchone() == (
        1732500000000, 1732500000000, "prog_9")
    assert sorted(conn.execute("SELECT reason FROM deadletters").fetchall()) == [
        ("not_json",), ("unknown_batch",), ("unknown_course",)]

    enriched = _topic(lpa_settings, lpa_settings.enriched_topic)
    assert {json.loads(r.value)["row_id"] for r in enriched} == {
        r[0] for r in conn.execute("SELECT row_id FROM enriched_events").fetchall()}
    letters = _topic(lpa_settings, lpa_settings.deadletter_topic)
    assert {bytes(r.value) for r in letters} == set(bad)  # the original bytes
    assert {dict(r.headers)[H_REASON] for r in letters} == {b"not_json", b"unknown_course", b"unknown_batch"}
    assert all(H_SOURCE_OFFSET in dict(r.headers) for r in letters)


def test_restart_resumes_from_the_offsets_in_duckdb(lpa_settings: Settings, tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    _publish(lpa_settings, [ev.line(ev.content_state(ets=1000 + i, mid=f"m{i}")) for i in range(30)])
    conn = open_duckdb(db)
    first = _pipeline(lpa_settings, conn, publish_enriched=False)
    first.run_until_idle()
    first.close()
    conn.close()
    _publish(lpa_settings, [ev.line(ev.content_state(ets=5000 + i, mid=f"n{i}")) for i in range(5)])
    conn = open_duckdb(db)
    second = _pipeline(lpa_settings, conn, publish_enriched=False)
    stats = second.run_until_idle()
    second.close()
    assert stats.messages == 5
    assert conn.execute("SELECT count(*) FROM raw_log").fetchone() == (35,)


def test_offsets_of_another_broker_are_not_applied(lpa_settings: Settings) -> None:
    conn = open_duckdb(":memory:")
    conn.execute("INSERT INTO pipeline_offsets VALUES (?, 0, 999), (?, 1, 999)",
                 [f"{lpa_settings.raw_topic}@an-old-broker"] * 2)
    _publish(lpa_settings, [ev.line(ev.content_state())])
    assert _pipeline(lpa_settings, conn).run_until_idle().stored == 1


def test_batch_created_earlier_in_the_same_poll_is_known_to_enrolments(lpa_settings: Settings) -> None:
    seen: list[PlatformEvent] = []
    batches = MemoryBatches()

    def remember(event: PlatformEvent) -> None:
        seen.append(event)
        batches.apply(event)

    _publish(lpa_settings, [ev.line(ev.batch_event("b_9")), ev.line(ev.enrolment(batch="b_9"))])
    conn = open_duckdb(":memory:")
    pipeline = Pipeline(PipelineConfig.from_settings(lpa_settings, str(lpa_settings.kafka_bootstrap)), conn,
                        MemoryCatalog([FRACTIONS]), batches, on_metadata_event=remember)
    assert pipeline.run_until_idle().stored == 2
    assert [e.eid for e in seen] == ["LPA_BATCH", "LPA_ENROLMENT"]


def test_failing_metadata_callback_stops_without_committing(lpa_settings: Settings) -> None:
    def broken(event: PlatformEvent) -> None:
        raise ConnectionError("metadata store down")

    _publish(lpa_settings, [ev.line(ev.content_state()), ev.line(ev.batch_event())])
    conn = open_duckdb(":memory:")
    pipeline = Pipeline(PipelineConfig.from_settings(lpa_settings, str(lpa_settings.kafka_bootstrap),
                                                     metadata_retries=2),
                        conn, MemoryCatalog([FRACTIONS]), MemoryBatches(), on_metadata_event=broken)
    with pytest.raises(PipelineError, match="metadata store down"):
        pipeline.run_until_idle()
    pipeline.close()
    assert conn.execute("SELECT count(*) FROM raw_log").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM pipeline_offsets").fetchone() == (0,)


@pytest.fixture
def running(lpa_settings: Settings) -> Iterator[tuple[Pipeline, MemoryCatalog, duckdb.DuckDBPyConnection]]:
    """A pipeline running in a thread, as `lpa up` runs it."""
    conn = open_duckdb(":memory:")
    catalog = MemoryCatalog([FRACTIONS])
    pipeline = _pipeline(lpa_settings, conn.cursor(), catalog)
    stop = threading.Event()
    thread = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
    thread.start()
    assert pipeline.ready.wait(30)
    yield pipeline, catalog, conn
    stop.set()
    thread.join(30)


def test_ingest_wait_counts_and_names_bad_lines(running: tuple, lpa_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [ev.line(ev.batch_event()), ev.line(ev.content_state()), b"", b"{oops",
             ev.line(ev.content_state(course="do_missing")), ev.line(ev.content_state()), b"   "]
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(main, ["ingest", str(path), "--wait", "--timeout", "60"], env=_env(lpa_settings))
    assert result.exit_code == 0, result.output
    assert "published 5 event(s), 2 blank line(s) skipped" in result.output
    assert re.search(r"stored \(new or already stored\)\s+3\n", result.output)
    assert re.search(r"of which repeat an earlier line of the file\s+1\n", result.output)
    assert re.search(r"dead-lettered\s+2\n", result.output)
    assert f"{path}:4: not_json: " in result.output
    assert f"{path}:5: unknown_course: course 'do_missing' is not in the catalog" in result.output
    assert running[2].execute("SELECT count(*) FROM raw_log").fetchone() == (5,)


def test_ingest_of_a_missing_file_names_it(lpa_settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "nope.jsonl")], env=_env(lpa_settings))
    assert result.exit_code != 0
    assert "nope.jsonl: no such file" in result.output


def test_deadletter_replay_after_loading_the_missing_course(running: tuple, lpa_settings: Settings,
                                                            tmp_path: Path) -> None:
    pipeline, catalog, conn = running
    path = tmp_path / "events.jsonl"
    path.write_bytes(ev.line(ev.content_state(course="do_later")) + b"\n{bad\n")
    env = _env(lpa_settings)
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(path), "--wait"], env=env).exit_code == 0

    listed = runner.invoke(main, ["deadletter", "list", "--json"], env=env)
    letters = [json.loads(line) for line in listed.output.splitlines()]
    assert sorted(x["reason"] for x in letters) == ["not_json", "unknown_course"]
    table = runner.invoke(main, ["deadletter", "list", "--reason", "unknown_course"], env=env).output
    assert "unknown_course" in table and "not_json" not in table

    catalog.add(simple_course("do_later", {"u1": ["do_leaf_1"]}))
    replayed = runner.invoke(main, ["deadletter", "replay", "--reason", "unknown_course"], env=env)
    assert replayed.exit_code == 0, replayed.output
    again = runner.invoke(main, ["deadletter", "replay", "--reason", "unknown_course"], env=env)
    assert again.exit_code != 0 and "no pending dead letter" in again.output
    bad_id = next(x["id"] for x in letters if x["reason"] == "not_json")[:8]
    assert runner.invoke(main, ["deadletter", "replay", "--id", bad_id], env=env).exit_code == 0

    _wait_for(lambda: conn.execute("SELECT count(*) FROM raw_log").fetchone()[0] == 4)
    assert conn.execute("SELECT count(*) FROM enriched_events WHERE course_id = 'do_later'").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM deadletters WHERE replayed_at IS NOT NULL").fetchone() == (2,)
    after = [json.loads(x) for x in runner.invoke(main, ["deadletter", "list", "--json"], env=env).output.splitlines()]
    assert sorted((x["reason"], x["replayed"]) for x in after) == [
        ("not_json", False), ("not_json", True), ("unknown_course", True)]  # still bad: dead-lettered again


def test_replay_needs_exactly_one_selector(lpa_settings: Settings) -> None:
    result = CliRunner().invoke(main, ["deadletter", "replay"], env=_env(lpa_settings))
    assert result.exit_code == 2 and "exactly one of --id, --reason or --all" in result.output


def _wait_for(condition: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_a_batch_whose_records_were_not_delivered_is_not_committed(lpa_settings: Settings,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    conn = open_duckdb(":memory:")
    _publish(lpa_settings, [ev.line(ev.content_state(contents=[("do_leaf_1", 2)])), b"{not json"])

    def undelivered(self: TopicPublisher, timeout_s: float = 60.0) -> None:
        raise PublishError("0 record(s) still queued after 60 s and 1 failed, e.g. lpa.deadletter: broker down")

    with monkeypatch.context() as patched:
        patched.setattr(TopicPublisher, "flush", undelivered)
        failing = _pipeline(lpa_settings, conn)
        with pytest.raises(PublishError):
            failing.process_available(timeout_ms=5000)
        failing.close()
    for table in ("raw_log", "enriched_events", "deadletters", "pipeline_offsets"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table  # noqa: S608
    stats = _pipeline(lpa_settings, conn).run_until_idle()  # the next start publishes and stores them once
    assert (stats.stored, stats.deadlettered) == (1, 1)
    assert conn.execute("SELECT count(*) FROM raw_log").fetchone() == (2,)
