"""The content-state fast path accepts only what the reference path accepts, with the same rows.

Reference: decode_event -> validate_event -> event_id_for -> enrich (ingestion.events / ingestion.enrich).
The fast path may decline anything (the pipeline then takes the reference path), but it must never accept
an event the reference path rejects, and it must give the reference path's rows, tuple for tuple."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.enrich import enrich, event_id_for
from ingestion.events import EventRejected, decode_event, validate_event
from ingestion.fast_enrich import content_state_rows
from ingestion.schema import COLUMNS
from tests.fixtures import bad_events
from tests.fixtures import events as ev
from tests.fixtures.courses import FRACTIONS, simple_course

OTHER = simple_course("do_c1", {"u1": ["l1", "l2"], "u2": ["l2", "l3"]})
CATALOG = MemoryCatalog([FRACTIONS, OTHER])
BATCHES = MemoryBatches({"b_101": "prog_9", "b_known": None, "b_2": None})


def reference(raw: bytes) -> tuple[str, list[tuple[Any, ...]]] | None:
    """(event_id, row tuples) from the reference path, or None when it rejects the bytes."""
    try:
        data = decode_event(raw)
        event = validate_event(data)
        event_id = event_id_for(data)
        rows = enrich(event, event_id, CATALOG, BATCHES)
    except EventRejected:
        return None
    return event_id, [tuple(row.model_dump()[name] for name in COLUMNS) for row in rows]


def assert_agrees(raw: bytes) -> bool:
    """Checks the invariant; True when the fast path took the event."""
    fast = content_state_rows(raw, CATALOG, BATCHES)
    if fast is None:
        return False
    assert reference(raw) == fast, raw
    return True


def test_row_tuples_follow_the_model_order() -> None:
    fast = content_state_rows(ev.line(ev.content_state(contents=[("do_leaf_1", 2)])), CATALOG, BATCHES)
    assert fast is not None
    row = dict(zip(COLUMNS, fast[1][0], strict=True))
    assert (row["user_id"], row["batch_id"], row["program_id"], row["unit_ids"]) == ("u_7", "b_101", "prog_9",
                                                                                      ["do_unit_1"])


@pytest.mark.parametrize("contents", [[], [("do_leaf_1", 2)], [("do_leaf_1", 2), ("do_leaf_3", 1), ("nowhere", 0)],
                                      [("do_unit_1", 1)]])
def test_valid_content_state_takes_the_fast_path_with_the_reference_rows(contents: list[tuple[str, int]]) -> None:
    assert assert_agrees(ev.line(ev.content_state(contents=contents)))


def test_a_leaf_under_two_units_and_a_batch_without_program() -> None:
    assert assert_agrees(ev.line(ev.content_state(batch="b_2", course="do_c1", contents=[("l2", 2), ("l3", 1)])))


def test_extra_fields_and_unicode_are_taken_like_the_reference() -> None:
    event = ev.content_state(user="ü_7 ✓", contents=[("do_leaf_1", 2)])
    event["extra"] = {"nested": [1, 2.5, None]}
    event["edata"]["contents"][0]["progress"] = 100
    assert assert_agrees(json.dumps(event, ensure_ascii=False).encode())


@pytest.mark.parametrize("case", bad_events.corpus(), ids=lambda c: c.name)
def test_the_bad_corpus_never_takes_the_fast_path(case: bad_events.BadEvent) -> None:
    if len(case.raw) <= bad_events.DEFAULT_MAX_EVENT_BYTES:
        assert content_state_rows(case.raw, CATALOG, BATCHES) is None


@pytest.mark.parametrize("path,value", [
    ("ets", True), ("ets", 1.0), ("ets", -1), ("ets", 32503680000001), ("ets", "1732500000000"), ("mid", ""),
    ("mid", "x" * 257), ("mid", 5), ("actor", []), ("context", "s"), ("edata.iteration", True),
    ("edata.iteration", 1.5), ("edata.action", "other"), ("edata.batchId", None), ("edata.userId", ""),
    ("edata.courseId", "do_not_in_catalog"), ("edata.contents", {}), ("edata.contents", None),
    ("edata.contents.0", "do_leaf_1"), ("edata.contents.0.status", 3), ("edata.contents.0.status", True),
    ("edata.contents.0.status", 2.0), ("edata.contents.0.status", "2"), ("edata.contents.0.contentId", ""),
    ("edata.contents.0.contentId", 7), ("eid", "LPA_ASSESSMENT"), ("edata", None),
])
def test_each_broken_rule_declines(path: str, value: Any) -> None:
    event = ev.content_state(contents=[("do_leaf_1", 2)])
    _set(event, path, value)
    raw = orjson.dumps(event)
    assert content_state_rows(raw, CATALOG, BATCHES) is None
    if path != "edata.courseId":
        assert reference(raw) is None  # the case really is invalid, so declining is the only right answer


def _set(event: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target: Any = event
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


_SCALARS = (st.none() | st.booleans() | st.integers(-3, 2**40) | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=5) | st.sampled_from(["do_leaf_1", "do_course_1", "b_101", "x" * 256, "x" * 257]))
_ANY = st.recursive(_SCALARS,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=6)
_PATHS = ["eid", "ets", "mid", "actor", "context", "object", "edata", "edata.action", "edata.iteration",
          "edata.batchId", "edata.userId", "edata.courseId", "edata.contents", "edata.contents.0",
          "edata.contents.0.contentId", "edata.contents.0.status", "edata.contents.1.status", "extra"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.sampled_from(_PATHS), _ANY), max_size=3),
       contents=st.lists(st.tuples(st.sampled_from(["do_leaf_1", "do_leaf_2", "do_leaf_3", "do_unit_1", "elsewhere"]),
                                   st.integers(0, 2)), max_size=3))
def test_mutated_events_never_make_the_paths_disagree(changes: list[tuple[str, Any]],
                                                      contents: list[tuple[str, int]]) -> None:
    event = ev.content_state(contents=contents or [("do_leaf_1", 2), ("do_leaf_2", 1)])
    for path, value in changes:
        mutated = copy.deepcopy(event)
        try:
            _set(mutated, path, value)
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        event = mutated
    assert_agrees(orjson.dumps(event))
