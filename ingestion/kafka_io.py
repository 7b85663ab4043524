"""kafka-python clients with the settings this project relies on, and small helpers around them: for
`lpa ingest` (publish, then watch the pipeline's group offsets), `lpa deadletter` (read, replay), the topic
set-up and the benchmark's bare consumer. The pipeline itself reads and publishes with librdkafka
(ingestion/raw_source.py, ingestion/topic_publisher.py), with the same choices.

Why these settings (kafka-python 2.x against Tansu or a real cluster):
- consumers never auto-commit and are assigned partitions manually (no group join: it takes ~5 s on Tansu);
  a group id only names whose committed offsets to read;
- big fetches (max_poll_records, fetch sizes): per-request overhead dominates small JSON events;
- producers use acks="all", with one request in flight (a partition's order survives a retry).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

MAX_POLL_RECORDS = 5000


def make_producer(bootstrap: str, *, client_id: str = "lpa", linger_ms: int = 10) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap, client_id=client_id, acks="all", linger_ms=linger_ms,
        batch_size=512 * 1024, max_request_size=4 * 1024 * 1024,
        retries=10, max_in_flight_requests_per_connection=1,  # keeps a partition's order across retries
    )


def make_consumer(bootstrap: str, *, group_id: str | None = None, client_id: str = "lpa") -> KafkaConsumer:
    """An unsubscribed consumer for manual assign(); group_id only names where offsets get committed."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap, client_id=client_id, group_id=group_id, enable_auto_commit=False,
        auto_offset_reset="earliest", max_poll_records=MAX_POLL_RECORDS,
        fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_min_bytes=1, fetch_max_wait_ms=100, receive_buffer_bytes=4 * 1024 * 1024,
        # A fetch answer is one network frame: allow it to be as large as the fetch we ask for (default 1 MB).
        receive_message_max_bytes=64 * 1024 * 1024 + 1024 * 1024,
        request_timeout_ms=30000, api_version_auto_timeout_ms=5000,
    )


def topic_partitions(consumer: KafkaConsumer, topic: str, timeout_s: float = 10.0) -> list[TopicPartition]:
    """All partitions of a topic (waiting briefly for metadata of a topic that was just created)."""
    deadline = time.monotonic() + timeout_s
    while True:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return [TopicPartition(topic, p) for p in sorted(partitions)]
        if time.monotonic() > deadline:
            raise LookupError(f"topic {topic!r} does not exist on the broker")
        time.sleep(0.1)


def read_to_end(consumer: KafkaConsumer, partitions: Sequence[TopicPartition],
                start: dict[TopicPartition, int] | None = None, idle_polls: int = 2,
                poll_ms: int = 300) -> Iterator[ConsumerRecord]:
    """Every record of the partitions from `start` (default: the beginning) to their current end.

    The end is judged from the fetch responses' high watermark and a few empty polls, not from
    ListOffsets: Tansu 0.6 answers ListOffsets(latest) with the last batch's base offset + 1."""
    consumer.assign(list(partitions))
    for tp in partitions:
        if start and tp in start:
            consumer.seek(tp, start[tp])
        else:
            consumer.seek_to_beginning(tp)
    empty = 0
    while empty < idle_polls:
        batch = consumer.poll(timeout_ms=poll_ms)
        if not batch:
            empty += 1
            continue
        empty = 0
        for tp in partitions:
            yield from batch.get(tp, ())
        if all((hw := consumer.highwater(tp)) is not None and consumer.position(tp) >= hw for tp in partitions):
            return
