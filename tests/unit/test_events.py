"""Event contracts (contracts.md section 2): strict validation, one reason code per kind of defect."""

from __future__ import annotations

import json

import pytest

from ingestion.enrich import event_id_for
from ingestion.events import (
    AssessmentEvent,
    BatchEvent,
    ContentStateEvent,
    EnrolmentEvent,
    EventRejected,
    RejectReason,
    parse_event,
    partition_key,
)
from tests.fixtures import events as ev


def _reason(raw: bytes, **kwargs: int) -> RejectReason:
    with pytest.raises(EventRejected) as info:
        parse_event(raw, **kwargs)
    return info.value.reason


@pytest.mark.parametrize(("event", "kind"), [
    (ev.content_state(), ContentStateEvent), (ev.batch_event(), BatchEvent),
    (ev.enrolment(), EnrolmentEvent), (ev.assessment(), AssessmentEvent)])
def test_every_contract_event_parses(event: dict, kind: type) -> None:
    assert isinstance(parse_event(ev.line(event)), kind)


def test_empty_contents_is_valid() -> None:
    assert parse_event(ev.line(ev.content_state(contents=[]))).edata.contents == []


@pytest.mark.parametrize(("raw", "reason"), [
    (b"x" * 2000, RejectReason.TOO_LARGE),
    (b'{"eid": "\xff"}', RejectReason.BAD_ENCODING),
    (b'{"eid": ', RejectReason.NOT_JSON),
    (b"[1, 2]", RejectReason.NOT_AN_OBJECT),
    (b'{"eid": "SOMETHING", "ets": 1, "mid": "m"}', RejectReason.UNKNOWN_EID),
    (b'{"ets": 1, "mid": "m"}', RejectReason.UNKNOWN_EID),
])
def test_undecodable_messages_have_their_reason(raw: bytes, reason: RejectReason) -> None:
    assert _reason(raw, max_bytes=1024) == reason


def _mutated(event: dict, path: list[str | int], value: object) -> bytes:
    data = json.loads(json.dumps(event))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(("event", "path", "value"), [
    (ev.content_state(), ["edata", "contents", 0, "status"], 3),
    (ev.content_state(), ["edata", "contents", 0, "status"], "2"),  # strict: no coercion
    (ev.content_state(), ["ets"], "1732500000000"),
    (ev.content_state(), ["edata", "userId"], KeyError),
    (ev.content_state(), ["edata", "courseId"], ""),
    (ev.content_state(), ["edata", "action"], "other"),
    (ev.content_state(), ["mid"], KeyError),
    (ev.batch_event(), ["edata", "courseIds"], []),
    (ev.batch_event(), ["edata", "courseIds"], ["c", "c"]),
    (ev.enrolment(), ["edata", "action"], "join"),
    (ev.assessment(), ["edata", "score"], 11),
    (ev.assessment(), ["edata", "maxScore"], 0),
])
def test_missing_or_mistyped_fields_are_invalid(event: dict, path: list, value: object) -> None:
    assert _reason(_mutated(event, path, value)) == RejectReason.INVALID_FIELD


def test_one_bad_item_rejects_the_whole_event() -> None:
    raw = ev.line(ev.content_state(contents=[("do_leaf_1", 2), ("do_leaf_2", 5)]))
    with pytest.raises(EventRejected) as info:
        parse_event(raw)
    assert info.value.reason == RejectReason.INVALID_FIELD
    assert "contents.1.status" in info.value.detail


def test_unknown_extra_fields_are_tolerated() -> None:
    data = ev.content_state() | {"pdata": {"new": 1}}
    assert isinstance(parse_event(ev.line(data)), ContentStateEvent)


def test_same_mid_with_different_content_gives_different_event_ids() -> None:
    one = ev.content_state(contents=[("do_leaf_1", 1)], mid="LP.same")
    two = ev.content_state(contents=[("do_leaf_1", 2)], mid="LP.same")
    assert event_id_for(one) != event_id_for(two)


def test_same_bytes_and_same_content_give_the_same_event_id() -> None:
    data = ev.content_state()
    reordered = dict(reversed(list(data.items())))  # key order does not matter: canonical JSON
    assert event_id_for(json.loads(ev.line(data))) == event_id_for(data) == event_id_for(reordered)


def test_partition_key_is_the_batch_id() -> None:
    assert partition_key(ev.enrolment(batch="b_9")) == b"b_9"
    assert partition_key(parse_event(ev.line(ev.assessment(batch="b_8")))) == b"b_8"
    assert partition_key({"edata": "x"}) is None
