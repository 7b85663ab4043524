"""Enrichment: course, unit, batch and program ids, leaf/optional flags, stable ids, catalog rejections."""

from __future__ import annotations

import json

import pytest

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.enrich import enrich, event_id_for
from ingestion.events import EventRejected, RejectReason, parse_event
from ingestion.schema import EnrichedRow
from tests.fixtures import events as ev
from tests.fixtures.courses import COLLECTION, FRACTIONS

SHARED = {
    "identifier": "do_shared", "name": "Shared", "mimeType": COLLECTION,
    "children": [
        {"identifier": "u_a", "mimeType": COLLECTION,
         "children": [{"identifier": "leaf_x", "mimeType": "video/mp4"},
                      {"identifier": "u_a_sub", "mimeType": COLLECTION,
                       "children": [{"identifier": "leaf_deep", "mimeType": "video/mp4"}]}]},
        {"identifier": "u_b", "mimeType": COLLECTION, "children": [{"identifier": "leaf_x", "mimeType": "video/mp4"}]},
    ],
}


def _rows(event: dict, batches: MemoryBatches | None = None) -> list[EnrichedRow]:
    catalog = MemoryCatalog([FRACTIONS, SHARED])
    known = batches if batches is not None else MemoryBatches({"b_101": "prog_9"})
    raw = ev.line(event)
    return enrich(parse_event(raw), event_id_for(json.loads(raw)), catalog, known)


def test_content_state_rows_carry_course_unit_batch_program_and_flags() -> None:
    rows = _rows(ev.content_state(contents=[("do_leaf_1", 2), ("do_leaf_3", 1), ("do_elsewhere", 2)]))
    by_content = {r.content_id: r for r in rows}
    assert by_content["do_leaf_1"].unit_ids == ["do_unit_1"]
    assert (by_content["do_leaf_1"].is_leaf, by_content["do_leaf_1"].is_optional) == (1, 0)
    assert by_content["do_leaf_3"].is_optional == 1  # under an optional unit
    assert by_content["do_elsewhere"].is_leaf is None and by_content["do_elsewhere"].unit_ids == []
    assert {(r.course_id, r.batch_id, r.program_id, r.user_id) for r in rows} == {
        ("do_course_1", "b_101", "prog_9", "u_7")}


def test_leaf_under_two_units_gets_both_unit_ids_and_deep_leaves_every_ancestor() -> None:
    rows = _rows(ev.content_state(course="do_shared", contents=[("leaf_x", 2), ("leaf_deep", 1)]))
    by_content = {r.content_id: r for r in rows}
    assert sorted(by_content["leaf_x"].unit_ids) == ["u_a", "u_b"]
    assert by_content["leaf_deep"].unit_ids == ["u_a", "u_a_sub"]


def test_empty_contents_gives_one_activity_row() -> None:
    rows = _rows(ev.content_state(contents=[]))
    assert len(rows) == 1 and rows[0].content_id is None and rows[0].eid == "BE_JOB_REQUEST"


def test_unknown_course_is_rejected() -> None:
    for event in (ev.content_state(course="do_nope"), ev.assessment(course="do_nope"),
                  ev.batch_event("b_new", ["do_course_1", "do_nope"])):
        with pytest.raises(EventRejected) as info:
            _rows(event)
        assert info.value.reason == RejectReason.UNKNOWN_COURSE


def test_enrolment_or_update_for_an_unknown_batch_is_rejected() -> None:
    for event in (ev.enrolment(batch="b_none"), ev.batch_event("b_none", action="close")):
        with pytest.raises(EventRejected) as info:
            _rows(event, MemoryBatches())
        assert info.value.reason == RejectReason.UNKNOWN_BATCH


def test_batch_create_gives_a_row_per_course_with_its_program() -> None:
    rows = _rows(ev.batch_event("b_2", ["do_course_1", "do_shared"], program="prog_1"))
    assert [(r.course_id, r.program_id) for r in rows] == [("do_course_1", "prog_1"), ("do_shared", "prog_1")]


def test_ids_are_stable_and_content_derived() -> None:
    event = ev.content_state(contents=[("do_leaf_1", 2), ("do_leaf_2", 1)])
    first, again = _rows(event), _rows(json.loads(json.dumps(event)))
    assert [r.row_id for r in first] == [r.row_id for r in again]
    assert len({r.row_id for r in first}) == 2
    other = _rows(ev.content_state(contents=[("do_leaf_1", 2), ("do_leaf_2", 2)]))
    assert first[0].row_id == other[0].row_id  # the same fact, carried by another message
    assert first[0].event_id != other[0].event_id


def test_assessment_row_has_score_and_placement() -> None:
    (row,) = _rows(ev.assessment(content="do_leaf_2", score=7.5, max_score=10))
    assert (row.score, row.max_score, row.attempt_id, row.unit_ids) == (7.5, 10.0, "att-1", ["do_unit_1"])


def test_memory_batches_follow_batch_events() -> None:
    batches = MemoryBatches()
    batches.apply(parse_event(ev.line(ev.batch_event("b_5", program="p_5"))))
    batches.apply(parse_event(ev.line(ev.batch_event("b_5", action="close"))))
    assert batches.exists("b_5") and batches.program_id("b_5") == "p_5"


def test_fast_uuid5_is_the_standard_uuid5() -> None:
    import uuid

    from ingestion.enrich import EVENT_NAMESPACE, uuid5_str

    names = ["", "a", "BE_JOB_REQUEST|u_7|b_101|do_course_1|do_leaf_1|2|1732500000000", "héllo ✓", "x" * 500]
    for name in names + [f"n{i}" for i in range(1000)]:  # every value of the variant digit
        assert uuid5_str(name) == str(uuid.uuid5(EVENT_NAMESPACE, name))


def test_fast_rows_equal_validated_rows() -> None:
    from ingestion.enrich import _row
    from ingestion.schema import EnrichedRow

    values = {"ets": 1, "row_id": "r", "event_id": "e", "eid": "BE_JOB_REQUEST", "mid": "m", "batch_id": "b",
              "content_id": "x", "unit_ids": ["u"], "status": 2}
    fast = _row(**values)
    assert fast == EnrichedRow(**values)
    assert fast.model_dump() == EnrichedRow(**values).model_dump()
    assert list(fast.model_dump()) == list(EnrichedRow.model_fields)  # column order: positional inserts rely on it
    assert _row(**{k: v for k, v in values.items() if k != "unit_ids"}).unit_ids == []
