"""The direct JSON writer says exactly what build_report says, for any rows and hierarchies."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.hierarchy import parse_hierarchy
from query_api.progress.compute import build_report
from query_api.progress.json_writer import report_json
from query_api.progress.models import ProgressReport
from query_api.store.base import ProgressRows
from tests.fixtures.courses import FRACTIONS, simple_course

IDS = st.sampled_from(["u1", "u2", 'u"3', "ü4", "u\\5"])
BATCHES = st.sampled_from(["b1", "b2", "b\u00e93"])
COURSES = [
    parse_hierarchy(FRACTIONS),
    parse_hierarchy(simple_course("c2", {"x1": ["a", "b", "c"], "x2": ["c", "d"], "x3": []}, name='Na"me é')),
    parse_hierarchy(simple_course("c3", {})),
]
COURSE_IDS = st.sampled_from([c.course_id for c in COURSES] + ["c_unknown"])
UNITS = st.sampled_from(["do_unit_1", "do_unit_2", "x1", "x2", "x3", "zz"])
ETS = st.integers(min_value=0, max_value=4_102_444_800_000)

course_rows = st.lists(st.tuples(IDS, BATCHES, COURSE_IDS, st.integers(0, 6), ETS), max_size=25)
unit_rows = st.lists(st.tuples(IDS, BATCHES, COURSE_IDS, UNITS, st.integers(1, 6)), max_size=40)


def _dedupe(rows: list[tuple], key_len: int) -> list[tuple]:
    """The store gives one row per key (GROUP BY)."""
    seen: dict[tuple, tuple] = {}
    for row in rows:
        seen.setdefault(row[:key_len], row)
    return list(seen.values())


@settings(max_examples=300, deadline=None)
@given(course_rows, unit_rows, st.lists(IDS, max_size=6), st.permutations(COURSES))
def test_direct_json_equals_the_dict_report(courses: list, units: list, members: list, order: list) -> None:
    rows = ProgressRows(courses=_dedupe(courses, 3), units=_dedupe(units, 4))
    expected = build_report("g\u00e9", order, members, rows)
    written = json.loads(report_json("g\u00e9", order, members, rows))
    assert written == expected
    ProgressReport.model_validate(written)
