"""The hot path for the platform's dominant event, a content-state update, without pydantic objects.

`enrich(validate_event(decode_event(raw)))` costs ~60 us per message, most of it building and validating
models. Here a plain content-state event is checked field by field against the same rules as
`ingestion.events.ContentStateEvent`; an accepted one becomes either row tuples (column order of
`ingestion.schema.COLUMNS`, `content_state_rows`) or, for the embedded sink, its canonical JSON for DuckDB
to make the same rows (`content_state_message`, ingestion/sinks/fast_rows.py). Anything the check is not
sure of -- another eid, a rule broken, an unknown course, bytes that are not JSON -- returns None and the
caller takes the reference path, which accepts it or rejects it with the exact reason. So the fast path may
only ever *accept*, and what it accepts must be what the reference path accepts, with the same rows:
tests/unit/test_fast_enrich.py pins both over a corpus and over hypothesis-generated events, and
tests/unit/test_fast_rows.py the DuckDB rows to the tuples.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from ingestion.enrich import BatchLookup, CatalogLookup, canonical_json, row_id_for, uuid5_str
from ingestion.events import MAX_ETS, MAX_ID_CHARS
from ingestion.hierarchy import CourseHierarchy
from ingestion.schema import COLUMNS

RowTuple = tuple[Any, ...]

# The tuples below are written in this order; importing fails if the model's order ever changes.
ROW_ORDER = ("ets", "row_id", "event_id", "eid", "action", "mid", "user_id", "batch_id", "course_id",
             "program_id", "content_id", "unit_ids", "status", "is_leaf", "is_optional", "attempt_id", "score",
             "max_score")
if ROW_ORDER != COLUMNS:  # pragma: no cover - a schema change must update this module
    raise ImportError(f"fast_enrich writes {ROW_ORDER}, but EnrichedRow's columns are {COLUMNS}")

EID = "BE_JOB_REQUEST"
ACTION = "batch-enrolment-update"


def plain_content_state(data: object) -> bool:
    """True only if ContentStateEvent accepts `data` (a decoded JSON value). False means "not sure".

    Written for speed (it runs for nearly every message): exact type checks, one `get` per field."""
    if type(data) is not dict or data.get("eid") != EID:
        return False
    ets = data.get("ets")
    if type(ets) is not int or not 0 <= ets <= MAX_ETS:
        return False
    mid = data.get("mid")
    if type(mid) is not str or not 0 < len(mid) <= MAX_ID_CHARS:
        return False
    for envelope in ("actor", "context", "object"):
        value = data.get(envelope)
        if value is not None and type(value) is not dict:
            return False
    edata = data.get("edata")
    if type(edata) is not dict or edata.get("action") != ACTION:
        return False
    iteration = edata.get("iteration")
    if iteration is not None and type(iteration) is not int:
        return False
    for key in ("batchId", "userId", "courseId"):
        value = edata.get(key)
        if type(value) is not str or not 0 < len(value) <= MAX_ID_CHARS:
            return False
    contents = edata.get("contents")
    if type(contents) is not list:
        return False
    for item in contents:
        if type(item) is not dict:
            return False
        content_id = item.get("contentId")
        if type(content_id) is not str or not 0 < len(content_id) <= MAX_ID_CHARS:
            return False
        status = item.get("status")
        if type(status) is not int or not 0 <= status <= 2:
            return False
    return True


def _accepted(raw: bytes, catalog: CatalogLookup) -> tuple[dict[str, Any], CourseHierarchy] | None:
    """The decoded event and its course, if it is a valid content-state event of a known course."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not plain_content_state(data):
        return None
    course = catalog.course(data["edata"]["courseId"])
    if course is None:
        return None  # the reference path dead-letters it as unknown_course
    return data, course


class FastMessage(NamedTuple):  # a tuple: ~4x cheaper to make than a frozen dataclass, once per message
    """An accepted content-state event for the sink's SQL (ingestion/sinks/fast_rows.py), which makes its
    rows and ids: `canonical` is the event's canonical JSON (its id is derived from it), `course` the
    hierarchy it was accepted against (its nodes give the rows' unit ids and flags)."""

    canonical: bytes
    program_id: str | None
    course: CourseHierarchy


def content_state_message(raw: bytes, catalog: CatalogLookup, batches: BatchLookup) -> FastMessage | None:
    """The event for the sink's SQL to turn into rows; None: use the reference path.

    ~4x less Python per message than building the rows here (`content_state_rows`): parsing, the checks and
    the canonical JSON stay in Python, so the accepted set is the same; rows and SHA-1 ids are made by DuckDB,
    vectorised, in the writer thread (tests/unit/test_fast_rows.py pins the rows equal). Both share
    `_accepted` and `canonical_json`, so they cannot drift apart (inlining them saved ~0.1 us of ~6)."""
    accepted = _accepted(raw, catalog)
    if accepted is None:
        return None
    data, course = accepted
    canonical = canonical_json(data)
    if b"\\u0000" in canonical:
        return None  # a NUL in a string: the reference path builds the rows
    return FastMessage(canonical, batches.program_id(data["edata"]["batchId"]), course)


def content_state_rows(raw: bytes, catalog: CatalogLookup, batches: BatchLookup) -> tuple[str, list[RowTuple]] | None:
    """(event_id, rows) for a valid content-state event of a known course; None: use the reference path."""
    accepted = _accepted(raw, catalog)
    if accepted is None:
        return None
    data, course = accepted
    edata = data["edata"]
    course_id = edata["courseId"]
    event_id = uuid5_str(canonical_json(data))
    ets, mid, user_id, batch_id = data["ets"], data["mid"], edata["userId"], edata["batchId"]
    program_id = batches.program_id(batch_id)
    contents = edata["contents"]
    if not contents:
        return event_id, [(ets, row_id_for(event_id, 0), event_id, EID, ACTION, mid, user_id, batch_id, course_id,
                           program_id, None, [], None, None, None, None, None, None)]
    nodes = course.nodes
    # ingestion.enrich.fact_row_id, inlined: the same "|"-joined natural key.
    key_prefix = f"{EID}|{user_id}|{batch_id}|{course_id}|"
    rows = []
    for item in contents:
        content_id, status = item["contentId"], item["status"]
        node = nodes.get(content_id)
        row_id = uuid5_str(f"{key_prefix}{content_id}|{status}|{ets}")
        if node is None:
            rows.append((ets, row_id, event_id, EID, ACTION, mid, user_id, batch_id, course_id, program_id,
                         content_id, [], status, None, None, None, None, None))
        else:
            rows.append((ets, row_id, event_id, EID, ACTION, mid, user_id, batch_id, course_id, program_id,
                         content_id, list(node.ancestor_ids), status, int(node.is_leaf), int(node.optional),
                         None, None, None))
    return event_id, rows
