"""The pipeline's librdkafka clients against the embedded broker: the raw-topic reader keeps the offsets it
is given and reports the log end, and the publisher confirms delivery or says what it could not deliver
(the batch that produced the records must then not be committed)."""

from __future__ import annotations

import socket
import time

import pytest
from confluent_kafka import Message
from kafka import TopicPartition

from ingestion.broker import EmbeddedBroker, ensure_topics
from ingestion.kafka_io import make_consumer, make_producer
from ingestion.raw_source import RawSource
from ingestion.topic_publisher import PublishError, TopicPublisher
from lpa.settings import load_settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def broker() -> EmbeddedBroker:
    with EmbeddedBroker() as running:
        ensure_topics(running.bootstrap, load_settings(raw_topic="clients.raw", enriched_topic="clients.out",
                                                       deadletter_topic="clients.dead"), partitions=2)
        yield running


def _read_all(source: RawSource, expected: int) -> list[Message]:
    """What `source.poll` returns until `expected` messages came (or 30 s passed), each under its partition."""
    seen: list[Message] = []
    deadline = time.monotonic() + 30
    while len(seen) < expected and time.monotonic() < deadline:
        for partition, records in source.poll(500, 1000).items():
            assert all(r.partition() == partition for r in records)
            seen.extend(records)
    return seen


def test_the_reader_starts_at_the_offsets_given_and_knows_the_log_end(broker: EmbeddedBroker) -> None:
    producer = make_producer(broker.bootstrap)
    for i in range(30):
        producer.send("clients.raw", value=f"m{i}".encode(), partition=i % 2)
    producer.flush()
    producer.close()
    source = RawSource(broker.bootstrap, "clients.raw", group_id="clients-test")
    try:
        assert source.partitions() == [0, 1]
        assert source.cluster_id()
        source.assign({0: 10, 1: None})
        seen = [(r.partition(), r.offset(), r.value()) for r in _read_all(source, 20)]
        assert sorted(o for p, o, _ in seen if p == 0) == list(range(10, 15))
        assert sorted(o for p, o, _ in seen if p == 1) == list(range(15))
        assert source.highwater(0) == 15 and source.highwater(1) == 15
        source.commit({0: 15, 1: 12})  # the group offsets `lpa ingest --wait` reads (committed asynchronously)
        watcher = make_consumer(broker.bootstrap, group_id="clients-test")
        try:
            deadline = time.monotonic() + 20
            committed: tuple[int | None, int | None] = (None, None)
            while committed != (15, 12) and time.monotonic() < deadline:
                source.poll(100, 10)  # serves the commit's callback
                committed = (watcher.committed(TopicPartition("clients.raw", 0)),
                             watcher.committed(TopicPartition("clients.raw", 1)))
            assert committed == (15, 12)
        finally:
            watcher.close()
    finally:
        source.close()


def test_a_missing_topic_is_a_clear_error(broker: EmbeddedBroker) -> None:
    source = RawSource(broker.bootstrap, "clients.nowhere", group_id="clients-test")
    try:
        with pytest.raises(LookupError, match="clients.nowhere"):
            source.partitions(timeout_s=1.0)
    finally:
        source.close()


def test_the_publisher_delivers_with_headers(broker: EmbeddedBroker) -> None:
    publisher = TopicPublisher(broker.bootstrap)
    for i in range(100):
        publisher.send("clients.out", f"v{i}".encode(), key=b"k", headers=[("lpa.kind", b"deadletter")])
    publisher.flush()
    publisher.close()
    source = RawSource(broker.bootstrap, "clients.out", group_id="clients-test")
    try:
        source.assign(dict.fromkeys(source.partitions()))
        seen = [(r.value(), r.headers()) for r in _read_all(source, 100)]
        assert sorted(v for v, _ in seen) == sorted(f"v{i}".encode() for i in range(100))
        assert all(h == [("lpa.kind", b"deadletter")] for _, h in seen)
    finally:
        source.close()


def test_records_still_queued_make_flush_raise() -> None:
    publisher = TopicPublisher(f"127.0.0.1:{_closed_port()}")
    publisher.send("clients.out", b"lost?")
    with pytest.raises(PublishError, match="1 record.s. still queued"):
        publisher.flush(timeout_s=1.0)


def test_failed_deliveries_make_flush_raise_with_the_reason() -> None:
    publisher = TopicPublisher(f"127.0.0.1:{_closed_port()}", delivery_timeout_s=0.5)
    publisher.send("clients.out", b"lost?")
    publisher.send("clients.out", b"lost too?")
    with pytest.raises(PublishError, match=r"0 record\(s\) still queued .* and 2 failed, e.g. clients.out: "):
        publisher.flush(timeout_s=10.0)
    publisher.flush(timeout_s=1.0)  # reported once: nothing left afterwards
