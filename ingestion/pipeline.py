"""The event pipeline: lpa.raw -> validate -> enrich -> DuckDB (+ lpa.enriched, lpa.deadletter).

One loop per process (the embedded DuckDB store has one writer). Each poll batch is handled in order:

1. every message is decoded, validated and enriched; a rejected one becomes a dead letter (original bytes,
   reason, detail). LPA_BATCH / LPA_ENROLMENT events go to `on_metadata_event` right away, in order, so a
   batch created earlier in the same poll is known to the enrolments after it;
2. enriched rows (optional) and dead letters are produced to their topics and flushed;
3. one DuckDB transaction stores the rows, materialisations, outcomes, dead letters and the next offsets;
4. the same offsets are committed to the Kafka consumer group (only read by `lpa ingest --wait`).

A crash between 2 and 3 re-produces to the topics on restart (at-least-once there: consumers de-duplicate by
row_id / dl_id, and the progress rules are max() over statuses and ets, so a repeat changes nothing); a crash
between 3 and 4 is repaired by committing the DuckDB offsets to Kafka at the next start. DuckDB is the source
of truth for where to resume.

Offsets are stored per *source* `"<topic>@<cluster id>"`: the embedded broker keeps topics in memory and
gets a new cluster id at every start, so offsets saved against an earlier broker are never applied to a
fresh log that starts at 0 again.
"""

from __future__ import annotations

import bisect
import gc
import logging
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import orjson
from confluent_kafka import Message

from ingestion.enrich import EVENT_NAMESPACE, BatchLookup, CatalogLookup, enrich, event_id_for
from ingestion.events import BatchEvent, EnrolmentEvent, EventRejected, PlatformEvent, decode_event, validate_event
from ingestion.fast_enrich import content_state_message, content_state_rows
from ingestion.raw_source import RawSource
from ingestion.schema import COLUMNS
from ingestion.sinks.duckdb_sink import DeadLetter, DuckDBSink, SinkBatch, SinkResult
from ingestion.topic_publisher import TopicPublisher
from lpa.settings import Settings

log = logging.getLogger(__name__)

MetadataCallback = Callable[[PlatformEvent], None]

# Header names on lpa.deadletter records and on replayed lpa.raw records (documented in docs/events.md).
H_KIND = "lpa.kind"
H_DL_ID = "lpa.dl_id"
H_REASON = "lpa.reason"
H_DETAIL = "lpa.detail"
H_SOURCE_TOPIC = "lpa.source_topic"
H_SOURCE_PARTITION = "lpa.source_partition"
H_SOURCE_OFFSET = "lpa.source_offset"
H_LOG_ID = "lpa.log_id"
H_AT = "lpa.at"
H_REPLAY_OF = "lpa.replay_of"
KIND_DEADLETTER = b"deadletter"
KIND_REPLAYED = b"replayed"


CLUSTER_CHECK_S = 5.0  # while idle, the broker's cluster id is confirmed this often (and after polls with messages)
CLUSTER_CONFIRM_S = 30.0  # polled messages wait this long at most for the broker to confirm its cluster id


class PipelineError(RuntimeError):
    """The pipeline cannot go on without losing events (e.g. the metadata callback keeps failing)."""


class BrokerLogLost(PipelineError):
    """The broker no longer holds the log the stored offsets refer to (e.g. a memory-only broker restarted)."""


def tune_gc_for_streaming() -> None:
    """Collect young objects every 50,000 allocations instead of 700. A poll batch keeps tens of thousands of
    row tuples alive until its commit, and the default thresholds kept re-scanning them (~15% of the
    pipeline's CPU in the ingest benchmark). Process-wide; nothing here builds reference cycles."""
    gc.set_threshold(50_000, 50, 1000)


def hand_the_gil_over_sooner(interval_s: float = 0.0001) -> None:
    """For a process that is only a pipeline. duckdb-python takes the GIL after every task of a query (to
    check for Ctrl-C): ~20 times for even a tiny statement, so each of the writer's ~20 statements per batch
    waits ~20 times for the polling thread to hand the GIL over, each time up to the switch interval. With a
    GIL-holding thread beside it the writer took 3.78 -> 5.83 s per 200 k messages at 0.5 ms, 13.9 s at the
    default 5 ms. 0.5 ms gave 5-25% over 5 ms (3 of 3 interleaved runs); 0.1 ms gave +11% over 0.5 ms (mean of
    8 interleaved pairs, 6 ahead); 0.03 ms was no better than 0.1 ms (more switching). Process-wide, so not
    applied where API threads share the process (`lpa up`)."""
    sys.setswitchinterval(interval_s)


def deadletter_id(source: str, partition: int, offset: int) -> str:
    """Stable per raw message: a redelivery after a crash gives the same id, so it is not doubled."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"deadletter/{source}/{partition}/{offset}"))


@dataclass(frozen=True)
class PipelineConfig:
    bootstrap: str
    raw_topic: str = "lpa.raw"
    enriched_topic: str = "lpa.enriched"
    deadletter_topic: str = "lpa.deadletter"
    consumer_group: str = "lpa-pipeline"
    max_event_bytes: int = 1_000_000
    publish_enriched: bool = False  # production (Druid) reads lpa.enriched; the embedded sink does not need it
    log_id: str | None = None  # None: the broker's cluster id
    poll_timeout_ms: int = 200
    max_poll_records: int = 5000
    max_batch_messages: int = 50_000  # one DuckDB transaction grows up to this while the writer is busy
    metadata_retries: int = 5

    @classmethod
    def from_settings(cls, settings: Settings, bootstrap: str, **overrides: object) -> PipelineConfig:
        values: dict[str, object] = {
            "raw_topic": settings.raw_topic, "enriched_topic": settings.enriched_topic,
            "deadletter_topic": settings.deadletter_topic, "consumer_group": settings.consumer_group,
            "max_event_bytes": settings.max_event_bytes, "publish_enriched": settings.publish_enriched}
        return cls(bootstrap=bootstrap, **(values | overrides))  # type: ignore[arg-type]


@dataclass
class PipelineStats:
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    deadlettered: int = 0
    rows: int = 0
    batches: int = 0
    last_error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    # time.monotonic(): before the first poll that returned messages, and after the latest DuckDB commit.
    # Their difference is the processing span the ingest benchmark divides by.
    first_poll_at: float | None = None
    last_commit_at: float | None = None

    def add(self, result: SinkResult, batch: SinkBatch) -> None:
        self.messages += len(batch)
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.deadlettered += result.deadlettered
        self.rows += result.rows_inserted
        self.batches += 1
        for letter in batch.deadletters.values():
            self.reasons[letter.reason] = self.reasons.get(letter.reason, 0) + 1


class Pipeline:
    """Construct, then `run(stop_event)` in a thread, or `process_available()` / `run_until_idle()` in tests.

    `conn` is the pipeline's own DuckDB connection or cursor (`open_duckdb(path).cursor()`)."""

    def __init__(self, config: PipelineConfig, conn: duckdb.DuckDBPyConnection, catalog: CatalogLookup,
                 batches: BatchLookup, on_metadata_event: MetadataCallback | None = None) -> None:
        self.config = config
        self.sink = DuckDBSink(conn)
        self.catalog = catalog
        self.batches = batches
        self.on_metadata_event = on_metadata_event
        self.stats = PipelineStats()
        self.ready = threading.Event()  # set once assigned and positioned: `/readyz` can wait on it
        self._consumer: RawSource | None = None
        self._producer: TopicPublisher | None = None
        self._partitions: list[int] = []
        self.source = ""
        self._cluster: str | None = None
        self._next: dict[int, int] = {}  # partition -> next offset expected (guards against a lost log)
        self._cluster_checked_at = 0.0
        # librdkafka fetches ahead of the polls: since when the messages of the next poll may have been fetched
        # (the assignment, then each empty poll). The ingest benchmark's span starts there, not at that poll.
        self._fetching_since = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> Pipeline:
        if self._consumer is not None:
            return self
        cfg = self.config
        consumer = RawSource(cfg.bootstrap, cfg.raw_topic, group_id=cfg.consumer_group)
        self._consumer = consumer
        self._producer = TopicPublisher(cfg.bootstrap, client_id="lpa-pipeline")
        self._partitions = consumer.partitions()
        self._cluster = consumer.cluster_id(timeout_s=10.0)
        log_id = cfg.log_id or self._cluster or "kafka"
        self.source = f"{cfg.raw_topic}@{log_id}"
        stored = self.sink.load_offsets(self.source)
        self._next = dict(stored)
        consumer.assign({p: stored.get(p) for p in self._partitions})
        self._fetching_since = self._cluster_checked_at = time.monotonic()
        # Repairs a crash between the DuckDB commit and the Kafka commit (see module docstring).
        self._commit_kafka({p: o for p, o in stored.items()})
        self.ready.set()
        log.info("pipeline started", extra={"source": self.source, "offsets": stored})
        return self

    def close(self) -> None:
        self.ready.clear()
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        if producer is not None:
            producer.close(timeout_s=5)
        if consumer is not None:
            consumer.close()

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set. Raises (after logging) when it cannot go on without losing events."""
        try:
            self.start()
            self._run_pipelined(stop)
        except Exception as error:
            self.stats.last_error = f"{type(error).__name__}: {error}"
            log.exception("pipeline stopped on an error; restart resumes from the last committed batch")
            raise
        finally:
            self.close()

    def run_until_idle(self, idle_polls: int = 2, timeout_s: float = 60.0) -> PipelineStats:
        """Process until `idle_polls` consecutive polls return nothing (tests, one-shot runs, benchmarks)."""
        self.start()
        self._run_pipelined(threading.Event(), idle_polls=idle_polls, deadline=time.monotonic() + timeout_s)
        return self.stats

    # -- one poll batch ---------------------------------------------------------------------------------------
    def process_available(self, timeout_ms: int | None = None) -> int:
        """Poll once and handle what came, in one transaction. Returns the number of messages handled."""
        batch = self._prepare(timeout_ms)
        if batch is None:
            return 0
        self._finish(batch, self.sink.write(batch))
        return len(batch)

    def _prepare(self, timeout_ms: int | None = None) -> SinkBatch | None:
        """Poll, validate, enrich, apply metadata events and publish to the topics: everything but the commit."""
        batch = SinkBatch(source=self.start().source)
        return batch if self._poll_into(batch, timeout_ms) else None

    def _poll_into(self, batch: SinkBatch, timeout_ms: int | None = None) -> int:
        """One poll's messages added to `batch` (published to the topics already); returns how many."""
        consumer = self.start()._consumer
        assert consumer is not None
        for lookup in (self.catalog, self.batches):
            # Lookups backed by the metadata store see republished courses and new batches once per poll.
            refresh = getattr(lookup, "refresh", None)
            if refresh is not None:
                refresh()
        polled_at = time.monotonic()
        polled = consumer.poll(self.config.poll_timeout_ms if timeout_ms is None else timeout_ms,
                               self.config.max_poll_records)
        self._check_log(consumer, polled)
        if not polled:
            self._fetching_since = polled_at
            return 0
        if self.stats.first_poll_at is None:
            self.stats.first_poll_at = self._fetching_since
        before = len(batch)
        for partition in sorted(polled):
            self._handle_records(polled[partition], batch)
        self._publish(batch, since=before)
        return len(batch) - before

    def _check_log(self, consumer: RawSource, polled: dict[int, list[Message]]) -> None:
        """Stop loudly when the broker's log is not the one we were reading: another cluster id, or a partition
        whose offsets went backwards (a memory-only broker restarted: the client resets to its new, empty log).
        Going on would silently skip what the lost log held, or mix two logs under one source. The cluster id
        (~0.4 ms: ingestion/raw_source.py) is confirmed after every poll that returned messages, before they
        are handled, and every CLUSTER_CHECK_S while idle."""
        now = time.monotonic()
        if polled or now - self._cluster_checked_at >= CLUSTER_CHECK_S:
            cluster = consumer.cluster_id()
            deadline = now + CLUSTER_CONFIRM_S
            while polled and cluster is None:  # messages in hand: not handled before their log is confirmed
                if time.monotonic() > deadline:
                    raise PipelineError(f"the broker did not tell its cluster id for {CLUSTER_CONFIRM_S:.0f} s: "
                                        f"cannot confirm the log the polled messages come from")
                time.sleep(0.2)
                cluster = consumer.cluster_id()
            if self._cluster and cluster and cluster != self._cluster:
                raise BrokerLogLost(f"the broker's cluster id changed from {self._cluster} to {cluster}: a "
                                    f"different or restarted broker; events not yet processed from the old one "
                                    f"are lost")
            if cluster is not None:
                self._cluster_checked_at = now
        topic = self.config.raw_topic
        for partition in self._partitions:
            expected = self._next.get(partition)
            records = polled.get(partition)
            if records:
                first = records[0].offset()
                if expected is not None and first < expected:
                    raise BrokerLogLost(f"{topic}/{partition} went back from offset {expected} to {first}: "
                                        f"the broker lost its log (a memory-only broker restarted?)")
                self._next[partition] = records[-1].offset() + 1
            elif expected is not None and not polled:
                # The log's end as the last fetch answer gave it (no network): below what we already consumed
                # means the log is shorter than it was. Tansu answers a fetch past the end with an empty batch,
                # not OFFSET_OUT_OF_RANGE, so the high watermark is the witness.
                end = consumer.highwater(partition)
                if end is not None and end < expected:
                    raise BrokerLogLost(f"{topic}/{partition}: log end went back from offset {expected} to {end}: "
                                        f"the broker lost its log (a memory-only broker restarted?)")

    def _finish(self, batch: SinkBatch, result: SinkResult) -> None:
        self.stats.add(result, batch)
        self.stats.last_commit_at = time.monotonic()
        self._commit_kafka(batch.next_offsets)

    def _run_pipelined(self, stop: threading.Event, idle_polls: int | None = None,
                       deadline: float | None = None) -> None:
        """Batch n commits in a writer thread while batch n+1 is polled and enriched here: DuckDB releases the
        GIL while it writes, so the two overlap. At most one batch is in flight; each commits with its own
        offsets, in order, so a crash still resumes exactly after the last committed batch."""
        pending: queue.Queue[SinkBatch | None] = queue.Queue()  # holds at most one batch: see in_flight
        done: queue.Queue[tuple[SinkBatch, SinkResult] | BaseException] = queue.Queue()

        def writer() -> None:
            while (batch := pending.get()) is not None:
                try:
                    done.put((batch, self.sink.write(batch)))
                except BaseException as error:  # handed to the loop, which stops loudly
                    done.put(error)
                    return

        thread = threading.Thread(target=writer, name="lpa-pipeline-writer", daemon=True)
        thread.start()
        in_flight = 0

        def collect(wait: bool) -> None:
            """Account for written batches (stats, Kafka commit); with `wait`, first wait for the one in flight."""
            nonlocal in_flight
            while in_flight:
                try:
                    item = done.get(timeout=1.0) if wait else done.get_nowait()
                except queue.Empty:
                    if wait and thread.is_alive():
                        continue
                    if wait:
                        raise PipelineError("the DuckDB writer thread died") from None
                    return
                in_flight -= 1
                wait = False
                if isinstance(item, BaseException):
                    raise item
                self._finish(*item)

        empty = 0
        batch: SinkBatch | None = None
        try:
            while not stop.is_set():
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError("pipeline still busy at its deadline")
                batch = batch or SinkBatch(source=self.source)
                polled = self._poll_into(batch)
                if polled:
                    batch.convert_pending()  # to Arrow here, while the writer is busy, not in the writer
                collect(wait=False)
                if not batch:
                    empty += 1
                    if idle_polls is not None and empty >= idle_polls and not in_flight:
                        break
                    continue
                empty = 0
                if polled and in_flight and len(batch) < self.config.max_batch_messages:
                    continue  # the writer is busy: grow the next batch, so commits get fewer and larger
                collect(wait=True)  # one batch in flight at most: offsets commit in order
                pending.put(batch)
                in_flight += 1
                batch = None
            if batch:  # stopped with polled messages not yet written: write them (or they are re-read)
                collect(wait=True)
                pending.put(batch)
                in_flight += 1
            collect(wait=True)
        finally:
            pending.put(None)
            thread.join(timeout=60)

    def _handle_records(self, records: list[Message], batch: SinkBatch) -> None:
        """One partition's records, in order. Plain content-state events (nearly all messages) take the fast
        path inline, with the lookups bound once; the rest go through `_handle`. Order matters: a batch
        event applied by `_handle` is known to the content-state events after it."""
        if self.config.publish_enriched or not records:  # rows published before the commit: made in Python
            for record in records:
                self._handle(record, batch)
            return
        catalog, batches, limit = self.catalog, self.batches, self.config.max_event_bytes
        add_fast, handle, accept = batch.add_fast_unordered, self._handle, content_state_message
        partition = records[0].partition()
        for record in records:
            raw = record.value()
            if raw is not None and not record.headers() and len(raw) <= limit:
                message = accept(raw, catalog, batches)
                if message is not None:
                    add_fast(partition, record.offset(), message)
                    continue
                handle(record, batch, fast_tried=True)
            else:
                handle(record, batch)
        batch.advance(partition, records[-1].offset() + 1)  # add_fast_unordered left next_offsets to this

    def _handle(self, record: Message, batch: SinkBatch, fast_tried: bool = False) -> None:
        raw: bytes = record.value() or b""
        partition, offset = record.partition(), record.offset()
        replay_of = _header(record, H_REPLAY_OF)
        if len(raw) <= self.config.max_event_bytes and not fast_tried:
            taken = False
            if self.config.publish_enriched:  # the rows are published before the commit: made here
                rows = content_state_rows(raw, self.catalog, self.batches)
                if rows is not None:
                    batch.add_row_tuples(partition, offset, rows[0], rows[1])
                    taken = True
            else:  # DuckDB makes the rows in the writer thread (ingestion/sinks/fast_rows.py)
                message = content_state_message(raw, self.catalog, self.batches)
                if message is not None:
                    batch.add_fast(partition, offset, message)
                    taken = True
            if taken:
                if replay_of:
                    batch.replayed.append(replay_of)
                return
        try:
            data = decode_event(raw, self.config.max_event_bytes)
            event = validate_event(data)
            event_id = event_id_for(data)
            rows = enrich(event, event_id, self.catalog, self.batches)
        except EventRejected as rejected:
            letter = DeadLetter(dl_id=deadletter_id(self.source, partition, offset),
                                partition=partition, offset=offset, reason=str(rejected.reason),
                                detail=rejected.detail, raw=raw)
            batch.add_deadletter(letter, replay_of)
            return
        if isinstance(event, BatchEvent | EnrolmentEvent) and self.on_metadata_event is not None:
            self._apply_metadata(event)
        batch.add_message(partition, offset, event_id, rows)
        if replay_of:
            batch.replayed.append(replay_of)

    def _apply_metadata(self, event: PlatformEvent) -> None:
        """Retry with backoff, then stop loudly: skipping would lose the event for the metadata store, and
        the batch is not committed, so a restart hands the same event to the (idempotent) callback again."""
        assert self.on_metadata_event is not None
        delay = 0.1
        for attempt in range(1, self.config.metadata_retries + 1):
            try:
                self.on_metadata_event(event)
                return
            except Exception as error:
                if attempt == self.config.metadata_retries:
                    raise PipelineError(f"metadata store rejected {event.eid} {event.mid} "
                                        f"{attempt} times: {error}") from error
                log.warning("metadata callback failed (attempt %s): %s", attempt, error)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _publish(self, batch: SinkBatch, since: int = 0) -> None:
        """Before the DuckDB commit: a crash after it must not have lost a topic record (at-least-once).
        Publishes what messages `since` onwards (message index in the batch) produced."""
        producer = self._producer
        assert producer is not None
        cfg = self.config
        sent = False
        if cfg.publish_enriched and batch.row_owner:
            batch_id_at = COLUMNS.index("batch_id")
            # Rows are in message order: the first row of message `since` onwards is found by bisection.
            for row in batch.rows[bisect.bisect_left(batch.row_owner, since):]:
                producer.send(cfg.enriched_topic, orjson.dumps(dict(zip(COLUMNS, row, strict=True))),
                              key=str(row[batch_id_at]).encode())
            sent = True
        now_ms = str(int(time.time() * 1000)).encode()
        for index, letter in batch.deadletters.items():
            if index < since:
                continue
            producer.send(cfg.deadletter_topic, letter.raw, key=letter.dl_id.encode(), headers=[
                (H_KIND, KIND_DEADLETTER), (H_DL_ID, letter.dl_id.encode()), (H_REASON, letter.reason.encode()),
                (H_DETAIL, letter.detail.encode()), (H_SOURCE_TOPIC, cfg.raw_topic.encode()),
                (H_SOURCE_PARTITION, str(letter.partition).encode()), (H_SOURCE_OFFSET, str(letter.offset).encode()),
                (H_LOG_ID, self.source.encode()), (H_AT, now_ms)])
            sent = True
        if sent:
            producer.flush()

    def _commit_kafka(self, offsets: dict[int, int]) -> None:
        consumer = self._consumer
        if consumer is None or not offsets:
            return
        try:
            consumer.commit(offsets)
        except Exception as error:  # only `lpa ingest --wait` reads it; the next batch commits again
            log.warning("could not commit offsets to Kafka group %s: %s", self.config.consumer_group, error)


def _header(record: Message, name: str) -> str | None:
    for key, value in record.headers() or ():
        if key == name and value is not None:
            return bytes(value).decode("utf-8", "replace")
    return None
