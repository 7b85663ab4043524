"""The pipeline's producer for lpa.enriched and lpa.deadletter: confluent-kafka (librdkafka).

Every record the pipeline publishes must be on its topic before the DuckDB commit that depends on it (a crash
after the commit must not have lost it), so `flush` waits for every delivery report and raises when one
failed: the batch is then not committed, and a restart publishes it again (at-least-once; consumers
de-duplicate by row_id / dl_id). kafka-python's `send` cost ~100-140 us per record here (Python framing and
its accumulator under the GIL the pipeline shares); librdkafka's `produce` queues a record in C in ~1-2 us.
Settings as `ingestion.kafka_io.make_producer`: acks=all, retries with one request in flight per connection
(a partition's order survives a retry).
"""

from __future__ import annotations

import logging
import time

from confluent_kafka import KafkaError, Message, Producer

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """Records were not delivered: the batch that produced them must not be committed."""


class TopicPublisher:
    """Queues records and confirms their delivery. Not thread-safe: the pipeline's polling thread owns it."""

    def __init__(self, bootstrap: str, *, client_id: str = "lpa-pipeline", delivery_timeout_s: float = 55.0) -> None:
        # A record not delivered within delivery_timeout_s fails with librdkafka's reason, which `flush` (60 s
        # by default: longer) then reports; a record still queued at the end of `flush` says less.
        self.delivery_timeout_s = delivery_timeout_s
        self._producer = Producer({
            "bootstrap.servers": bootstrap, "client.id": client_id, "acks": "all", "linger.ms": 10,
            "message.timeout.ms": int(delivery_timeout_s * 1000),
            "retries": 10, "max.in.flight.requests.per.connection": 1,
            "batch.size": 1024 * 1024, "message.max.bytes": 4 * 1024 * 1024,
            "queue.buffering.max.messages": 1_000_000, "queue.buffering.max.kbytes": 1024 * 1024,
        }, logger=logging.getLogger("ingestion.librdkafka"))
        self._failed: list[str] = []

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failed.append(f"{message.topic()}: {error.str()}")

    def send(self, topic: str, value: bytes, key: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> None:
        deadline = time.monotonic() + self.delivery_timeout_s
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, headers=headers, on_delivery=self._on_delivery)
                return
            except BufferError:  # the local queue is full: let librdkafka deliver some, then queue again
                if time.monotonic() > deadline:
                    raise PublishError(f"the producer's queue stayed full for {self.delivery_timeout_s:.0f} s "
                                       f"(is the broker reachable?)") from None
                self._producer.poll(0.1)

    def flush(self, timeout_s: float = 60.0) -> None:
        """Waits until every queued record is delivered; raises PublishError if any was not."""
        left = self._producer.flush(timeout_s)
        failed, self._failed = self._failed, []
        if left or failed:
            raise PublishError(f"{left} record(s) still queued after {timeout_s:.0f} s and {len(failed)} failed"
                               + (f", e.g. {failed[0]}" if failed else ""))

    def close(self, timeout_s: float = 5.0) -> None:
        left = self._producer.flush(timeout_s)
        if left:
            log.warning("closing the producer with %s record(s) undelivered (their batch was not committed)", left)
