"""Catalog: PUT hierarchies (republish replaces), facet and text search with pagination (SQLite + PostgreSQL)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import duckdb

from ingestion.hierarchy import CourseHierarchy, parse_hierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from query_api import db
from query_api.blueprints.catalog import refresh_analytics_leaves
from query_api.db import session_scope
from query_api.models import Course
from query_api.services.catalog import Stored, sync_analytics_leaves
from query_api.store.base import AnalyticsStore
from query_api.store.duckdb_store import DuckDBStore
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api
from tests.fixtures.courses import FRACTIONS, simple_course


def put(api: Api, doc: dict[str, Any]) -> Any:
    return api.put(f"/v1/courses/{doc['identifier']}/hierarchy", "ops", operator=True, json=doc)


def test_put_stores_reads_back_and_republish_replaces(api: Api) -> None:
    first = put(api, FRACTIONS)
    assert first.status_code == 201 and first.json["changed"] is True
    course = first.json["course"]
    assert (course["courseId"], course["leafCount"], course["version"]) == ("do_course_1", 2, 1)
    assert [(u["unitId"], u["optional"]) for u in course["units"]] == [("do_unit_1", False), ("do_unit_2", True)]
    same = put(api, FRACTIONS)
    assert same.status_code == 200 and same.json["changed"] is False and same.json["course"]["version"] == 1
    republished = copy.deepcopy(FRACTIONS)
    republished["relationalMetadata"] = {}
    again = put(api, republished)
    assert again.json["changed"] is True and again.json["course"]["version"] == 2
    assert again.json["course"]["leafCount"] == 3
    assert api.get("/v1/courses/do_course_1/hierarchy", "anyone").json == republished


def test_platform_read_api_wrapper_is_accepted(api: Api) -> None:
    response = api.put("/v1/courses/do_course_1/hierarchy", "ops", operator=True,
                       json={"result": {"content": FRACTIONS}})
    assert response.status_code == 201


def test_only_operators_load_hierarchies(api: Api) -> None:
    response = api.put("/v1/courses/do_course_1/hierarchy", "u_1", json=FRACTIONS)
    assert response.status_code == 403 and response.json["error"]["code"] == "operator_required"


def test_bad_hierarchies_are_422_naming_the_problem(api: Api) -> None:
    bad_child = simple_course("c1", {"u": ["l"]})
    bad_child["children"][0]["children"] = "nope"
    cases = [({"identifier": "c1", "mimeType": "video/mp4"}, "invalid_hierarchy"),
             (bad_child, "invalid_hierarchy"),
             (simple_course("other", {"u": ["l"]}), "id_mismatch"),
             ([1, 2], "invalid_hierarchy")]
    for doc, code in cases:
        response = api.put("/v1/courses/c1/hierarchy", "ops", operator=True, json=doc)
        assert response.status_code == 422 and response.json["error"]["code"] == code, response.json
    garbled = api.put("/v1/courses/c1/hierarchy", "ops", operator=True, data="{", content_type="application/json")
    assert garbled.status_code == 422 and garbled.json["error"]["code"] == "invalid_json"


def test_search_by_facets_text_and_pages(api: Api) -> None:
    put(api, FRACTIONS)
    put(api, simple_course("do_geo", {"u": ["a"]}, name="Geometry 100%", board="CBSE", medium=["Hindi"],
                           gradeLevel=["Class 6"], subject=["Mathematics"]))
    put(api, simple_course("do_sci", {"u": ["a"]}, name="Plants", board="State", medium="English",
                           gradeLevel=["Class 5"], subject=["Science"]))

    def ids(**params: Any) -> list[str]:
        response = api.get("/v1/courses", "u_1", query_string=params)
        assert response.status_code == 200, response.json
        return [c["courseId"] for c in response.json["courses"]]

    assert ids(board="cbse") == ["do_course_1", "do_geo"]
    assert ids(medium="English") == ["do_course_1", "do_sci"]
    assert ids(gradeLevel="Class 5", subject="Science") == ["do_sci"]
    assert ids(q="fract") == ["do_course_1"]
    assert ids(q="100%") == ["do_geo"]  # LIKE wildcards are escaped
    assert ids(q="ry_1") == []  # "_" is not a wildcard (it would match "Geometry 100%")
    page = api.get("/v1/courses", "u_1", query_string={"limit": 2, "offset": 2}).json
    assert page["count"] == 3 and [c["courseId"] for c in page["courses"]] == ["do_sci"]
    for bad in ({"limit": 0}, {"limit": "many"}, {"offset": -1}, {"color": "red"}):
        assert api.get("/v1/courses", "u_1", query_string=bad).status_code == 422, bad
    assert api.get("/v1/courses/do_missing", "u_1").json["error"]["code"] == "course_not_found"


class RecordingAnalytics:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[CourseHierarchy] = []
        self.fail = fail

    def replace_course_leaves(self, course: CourseHierarchy) -> None:
        if self.fail:
            raise RuntimeError("store is down")
        self.calls.append(course)

    def stale_courses(self, courses: list[CourseHierarchy]) -> list[str]:
        return []  # holds every course it was given


def test_storing_a_hierarchy_refreshes_the_analytics_leaves(make_app: Any, auth: Any) -> None:
    analytics = RecordingAnalytics()
    client = make_app(analytics=analytics).test_client()
    headers = auth("ops", operator=True)
    client.put("/v1/courses/do_course_1/hierarchy", headers=headers, json=FRACTIONS)
    client.put("/v1/courses/do_course_1/hierarchy", headers=headers, json=FRACTIONS)  # unchanged: no call
    assert [c.leaf_ids for c in analytics.calls] == [frozenset({"do_leaf_1", "do_leaf_2"})]


def test_an_analytics_failure_is_a_503_not_a_500(make_app: Any, auth: Any) -> None:
    client = make_app(analytics=RecordingAnalytics(fail=True)).test_client()
    response = client.put("/v1/courses/do_course_1/hierarchy", headers=auth("ops", operator=True), json=FRACTIONS)
    assert response.status_code == 503 and response.json["error"]["code"] == "analytics_unavailable"


def _held(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    return conn.execute("""SELECT p.course_id, (SELECT count(*) FROM course_leaves l WHERE l.course_id = p.course_id),
                                  (SELECT count(*) FROM unit_leaves u WHERE u.course_id = p.course_id)
                           FROM course_plan p ORDER BY 1""").fetchall()


def _forget_leaves(conn: duckdb.DuckDBPyConnection) -> None:
    """What a store written before course_plan existed, or rebuilt beside an older catalog, looks like."""
    for table in ("course_plan", "course_leaves", "unit_leaves"):
        conn.execute(f"DELETE FROM {table}")


def test_the_same_hierarchy_again_rewrites_leaves_the_store_does_not_hold(make_app: Any, auth: Any) -> None:
    """The 503's advice ("send the same hierarchy again") works: an unchanged document is written to a store
    that lacks its leaves or plan, and is not written again once the store holds them."""
    conn = open_duckdb(":memory:")
    store = DuckDBStore(conn, timeout_s=5)
    client = make_app(analytics=store).test_client()
    headers = auth("ops", operator=True)
    assert client.put("/v1/courses/do_course_1/hierarchy", headers=headers, json=FRACTIONS).status_code == 201
    held = _held(conn)
    assert held == [("do_course_1", 2, 2)]
    _forget_leaves(conn)
    response = client.put("/v1/courses/do_course_1/hierarchy", headers=headers, json=FRACTIONS)
    assert response.status_code == 200 and response.json["changed"] is False
    assert _held(conn) == held
    assert store.stale_courses([_hierarchy(FRACTIONS)]) == []


def test_a_store_with_other_leaves_under_the_same_counts_is_stale() -> None:
    """The plan's signature has only ids and counts: a swapped leaf must still be noticed."""
    store = DuckDBStore(open_duckdb(":memory:"), timeout_s=5)
    old = simple_course("do_s", {"u1": ["l1", "l2"]})
    swapped = simple_course("do_s", {"u1": ["l1", "l3"]})
    assert store.stale_courses([_hierarchy(old)]) == ["do_s"]
    store.replace_course_leaves(_hierarchy(old))
    assert store.stale_courses([_hierarchy(old)]) == []
    assert store.stale_courses([_hierarchy(swapped)]) == ["do_s"]
    assert store.stale_courses([]) == []


def test_start_up_sync_brings_every_stale_course_up_to_date(make_app: Any, auth: Any) -> None:
    conn = open_duckdb(":memory:")
    store = DuckDBStore(conn, timeout_s=5)
    app = make_app(analytics=store)
    client = app.test_client()
    headers = auth("ops", operator=True)
    other = simple_course("do_other", {"u1": ["l1", "l2", "l3"]})
    for doc in (FRACTIONS, other):
        client.put(f"/v1/courses/{doc['identifier']}/hierarchy", headers=headers, json=doc)
    held = _held(conn)
    conn.execute("DELETE FROM course_plan WHERE course_id = 'do_other'")
    factory = app.extensions["lpa.db"].session_factory
    with session_scope(factory) as session:
        assert sync_analytics_leaves(session, store, chunk=1) == (["do_other"], {})
    assert _held(conn) == held
    _forget_leaves(conn)
    with session_scope(factory) as session:
        assert sync_analytics_leaves(session, store) == (["do_course_1", "do_other"], {})
        assert sync_analytics_leaves(session, store) == ([], {})
    assert _held(conn) == held


class FailingFor(DuckDBStore):
    """A DuckDB store that cannot take one course's leaves (a timeout, say)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, course_id: str) -> None:
        super().__init__(conn, timeout_s=5)
        self.course_id = course_id

    def replace_course_leaves(self, course: CourseHierarchy) -> None:
        if course.course_id == self.course_id:
            raise RuntimeError("took too long")
        super().replace_course_leaves(course)


def test_start_up_sync_goes_on_past_a_course_the_store_cannot_take(make_app: Any, auth: Any) -> None:
    conn = open_duckdb(":memory:")
    app = make_app(analytics=DuckDBStore(conn, timeout_s=5))
    headers = auth("ops", operator=True)
    for doc in (FRACTIONS, simple_course("do_other", {"u1": ["l1"]})):
        app.test_client().put(f"/v1/courses/{doc['identifier']}/hierarchy", headers=headers, json=doc)
    _forget_leaves(conn)
    with session_scope(app.extensions["lpa.db"].session_factory) as session:
        synced, failed = sync_analytics_leaves(session, FailingFor(conn, "do_course_1"))
    assert synced == ["do_other"] and failed == {"do_course_1": "RuntimeError: took too long"}


def test_start_up_sync_leaves_an_adapter_that_cannot_tell_alone(make_app: Any, auth: Any) -> None:
    """Druid's adapter does not override stale_courses: nothing is parsed or rewritten at start-up."""

    class Blind(RecordingAnalytics, AnalyticsStore):
        progress_rows = ping = None  # type: ignore[assignment]

    app = make_app(analytics=RecordingAnalytics())
    app.test_client().put("/v1/courses/do_course_1/hierarchy", headers=auth("ops", operator=True), json=FRACTIONS)
    blind = Blind()
    with session_scope(app.extensions["lpa.db"].session_factory) as session:
        assert sync_analytics_leaves(session, blind) == ([], {})
    assert blind.calls == []


def test_a_repeated_unit_id_is_held_once_and_not_stale_after_writing() -> None:
    """The parser gives every copy of a repeated unit id the same leaves; the store keeps them once."""
    doc = simple_course("do_rep", {"u1": ["l1", "l2"]})
    doc["children"].append(copy.deepcopy(doc["children"][0]))
    course = parse_hierarchy(doc)
    assert [u.unit_id for u in course.reported_units] == ["u1", "u1"]
    store = DuckDBStore(open_duckdb(":memory:"), timeout_s=5)
    store.replace_course_leaves(course)
    assert store.stale_courses([course]) == []


def _hierarchy(doc: dict[str, Any]) -> CourseHierarchy:
    return parse_hierarchy(doc)


def test_a_late_write_puts_the_latest_committed_hierarchy_not_its_own(make_app: Any, auth: Any) -> None:
    """Two PUTs of one course race: the one that read the older version writes its leaves last. What it
    writes is the catalog's latest committed hierarchy, so the store does not go back to the older one."""
    conn = open_duckdb(":memory:")
    store = DuckDBStore(conn, timeout_s=5)
    app = make_app(analytics=store)
    client = app.test_client()
    headers = auth("ops", operator=True)
    old = simple_course("do_r", {"u1": ["l1", "l2"]})
    new = simple_course("do_r", {"u1": ["l1", "l3", "l4"]})
    client.put("/v1/courses/do_r/hierarchy", headers=headers, json=old)
    client.put("/v1/courses/do_r/hierarchy", headers=headers, json=new)
    held = _held(conn)
    assert held == [("do_r", 3, 3)]
    # what the late request holds: the course row as it stored it (the old document's hash), its hierarchy
    old_hash = hashlib.sha256(json.dumps(old, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    late_row = Course(id="do_r", content_hash=old_hash)
    with app.test_request_context():
        assert db.session().get(Course, "do_r").content_hash != old_hash  # type: ignore[union-attr]
        for changed in (False, True):  # a resend of the old document, and the old republish itself
            _forget_leaves(conn)
            refresh_analytics_leaves(Stored(late_row, parse_hierarchy(old), changed))
            assert _held(conn) == held
            assert store.stale_courses([parse_hierarchy(new)]) == []


def test_a_course_missing_from_the_catalog_is_the_same_placeholder_each_time(make_app: Any, auth: Any) -> None:
    """Shown with no leaves, and the same object report after report: the store's statement cache is keyed by
    the courses' identity, and a new placeholder per request would miss it every time."""
    from query_api.plugins.progress_report.report import hierarchies

    app = make_app(analytics=RecordingAnalytics())
    app.test_client().put("/v1/courses/do_course_1/hierarchy", headers=auth("ops", operator=True), json=FRACTIONS)
    with app.test_request_context():
        first = hierarchies(db.session(), ["do_course_1", "do_gone"])
        again = hierarchies(db.session(), ["do_course_1", "do_gone"])
    assert [c.course_id for c in first] == ["do_course_1", "do_gone"] and first[1].leaf_count == 0
    assert first[0] is again[0] and first[1] is again[1]
