"""Bad input is 100% accounted for: every malformed message of the corpus (tests/fixtures/bad_events.py) gets
exactly one dead letter, with the expected reason, in the dead-letter topic and in DuckDB; `lpa ingest`
names every bad line of a file, including the line the producer refuses (too large to publish)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from kafka import KafkaProducer

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.kafka_io import make_consumer, make_producer, read_to_end, topic_partitions
from ingestion.pipeline import (
    H_DL_ID,
    H_KIND,
    H_REASON,
    H_SOURCE_OFFSET,
    H_SOURCE_PARTITION,
    KIND_DEADLETTER,
    Pipeline,
    PipelineConfig,
)
from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.cli import main
from lpa.settings import Settings
from tests.fixtures import bad_events
from tests.fixtures.courses import FRACTIONS

pytestmark = pytest.mark.integration

Coords = tuple[int, int]


def _pipeline(settings: Settings, db: Path) -> Pipeline:
    config = PipelineConfig.from_settings(settings, str(settings.kafka_bootstrap))
    batches = MemoryBatches()
    return Pipeline(config, open_duckdb(db).cursor(), MemoryCatalog([FRACTIONS]), batches,
                    on_metadata_event=batches.apply)


def _send(producer: KafkaProducer, topic: str, raw: bytes | None, key: bytes | None = None) -> Coords:
    meta = producer.send(topic, key=key, value=raw).get(timeout=30)
    return meta.partition, meta.offset


def _letters_in_topic(settings: Settings) -> list[tuple[Coords, str, str]]:
    """(source coordinates, reason, letter id) of every dead-letter record in the topic, repeats included."""
    consumer = make_consumer(str(settings.kafka_bootstrap), client_id="test-corpus")
    try:
        found = []
        for record in read_to_end(consumer, topic_partitions(consumer, settings.deadletter_topic)):
            headers = {k: bytes(v).decode() for k, v in record.headers or () if v is not None}
            if headers.get(H_KIND) == KIND_DEADLETTER.decode():
                found.append(((int(headers[H_SOURCE_PARTITION]), int(headers[H_SOURCE_OFFSET])),
                              headers[H_REASON], headers[H_DL_ID]))
        return found
    finally:
        consumer.close()


def test_every_bad_message_is_dead_lettered_exactly_once_with_its_reason(lpa_settings: Settings,
                                                                           tmp_path: Path) -> None:
    db = tmp_path / "analytics.duckdb"
    pipeline = _pipeline(lpa_settings, db)
    producer = make_producer(str(lpa_settings.kafka_bootstrap))
    topic = lpa_settings.raw_topic
    key = bad_events.KNOWN_BATCH.encode()
    for raw in bad_events.setup_events():
        _send(producer, topic, raw, key)
    pipeline.run_until_idle()  # the known batch exists before the events that name it

    cases = bad_events.corpus(lpa_settings.max_event_bytes)
    valid = bad_events.valid_events()
    expected: dict[Coords, tuple[str, bytes]] = {}
    stored: list[Coords] = []
    for i, case in enumerate(cases):
        expected[_send(producer, topic, case.raw)] = (case.reason, case.raw)
        if i % 15 == 0:
            stored.append(_send(producer, topic, valid[(i // 15) % len(valid)], key))
    expected[_send(producer, topic, None, b"a-tombstone")] = ("not_json", b"")  # a null value (tombstone)
    producer.close()
    stats = pipeline.run_until_idle()
    pipeline.close()

    topic_letters = _letters_in_topic(lpa_settings)
    per_message = Counter(coords for coords, _, _ in topic_letters)
    assert {c: n for c, n in per_message.items() if n != 1} == {}, "a message got more than one letter"
    assert {coords: reason for coords, reason, _ in topic_letters} == {c: r for c, (r, _) in expected.items()}

    conn = open_duckdb(db)
    in_store = {(p, o): (reason, bytes(raw)) for p, o, reason, raw in
                conn.execute('SELECT partition, "offset", reason, raw FROM deadletters').fetchall()}
    assert in_store == expected  # reason and the original bytes, huge ones included
    assert {dl_id for _, _, dl_id in topic_letters} == {
        row[0] for row in conn.execute("SELECT dl_id FROM deadletters").fetchall()}
    outcomes = dict(((p, o), outcome) for p, o, outcome in
                    conn.execute('SELECT partition, "offset", outcome FROM raw_log').fetchall())
    assert len(outcomes) == len(expected) + len(stored) + len(bad_events.setup_events())
    assert all(outcomes[c] == "deadlettered" for c in expected)
    assert Counter(outcomes[c] for c in stored) == {"stored": len(set(valid[(i // 15) % len(valid)] for i in
                                                                       range(0, len(cases), 15))),
                                                    "duplicate": len(stored) - min(len(stored), len(valid))}
    assert stats.deadlettered == len(expected)
    assert sum(stats.reasons.values()) == len(expected)
    assert Counter(r for r, _ in expected.values()).keys() == {
        "not_json", "bad_encoding", "not_an_object", "unknown_eid", "invalid_field", "unknown_course",
        "unknown_batch", "too_large"}


def test_lpa_ingest_names_every_bad_line_of_a_file(lpa_settings: Settings, tmp_path: Path) -> None:
    lines: list[bytes] = list(bad_events.setup_events())
    reasons: dict[int, str] = {}
    valid = bad_events.valid_events()
    for i, case in enumerate(c for c in bad_events.corpus(lpa_settings.max_event_bytes) if c.in_file):
        lines.append(case.raw)
        if case.raw.strip():  # a whitespace-only line is a blank line to `lpa ingest`: skipped and counted
            reasons[len(lines)] = case.reason
        if i % 10 == 0:
            lines.append(valid[(i // 10) % len(valid)])
            lines.append(b"")  # blank lines are skipped, and counted
    lines.append(bad_events.over_producer_limit())
    refused_line = len(lines)
    lines.append(valid[0])
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    blank = sum(1 for raw in lines if not raw.strip())

    pipeline = _pipeline(lpa_settings, tmp_path / "analytics.duckdb")
    stop = threading.Event()
    thread = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
    thread.start()
    env = {"LPA_KAFKA_BOOTSTRAP": str(lpa_settings.kafka_bootstrap), "LPA_RAW_TOPIC": lpa_settings.raw_topic,
           "LPA_DEADLETTER_TOPIC": lpa_settings.deadletter_topic, "LPA_CONSUMER_GROUP": lpa_settings.consumer_group,
           "LPA_DATA_DIR": str(lpa_settings.data_dir), "LPA_LOG_FORMAT": "text"}
    try:
        result = CliRunner().invoke(main, ["ingest", str(path), "--wait", "--timeout", "120"], env=env)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    named = {int(m.group(1)): m.group(2)
             for m in re.finditer(rf"^{re.escape(str(path))}:(\d+): (\w+): ", result.output, re.MULTILINE)}
    assert named == reasons | {refused_line: "too_large"}
    published = len(lines) - blank - 1
    assert f"published {published} event(s), {blank} blank line(s) skipped" in result.output
    assert re.search(rf"^dead-lettered\s+{len(reasons)}$", result.output, re.MULTILINE), result.output
    assert re.search(rf"^stored \(new or already stored\)\s+{published - len(reasons)}$", result.output,
                     re.MULTILINE), result.output
