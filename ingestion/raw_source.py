"""The pipeline's reader of the raw topic: confluent-kafka (librdkafka), positioned by the offsets in DuckDB.

Why not kafka-python here (it stays for `lpa ingest` and the dead-letter tools; the pipeline publishes with
ingestion/topic_publisher.py): kafka-python parses every fetched record in Python, ~7 us per message under
the GIL that the pipeline's enriching thread and the DuckDB writer's calls share. librdkafka fetches and
parses in its own C threads and prefetches while the pipeline works, so a message costs the pipeline's
Python a few C calls. Measured on the embedded broker: a bare librdkafka consumer reads ~0.8 M messages/s
where kafka-python reads ~0.1 M.

What the pipeline relies on, and how it is kept:
- offsets: partitions are assigned manually at the offsets stored with the rows (no group join, no
  auto-commit, no offset store); the group's offsets are written only after a DuckDB commit, for
  `lpa ingest --wait`;
- a lost log (a memory-only broker restarted) must be seen: the broker's cluster id (`cluster_id`) and the
  log end of each partition from the latest fetch answers (`highwater`, no network). The cluster id is asked
  through a second, unassigned client: on the reading client's connection a metadata request waits behind
  the fetch (up to fetch.wait.max.ms, ~100 ms on Tansu), on an idle one it takes ~0.4 ms, so the pipeline
  can ask it after every poll that returned messages;
- the group offsets are committed asynchronously: they are advisory (a later commit replaces an earlier
  one), and a synchronous commit blocks for the session timeout (45 s) while no coordinator answers;
- `poll` returns what librdkafka has queued at once (up to `max_records`), and blocks only while nothing is
  queued: librdkafka's batch consume waits for the full count until its timeout.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, TopicPartition

log = logging.getLogger(__name__)


class RawSourceError(RuntimeError):
    """librdkafka reported an error it will not recover from by itself (a fatal client error)."""


# Reported for assigned partitions while the broker does not know the topic (a restarted memory broker before
# the topics are created again, a cluster member behind on metadata): librdkafka retries, and a log that comes
# back shorter or under another cluster id is caught by the pipeline's checks.
_TRANSIENT_TOPIC_ERRORS = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION,
                                     KafkaError._UNKNOWN_TOPIC})


class RawSource:
    """One topic's partitions, read from given offsets. Not thread-safe: the pipeline's polling thread owns it."""

    def __init__(self, bootstrap: str, topic: str, *, group_id: str, client_id: str = "lpa-pipeline") -> None:
        self.topic = topic
        self._fatal: KafkaError | None = None
        self._consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group_id, "client.id": client_id,
            "enable.auto.commit": False, "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
            # Large fetches: per-request overhead dominates small JSON events. Prefetching is bounded by
            # queued.max.messages.kbytes (librdkafka's default, 64 MB).
            "fetch.max.bytes": 64 * 1024 * 1024, "max.partition.fetch.bytes": 16 * 1024 * 1024,
            "receive.message.max.bytes": 64 * 1024 * 1024 + 1024 * 1024, "fetch.wait.max.ms": 100,
            "socket.timeout.ms": 30000, "error_cb": self._on_error, "on_commit": self._on_commit,
        }, logger=logging.getLogger("ingestion.librdkafka"))
        # Never assigned: its connection is idle, so a metadata request is answered at once.
        self._metadata = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id,
                                   "client.id": f"{client_id}-metadata", "enable.auto.commit": False},
                                  logger=logging.getLogger("ingestion.librdkafka"))

    def _on_error(self, error: KafkaError) -> None:
        # Transport errors (broker down, connection cut) are retried by librdkafka itself: logged only.
        if error.fatal():
            self._fatal = error
        log.warning("kafka client: %s", error.str())

    def _on_commit(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        failed = [f"{tp.partition}: {tp.error.str()}" for tp in partitions or () if tp.error is not None]
        if error is not None or failed:
            log.warning("could not commit offsets to Kafka group (only `lpa ingest --wait` reads them): %s",
                        error.str() if error is not None else ", ".join(failed))

    def partitions(self, timeout_s: float = 10.0) -> list[int]:
        """The topic's partitions (waiting briefly for the metadata of a topic that was just created)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                metadata = self._consumer.list_topics(self.topic, timeout=min(5.0, timeout_s))
                found = metadata.topics.get(self.topic)
                if found is not None and found.error is None and found.partitions:
                    return sorted(found.partitions)
            except KafkaException as error:
                log.debug("metadata of %s not available yet: %s", self.topic, error)
            if time.monotonic() > deadline:
                raise LookupError(f"topic {self.topic!r} does not exist on the broker")
            time.sleep(0.1)

    def cluster_id(self, timeout_s: float = 2.0) -> str | None:
        """The broker's cluster id, asked now (a metadata request on the idle client); None when the broker
        does not answer."""
        try:
            value = self._metadata.list_topics(self.topic, timeout=timeout_s).cluster_id
        except KafkaException:
            return None
        return str(value) if value else None

    def assign(self, offsets: dict[int, int | None]) -> None:
        """Reads each partition from its offset (None: from the beginning)."""
        self._consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING if o is None else o)
                               for p, o in sorted(offsets.items())])

    def poll(self, timeout_ms: int, max_records: int) -> dict[int, list[Message]]:
        """Up to `max_records` messages per call, grouped by partition in offset order; waits up to `timeout_ms`
        only while none is queued. Error events (not records) are logged, or raised when fatal."""
        consumer = self._consumer
        messages = consumer.consume(max_records, 0)
        if not messages:
            first = consumer.poll(timeout_ms / 1000)
            if first is None:
                self._raise_fatal()
                return {}
            messages = [first, *consumer.consume(max_records - 1, 0)] if max_records > 1 else [first]
        by_partition: dict[int, list[Message]] = {}
        for message in messages:
            if message.error() is not None:
                self._on_message_error(message)
                continue
            partition = message.partition()
            records = by_partition.get(partition)
            if records is None:
                by_partition[partition] = records = []
            records.append(message)
        self._raise_fatal()
        return by_partition

    def _on_message_error(self, message: Message) -> None:
        error = message.error()
        assert error is not None
        if error.fatal():
            raise RawSourceError(f"reading {self.topic}/{message.partition()}: {error.str()}")
        transient = " (retried)" if error.code() in _TRANSIENT_TOPIC_ERRORS else ""
        log.warning("kafka client on %s/%s: %s%s", self.topic, message.partition(), error.str(), transient)

    def _raise_fatal(self) -> None:
        if self._fatal is not None:
            raise RawSourceError(f"the Kafka client stopped: {self._fatal.str()}")

    def highwater(self, partition: int) -> int | None:
        """The partition's log end as the latest fetch answer gave it (no network); None before any answer."""
        try:
            _low, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, partition), cached=True)
        except KafkaException:
            return None
        return None if high is None or high < 0 else int(high)

    def commit(self, offsets: dict[int, int]) -> None:
        """Queues a commit of the group's offsets; its outcome is logged when it fails (`_on_commit`)."""
        self._consumer.commit(offsets=[TopicPartition(self.topic, p, o) for p, o in offsets.items()],
                              asynchronous=True)

    def close(self, timeout_s: float = 10.0) -> None:
        """Closes both clients. librdkafka's close can hang while no broker answers (confluentinc/librdkafka
        #3740): it runs in a daemon thread, waited for `timeout_s`, so a shutdown is never stuck on it."""
        def close_all() -> None:
            self._consumer.close()
            self._metadata.close()

        closer = threading.Thread(target=close_all, name="lpa-kafka-close", daemon=True)
        closer.start()
        closer.join(timeout_s)
        if closer.is_alive():
            log.warning("the Kafka reader did not close within %.0f s (no broker answers?); left behind", timeout_s)
