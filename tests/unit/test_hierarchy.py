"""Contract section 1: leaves, optional nodes, units."""

from __future__ import annotations

import copy

import pytest

from ingestion.hierarchy import HierarchyError, parse_hierarchy
from tests.fixtures.courses import FRACTIONS


def test_contract_example_counts_two_required_leaves_and_hides_the_optional_unit() -> None:
    course = parse_hierarchy(FRACTIONS)
    assert course.leaf_count == 2
    assert course.leaf_ids == {"do_leaf_1", "do_leaf_2"}
    assert [u.unit_id for u in course.reported_units] == ["do_unit_1"]
    assert course.reported_units[0].leaf_count == 2
    assert course.nodes["do_leaf_3"].optional is True
    assert course.nodes["do_leaf_1"].unit_ids == ("do_unit_1",)
    assert (course.board, course.medium, course.grade_level, course.subject) == (
        "CBSE", ("English",), ("Class 5",), ("Mathematics",))


def test_node_flag_makes_everything_below_it_optional() -> None:
    doc = copy.deepcopy(FRACTIONS)
    doc["relationalMetadata"] = {}
    doc["children"][0]["children"][0]["optional"] = True
    course = parse_hierarchy(doc)
    assert course.leaf_ids == {"do_leaf_2", "do_leaf_3"}


def test_leaf_under_two_units_counts_in_each_and_once_in_the_course() -> None:
    doc = copy.deepcopy(FRACTIONS)
    doc["relationalMetadata"] = {}
    doc["children"][1]["children"].append({"identifier": "do_leaf_1", "mimeType": "video/mp4"})
    course = parse_hierarchy(doc)
    assert course.leaf_count == 3
    assert {u.unit_id: u.leaf_count for u in course.reported_units} == {"do_unit_1": 2, "do_unit_2": 2}
    assert set(course.nodes["do_leaf_1"].unit_ids) == {"do_unit_1", "do_unit_2"}


def test_unit_with_only_optional_leaves_stays_with_zero_leaves() -> None:
    doc = copy.deepcopy(FRACTIONS)
    doc["relationalMetadata"] = {}
    doc["children"][1]["relationalMetadata"] = {"do_leaf_3": {"optional": True}}
    course = parse_hierarchy(doc)
    assert {u.unit_id: u.leaf_count for u in course.reported_units} == {"do_unit_1": 2, "do_unit_2": 0}


def test_deeper_units_give_every_ancestor() -> None:
    doc = copy.deepcopy(FRACTIONS)
    doc["children"][0]["children"].append({
        "identifier": "do_sub", "mimeType": "application/vnd.ekstep.content-collection",
        "children": [{"identifier": "do_leaf_9", "mimeType": "application/pdf"}]})
    course = parse_hierarchy(doc)
    assert course.nodes["do_leaf_9"].ancestor_ids == ("do_unit_1", "do_sub")
    assert course.nodes["do_leaf_9"].unit_ids == ("do_unit_1",)
    assert course.reported_units[0].leaf_count == 3


@pytest.mark.parametrize(("doc", "message"), [
    ([], "JSON object"),
    ({"name": "x"}, "identifier"),
    ({"identifier": "c", "mimeType": "video/mp4"}, "root must be a collection"),
    ({"identifier": "c", "mimeType": "application/vnd.ekstep.content-collection", "children": [{"name": 1}]},
     "children[0]"),
])
def test_bad_documents_name_the_problem(doc: object, message: str) -> None:
    with pytest.raises(HierarchyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_hierarchy(doc)
