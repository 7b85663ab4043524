"""Dead letters as seen through the dead-letter topic: list them, replay them.

The topic holds two kinds of records, told apart by the `lpa.kind` header, both keyed by the letter id:
- `deadletter`: value = the original bytes; headers = reason, detail, source topic/partition/offset, time;
- `replayed`: an empty marker written after a replay republished the letter's bytes to the raw topic.
A letter with a marker is not replayed again. The republished message carries `lpa.replay_of` = the
letter id; if it is still invalid, the pipeline dead-letters it again as a new letter with its reason.
Replay publishes first and marks second: a crash in between may replay a letter twice, which is harmless
(a valid event is counted once by its content-derived id), never lose it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from ingestion.kafka_io import make_consumer, make_producer, read_to_end, topic_partitions
from ingestion.pipeline import (
    H_AT,
    H_DETAIL,
    H_DL_ID,
    H_KIND,
    H_REASON,
    H_REPLAY_OF,
    H_SOURCE_OFFSET,
    H_SOURCE_PARTITION,
    H_SOURCE_TOPIC,
    KIND_DEADLETTER,
    KIND_REPLAYED,
)
from ingestion.publish import key_for
from lpa.settings import Settings


@dataclass
class DeadLetterRecord:
    dl_id: str
    reason: str
    detail: str
    source: str
    at_ms: int
    raw: bytes
    replay_of: str | None = None
    replayed_at_ms: int | None = None

    @property
    def short_id(self) -> str:
        return self.dl_id[:8]

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def as_json(self) -> dict[str, object]:
        return {"id": self.dl_id, "when": self.when, "reason": self.reason, "detail": self.detail,
                "source": self.source, "replayed": self.replayed_at_ms is not None, "replayOf": self.replay_of,
                "raw": self.raw.decode("utf-8", "replace")}


def _headers(record: object) -> dict[str, str]:
    return {k: bytes(v).decode("utf-8", "replace") for k, v in getattr(record, "headers", None) or ()
            if v is not None}


def read_deadletters(bootstrap: str, settings: Settings) -> list[DeadLetterRecord]:
    """Every letter in the topic, once each (redeliveries share an id), oldest first, with replay marks."""
    consumer = make_consumer(bootstrap, client_id="lpa-deadletter")
    letters: dict[str, DeadLetterRecord] = {}
    replayed: dict[str, int] = {}
    try:
        partitions = topic_partitions(consumer, settings.deadletter_topic)
        for record in read_to_end(consumer, partitions):
            headers = _headers(record)
            dl_id = headers.get(H_DL_ID)
            if not dl_id:
                continue
            at_ms = int(headers.get(H_AT) or record.timestamp or 0)
            if headers.get(H_KIND) == KIND_REPLAYED.decode():
                replayed[dl_id] = at_ms
            elif headers.get(H_KIND) == KIND_DEADLETTER.decode() and dl_id not in letters:
                source = (f"{headers.get(H_SOURCE_TOPIC, '?')}/{headers.get(H_SOURCE_PARTITION, '?')}"
                          f"@{headers.get(H_SOURCE_OFFSET, '?')}")
                letters[dl_id] = DeadLetterRecord(dl_id=dl_id, reason=headers.get(H_REASON, "?"),
                                                  detail=headers.get(H_DETAIL, ""), source=source, at_ms=at_ms,
                                                  raw=bytes(record.value or b""), replay_of=None)
    finally:
        consumer.close()
    for dl_id, at_ms in replayed.items():
        if dl_id in letters:
            letters[dl_id].replayed_at_ms = at_ms
    return sorted(letters.values(), key=lambda r: (r.at_ms, r.dl_id))


def select(letters: list[DeadLetterRecord], *, letter_id: str | None = None, reason: str | None = None,
           everything: bool = False) -> list[DeadLetterRecord]:
    """Letters not yet replayed that match: an id (or unambiguous prefix, e.g. the short id), a reason, or all."""
    pending = [r for r in letters if r.replayed_at_ms is None]
    if letter_id:
        return [r for r in pending if r.dl_id.startswith(letter_id)]
    if reason:
        return [r for r in pending if r.reason == reason]
    return pending if everything else []


def replay(bootstrap: str, settings: Settings, letters: list[DeadLetterRecord]) -> int:
    """Republish the original bytes to the raw topic, then mark each letter replayed."""
    if not letters:
        return 0
    producer = make_producer(bootstrap, client_id="lpa-deadletter")
    try:
        for letter in letters:
            producer.send(settings.raw_topic, key=key_for(letter.raw), value=letter.raw,
                          headers=[(H_REPLAY_OF, letter.dl_id.encode())])
        producer.flush()
        now = str(int(time.time() * 1000)).encode()
        for letter in letters:
            producer.send(settings.deadletter_topic, key=letter.dl_id.encode(), value=b"", headers=[
                (H_KIND, KIND_REPLAYED), (H_DL_ID, letter.dl_id.encode()), (H_AT, now)])
        producer.flush()
    finally:
        producer.close(timeout=5)
    return len(letters)
