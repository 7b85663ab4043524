"""Contract section 3 in the pure computation: percent, best batch, lastActivity, units, idle members."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ingestion.hierarchy import parse_hierarchy
from query_api.progress.compute import best_batches, build_report, iso_utc, percent
from query_api.progress.models import ProgressReport
from query_api.store.base import CourseProgressRow as C
from query_api.store.base import ProgressRows
from query_api.store.base import UnitProgressRow as U
from tests.fixtures.courses import FRACTIONS, simple_course

T0 = 1732500000000  # 2024-11-25T02:00:00Z


def test_percent_rounds_down_caps_at_100_and_is_0_without_leaves() -> None:
    assert percent(1, 3) == 33
    assert percent(2, 3) == 66
    assert percent(3, 3) == 100
    assert percent(5, 3) == 100
    assert percent(0, 0) == 0
    assert percent(4, 0) == 0


def test_last_activity_is_iso_8601_utc_in_whole_seconds() -> None:
    assert iso_utc(T0) == "2024-11-25T02:00:00Z"
    assert iso_utc(T0 + 999) == "2024-11-25T02:00:00Z"
    assert iso_utc(None) is None


def test_best_batch_has_most_completed_even_when_another_batch_is_more_recent() -> None:
    best = best_batches([C("u", "b_old", "c", 3, T0), C("u", "b_new", "c", 1, T0 + 10_000)])
    assert best[("u", "c")].batch_id == "b_old"
    assert best[("u", "c")].completed == 3


def test_tie_on_completed_goes_to_the_batch_with_the_latest_activity_in_any_row_order() -> None:
    rows = [C("u", "b1", "c", 2, T0 + 5), C("u", "b2", "c", 2, T0 + 9), C("u", "b3", "c", 2, T0 + 1)]
    for ordering in (rows, rows[::-1], [rows[1], rows[0], rows[2]]):
        assert best_batches(ordering)[("u", "c")].batch_id == "b2"


def test_full_tie_is_broken_by_the_smallest_batch_id_for_a_stable_answer() -> None:
    rows = [C("u", "b9", "c", 2, T0), C("u", "b1", "c", 2, T0)]
    assert best_batches(rows)[("u", "c")].batch_id == "b1"
    assert best_batches(rows[::-1])[("u", "c")].batch_id == "b1"


def test_last_activity_is_the_latest_over_all_batches_not_only_the_chosen_one() -> None:
    best = best_batches([C("u", "b_best", "c", 5, T0), C("u", "b_other", "c", 0, T0 + 3_600_000)])
    assert best[("u", "c")].batch_id == "b_best"
    assert best[("u", "c")].last_ets == T0 + 3_600_000


def _course_two_units():  # type: ignore[no-untyped-def]
    return parse_hierarchy(simple_course("c", {"u1": ["x1", "x2"], "u2": ["x3", "x4", "x5"]}, name="Course"))


def test_unit_figures_come_from_the_best_batch_never_from_another_batch() -> None:
    course = _course_two_units()
    rows = ProgressRows(
        courses=[C("m", "b1", "c", 2, T0), C("m", "b2", "c", 1, T0 + 1)],
        units=[U("m", "b1", "c", "u1", 2), U("m", "b2", "c", "u2", 1)],
    )
    report = build_report("g", [course], ["m"], rows)
    entry = report["members"][0]["courses"][0]
    assert entry["batchId"] == "b1"
    assert entry["units"] == [
        {"unitId": "u1", "completed": 2, "leafCount": 2, "percent": 100},
        {"unitId": "u2", "completed": 0, "leafCount": 3, "percent": 0},
    ]


def test_report_matches_the_contract_example_and_model() -> None:
    course = parse_hierarchy(FRACTIONS)
    rows = ProgressRows(courses=[C("u_7", "b_101", "do_course_1", 1, T0)],
                        units=[U("u_7", "b_101", "do_course_1", "do_unit_1", 1)])
    report = build_report("g_1", [course], ["u_7"], rows)
    assert report == {
        "groupId": "g_1",
        "courses": [{"courseId": "do_course_1", "name": "Fractions", "leafCount": 2,
                     "units": [{"unitId": "do_unit_1", "name": "Halves", "leafCount": 2}]}],
        "members": [{"userId": "u_7",
                     "courses": [{"courseId": "do_course_1", "batchId": "b_101", "completed": 1, "leafCount": 2,
                                  "percent": 50, "lastActivity": "2024-11-25T02:00:00Z",
                                  "units": [{"unitId": "do_unit_1", "completed": 1, "leafCount": 2,
                                             "percent": 50}]}]}],
    }
    ProgressReport.model_validate(report)


def test_members_without_activity_get_zeros_and_nulls_and_rows_are_in_user_id_order() -> None:
    course = _course_two_units()
    rows = ProgressRows(courses=[C("b_user", "b1", "c", 5, T0)], units=[])
    report = build_report("g", [course], ["c_user", "b_user", "a_user", "b_user"], rows)
    assert [m["userId"] for m in report["members"]] == ["a_user", "b_user", "c_user"]
    idle = report["members"][0]["courses"][0]
    assert idle == {"courseId": "c", "batchId": None, "completed": 0, "leafCount": 5, "percent": 0,
                    "lastActivity": None,
                    "units": [{"unitId": "u1", "completed": 0, "leafCount": 2, "percent": 0},
                              {"unitId": "u2", "completed": 0, "leafCount": 3, "percent": 0}]}
    ProgressReport.model_validate(report)


def test_activity_without_completions_still_names_the_batch() -> None:
    course = _course_two_units()
    report = build_report("g", [course], ["m"], ProgressRows(courses=[C("m", "b1", "c", 0, T0)], units=[]))
    entry = report["members"][0]["courses"][0]
    assert (entry["batchId"], entry["completed"], entry["percent"], entry["lastActivity"]) == (
        "b1", 0, 0, "2024-11-25T02:00:00Z")


def test_courses_keep_the_configured_order_and_optional_units_are_left_out() -> None:
    first = parse_hierarchy(simple_course("z_course", {"u": ["a"]}))
    second = parse_hierarchy(FRACTIONS)
    report = build_report("g", [first, second], [], ProgressRows([], []))
    assert [c["courseId"] for c in report["courses"]] == ["z_course", "do_course_1"]
    assert [u["unitId"] for u in report["courses"][1]["units"]] == ["do_unit_1"]
    assert report["members"] == []


@given(st.integers(min_value=0, max_value=32503680000000))
def test_fast_iso_formatting_agrees_with_strftime(ets_ms: int) -> None:
    expected = datetime.fromtimestamp(ets_ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert iso_utc(ets_ms) == expected
