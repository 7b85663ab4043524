"""`lpa ingest`: publish a .jsonl file to the raw topic and, optionally, wait until the pipeline accounted
for every line.

Accounting goes through Kafka only (the DuckDB file belongs to the `lpa up` process):
- the producer's acknowledgements give each line's (partition, offset) in the raw topic;
- the pipeline commits its offsets to the Kafka group `settings.consumer_group` right after each DuckDB
  commit, so committed offset > a line's offset means the line is in the store or dead-lettered;
- dead letters carry their source partition/offset in headers, which map them back to line numbers.
Bad lines are published as they are: the pipeline dead-letters them with a reason, nothing is dropped here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, MessageSizeTooLargeError

from ingestion.enrich import event_id_for
from ingestion.events import partition_key
from ingestion.kafka_io import make_consumer, make_producer, read_to_end, topic_partitions
from ingestion.pipeline import H_KIND, H_REASON, H_SOURCE_OFFSET, H_SOURCE_PARTITION, H_SOURCE_TOPIC, KIND_DEADLETTER
from lpa.settings import Settings

Progress = Callable[[int], None]


class IngestError(RuntimeError):
    """The file could not be read or published; the message names the file."""


@dataclass
class LineRef:
    line_no: int
    partition: int
    offset: int


@dataclass
class IngestReport:
    path: Path
    published: list[LineRef] = field(default_factory=list)
    blank: int = 0
    repeated_in_file: int = 0  # same event as an earlier line: stored once
    not_published: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, detail)
    deadlettered: list[tuple[int, str, str]] = field(default_factory=list)
    accounted: bool = False

    @property
    def accepted(self) -> int:
        return len(self.published) - len(self.deadlettered)


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, bytes without the line terminator) for every line."""
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                yield number, line.rstrip(b"\r\n")
    except OSError as error:
        raise IngestError(f"{path}: cannot read: {error.strerror or error}") from error


def key_for(raw: bytes) -> bytes | None:
    """The Kafka key of a raw line: its edata.batchId when it parses (keeps a batch's events in order)."""
    return _key_and_id(raw)[0]


def _key_and_id(raw: bytes) -> tuple[bytes | None, str | None]:
    try:
        # orjson like the pipeline: stdlib json accepts lone surrogates ("\\ud800") that orjson cannot re-encode
        data = orjson.loads(raw)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    try:
        return partition_key(data), event_id_for(data)
    except (TypeError, ValueError):  # not encodable canonically: the pipeline dead-letters it anyway
        return partition_key(data), None


def publish_file(path: Path, bootstrap: str, settings: Settings, progress: Progress | None = None) -> IngestReport:
    """Publish every non-blank line's bytes, keyed by edata.batchId when the line parses."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    report = IngestReport(path=path)
    producer = make_producer(bootstrap, client_id="lpa-ingest", linger_ms=20)
    pending: list[tuple[int, object]] = []
    seen: set[str] = set()
    try:
        for line_no, raw in read_lines(path):
            if progress:
                progress(len(raw) + 1)
            if not raw.strip():
                report.blank += 1
                continue
            key, event_id = _key_and_id(raw)
            if event_id is not None:
                if event_id in seen:
                    report.repeated_in_file += 1
                seen.add(event_id)
            try:
                pending.append((line_no, producer.send(settings.raw_topic, key=key, value=raw)))
            except KafkaError as error:  # e.g. a line larger than the producer's request limit
                report.not_published.append((line_no, "too_large", str(error)))
        producer.flush()
        for line_no, future in pending:
            try:
                meta = future.get(timeout=30)  # type: ignore[attr-defined]
            except KafkaError as error:  # a line over the producer's request size fails here, not at send()
                reason = "too_large" if isinstance(error, MessageSizeTooLargeError) else "not_published"
                report.not_published.append((line_no, reason, str(error)))
                continue
            report.published.append(LineRef(line_no, meta.partition, meta.offset))
    finally:
        producer.close(timeout=5)
    return report


def deadletter_start(bootstrap: str, settings: Settings) -> dict[TopicPartition, int]:
    """Where the dead-letter topic ends now (a lower bound on Tansu: safe to read from)."""
    consumer = make_consumer(bootstrap, client_id="lpa-ingest")
    try:
        partitions = topic_partitions(consumer, settings.deadletter_topic)
        return dict(consumer.end_offsets(partitions))
    finally:
        consumer.close()


def wait_for_accounting(report: IngestReport, bootstrap: str, settings: Settings,
                        dl_start: dict[TopicPartition, int], timeout_s: float = 600.0) -> IngestReport:
    """Block until the pipeline committed past every published line, then map dead letters to lines."""
    last: dict[int, int] = {}
    for ref in report.published:
        last[ref.partition] = max(last.get(ref.partition, -1), ref.offset)
    watcher = KafkaConsumer(bootstrap_servers=bootstrap, group_id=settings.consumer_group,
                            enable_auto_commit=False, client_id="lpa-ingest")
    try:
        deadline = time.monotonic() + timeout_s
        while last:
            for partition in list(last):
                committed = watcher.committed(TopicPartition(settings.raw_topic, partition))
                if committed is not None and committed > last[partition]:
                    del last[partition]
            if not last:
                break
            if time.monotonic() > deadline:
                raise IngestError(f"{report.path}: the pipeline has not accounted for every line after "
                                  f"{timeout_s:.0f}s; is `lpa up` running?")
            time.sleep(0.2)
    finally:
        watcher.close()
    by_offset = {(ref.partition, ref.offset): ref.line_no for ref in report.published}
    consumer = make_consumer(bootstrap, client_id="lpa-ingest")
    found: dict[int, tuple[int, str, str]] = {}
    try:
        for record in read_to_end(consumer, list(dl_start), dl_start):
            headers = {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers or () if v is not None}
            if headers.get(H_KIND) != KIND_DEADLETTER.decode() or headers.get(H_SOURCE_TOPIC) != settings.raw_topic:
                continue
            try:
                coords = (int(headers[H_SOURCE_PARTITION]), int(headers[H_SOURCE_OFFSET]))
            except (KeyError, ValueError):
                continue
            line_no = by_offset.get(coords)
            if line_no is not None:  # a redelivered letter has the same coordinates: kept once
                found[line_no] = (line_no, headers.get(H_REASON, "?"), headers.get("lpa.detail", ""))
    finally:
        consumer.close()
    report.deadlettered = [found[n] for n in sorted(found)]
    report.accounted = True
    return report
