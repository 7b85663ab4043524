"""Validated event -> enriched rows (unit, course, batch, program ids; leaf/optional flags; stable ids).

Pure: the catalog and the batch registry are passed in behind two small protocols, so the same function
serves the stream, the replay of dead letters and the tests.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Protocol

import orjson

from ingestion.events import (
    AssessmentEvent,
    BatchEvent,
    ContentStateEvent,
    EnrolmentEvent,
    EventRejected,
    PlatformEvent,
    RejectReason,
)
from ingestion.hierarchy import CourseHierarchy
from ingestion.schema import EnrichedRow

# Fixed namespace: ids must be the same on every machine, in the stream and in the Spark backfill.
EVENT_NAMESPACE = uuid.UUID("6f1c2b1e-3f4a-5d6b-8c7d-9e0f1a2b3c4d")


class CatalogLookup(Protocol):
    def course(self, course_id: str) -> CourseHierarchy | None: ...


class BatchLookup(Protocol):
    def program_id(self, batch_id: str) -> str | None: ...

    def exists(self, batch_id: str) -> bool: ...


_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes
_SHA1 = hashlib.sha1
# UUID variant bits (10xx) applied to the 17th hex digit: its two low bits are kept.
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def uuid5_str(name: str | bytes) -> str:
    """str(uuid.uuid5(EVENT_NAMESPACE, name)), ~3x faster: ids are made for every event and row in the hot path
    (tests pin the equality with the standard library)."""
    data = name if isinstance(name, bytes) else name.encode()
    h = _SHA1(_NAMESPACE_BYTES + data, usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:32]}"


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same event always serialises to the same bytes."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def event_id_for(data: dict[str, Any]) -> str:
    """Derived from the whole event's content: `mid` alone is not unique on the platform."""
    return uuid5_str(canonical_json(data))


def row_id_for(event_id: str, index: int) -> str:
    """Rows that are not a fact of their own (batch, enrolment, an empty `contents`) are keyed by their event."""
    return uuid5_str(f"{event_id}/{index}")


def fact_row_id(eid: str, *natural_key: object) -> str:
    """Content-state and assessment rows are keyed by the fact they state (who, where, what, when), not by the
    message that carried it: the Spark backfill derives the same id from the platform's tables, so history
    that overlaps streamed days is not counted twice."""
    return uuid5_str("|".join([eid, *("" if p is None else str(p) for p in natural_key)]))


_FIELDS = tuple(EnrichedRow.model_fields)


def _row(**values: Any) -> EnrichedRow:
    """What `EnrichedRow.model_construct` does (no re-validation: the values come from an event pydantic has
    validated), without its per-field default resolution, which cost more than the rest of enrichment in the
    pipeline's hot path. Every field gets a value, in the model's field order (model_dump keeps it); tests
    compare these rows with validated ones."""
    row = object.__new__(EnrichedRow)
    fields = dict.fromkeys(_FIELDS)
    fields.update(values)
    if fields["unit_ids"] is None:
        fields["unit_ids"] = []
    object.__setattr__(row, "__dict__", fields)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    object.__setattr__(row, "__pydantic_extra__", None)
    object.__setattr__(row, "__pydantic_private__", None)
    return row


def _require_course(catalog: CatalogLookup, course_id: str) -> CourseHierarchy:
    course = catalog.course(course_id)
    if course is None:
        raise EventRejected(RejectReason.UNKNOWN_COURSE, f"course {course_id!r} is not in the catalog")
    return course


def enrich(event: PlatformEvent, event_id: str, catalog: CatalogLookup, batches: BatchLookup) -> list[EnrichedRow]:
    """Rows for one valid event, or EventRejected when it refers to what the catalog does not know."""
    base: dict[str, Any] = {"ets": event.ets, "event_id": event_id, "eid": event.eid, "mid": event.mid}
    match event:
        case ContentStateEvent(edata=edata):
            course = _require_course(catalog, edata.courseId)
            common = base | {"action": edata.action, "user_id": edata.userId, "batch_id": edata.batchId,
                             "course_id": edata.courseId, "program_id": batches.program_id(edata.batchId)}
            if not edata.contents:
                return [_row(row_id=row_id_for(event_id, 0), **common)]
            rows = []
            for item in edata.contents:
                node = course.nodes.get(item.contentId)
                rows.append(_row(
                    row_id=fact_row_id(event.eid, edata.userId, edata.batchId, edata.courseId, item.contentId,
                                       item.status, event.ets),
                    content_id=item.contentId, status=item.status,
                    unit_ids=list(node.ancestor_ids) if node else [],
                    is_leaf=None if node is None else int(node.is_leaf),
                    is_optional=None if node is None else int(node.optional),
                    **common))
            return rows
        case AssessmentEvent(edata=edata):
            course = _require_course(catalog, edata.courseId)
            node = course.nodes.get(edata.contentId)
            return [_row(
                row_id=fact_row_id(event.eid, edata.userId, edata.batchId, edata.courseId, edata.contentId,
                                   edata.attemptId, edata.score, edata.maxScore, event.ets),
                user_id=edata.userId, batch_id=edata.batchId,
                course_id=edata.courseId, program_id=batches.program_id(edata.batchId),
                content_id=edata.contentId, unit_ids=list(node.ancestor_ids) if node else [],
                is_leaf=None if node is None else int(node.is_leaf),
                is_optional=None if node is None else int(node.optional),
                attempt_id=edata.attemptId, score=edata.score, max_score=edata.maxScore, **base)]
        case BatchEvent(edata=edata):
            for course_id in edata.courseIds or ():
                _require_course(catalog, course_id)
            if edata.action != "create" and not batches.exists(edata.batchId):
                raise EventRejected(RejectReason.UNKNOWN_BATCH, f"batch {edata.batchId!r} was never created")
            program_id = edata.programId or batches.program_id(edata.batchId)
            course_ids = edata.courseIds or [None]
            return [_row(row_id=row_id_for(event_id, index), action=edata.action, user_id=edata.createdBy,
                                batch_id=edata.batchId, course_id=course_id, program_id=program_id, **base)
                    for index, course_id in enumerate(course_ids)]
        case EnrolmentEvent(edata=edata):
            if not batches.exists(edata.batchId):
                raise EventRejected(RejectReason.UNKNOWN_BATCH, f"batch {edata.batchId!r} was never created")
            return [_row(row_id=row_id_for(event_id, 0), action=edata.action, user_id=edata.userId,
                                batch_id=edata.batchId, program_id=batches.program_id(edata.batchId), **base)]
    raise AssertionError(f"unhandled event type {type(event).__name__}")  # pragma: no cover
