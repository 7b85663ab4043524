"""The `lpa demo` sample: valid, deterministic, and showing what the report is about."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ingestion.events import parse_event
from ingestion.hierarchy import parse_hierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from lpa import demo_data
from query_api.progress.compute import build_report
from query_api.store.duckdb_store import DuckDBStore
from tests.fixtures.progress_state import StateEvent, apply_events

NOW = 1732500000000


def _events(plan: demo_data.DemoPlan) -> list[dict]:
    return [json.loads(line) for line in plan.events.read_text().splitlines()]


def test_same_clock_and_seed_give_the_same_files(tmp_path: Path) -> None:
    first = demo_data.write_demo(tmp_path / "a", now_ms=NOW)
    second = demo_data.write_demo(tmp_path / "b", now_ms=NOW + 1)  # same minute
    assert first.events.read_bytes() == second.events.read_bytes()
    assert [p.read_bytes() for p in first.catalog] == [p.read_bytes() for p in second.catalog]


def test_every_event_is_valid_and_the_sample_has_the_promised_size(tmp_path: Path) -> None:
    plan = demo_data.write_demo(tmp_path, now_ms=NOW)
    raw = plan.events.read_text().splitlines()
    assert len(raw) == plan.event_count
    events = [parse_event(line.encode()) for line in raw]
    kinds = Counter(e.eid for e in events)
    assert kinds["BE_JOB_REQUEST"] > 3000 and kinds["LPA_BATCH"] == 4 and kinds["LPA_ASSESSMENT"] > 0
    program = {e.edata.userId for e in events
               if e.eid == "LPA_ENROLMENT" and e.edata.batchId == demo_data.PROGRAM_BATCH}
    assert len(program) == 200
    weeks = {(e.ets - NOW) // (7 * demo_data.DAY_MS) for e in events
             if e.eid == "BE_JOB_REQUEST" and e.edata.batchId == demo_data.PROGRAM_BATCH}
    assert len(weeks) >= 5
    assert len({e.mid for e in events}) == len(events)
    # every course an event names is in the catalog files
    known = {parse_hierarchy(json.loads(p.read_text())).course_id for p in plan.catalog}
    assert {e.edata.courseId for e in events if e.eid == "BE_JOB_REQUEST"} <= known


def test_groups_draw_members_from_their_batches(tmp_path: Path) -> None:
    plan = demo_data.write_demo(tmp_path, now_ms=NOW)
    enrolled: dict[str, set[str]] = {}
    for e in _events(plan):
        if e["eid"] == "LPA_ENROLMENT":
            users = enrolled.setdefault(e["edata"]["batchId"], set())
            (users.add if e["edata"]["action"] == "enrol" else users.discard)(e["edata"]["userId"])
    circle, family = plan.groups
    assert circle.parent_batch_id == demo_data.PROGRAM_BATCH
    assert set(circle.members) <= enrolled[demo_data.PROGRAM_BATCH]
    assert circle.created_by in demo_data.MENTORS
    # the parent's children studied in different batches, one of them in two
    batches_of = {child: {b for b, users in enrolled.items() if child in users} for child in family.members}
    assert batches_of["u_child_maya"] == {demo_data.SCIENCE_SPRING, demo_data.SCIENCE_AUTUMN}
    assert len(set().union(*batches_of.values())) >= 3


def test_report_over_the_sample_shows_best_batch_and_the_republish(tmp_path: Path) -> None:
    plan = demo_data.write_demo(tmp_path, now_ms=NOW)
    conn = open_duckdb(":memory:")
    store = DuckDBStore(conn)
    apply_events(conn, [StateEvent(e["edata"]["userId"], e["edata"]["batchId"], e["edata"]["courseId"], e["ets"],
                                   {c["contentId"]: c["status"] for c in e["edata"]["contents"]})
                        for e in _events(plan) if e["eid"] == "BE_JOB_REQUEST"])
    courses = {}
    for path in [*plan.catalog, *plan.republish]:  # the republish replaces geometry
        course = parse_hierarchy(json.loads(path.read_text()))
        store.replace_course_leaves(course)
        courses[course.course_id] = course
    science = courses[demo_data.SCIENCE]
    rows = store.progress_rows(demo_data.CHILDREN, [science.course_id])
    report = build_report("g", [science], demo_data.CHILDREN, rows)
    maya = report["members"][0]["courses"][0]
    assert maya["batchId"] == demo_data.SCIENCE_AUTUMN and maya["percent"] > 50

    geometry = courses[demo_data.GEOMETRY]
    assert [u.unit_id.rsplit("_", 1)[1] for u in geometry.reported_units] == ["shapes", "angles", "symmetry", "review"]
    users = demo_data.learner_ids()
    report = build_report("g", [geometry], users, store.progress_rows(users, [geometry.course_id]))
    entries = [m["courses"][0] for m in report["members"]]
    percents = [e["percent"] for e in entries]
    assert percents.count(100) >= 10 and percents.count(0) >= 10 and len(set(percents)) >= 8
    # the republished geometry counts its new lesson for those who reported it before it was published
    angles = [next(u for u in e["units"] if u["unitId"].endswith("angles")) for e in entries]
    assert {u["leafCount"] for u in angles} == {4} and max(u["completed"] for u in angles) == 4
    review = [next(u for u in e["units"] if u["unitId"].endswith("review")) for e in entries]
    assert {(u["leafCount"], u["percent"]) for u in review} == {(0, 0)}
