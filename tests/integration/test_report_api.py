"""The Progress Report through the API (contracts.md section 6): shape, access, CSV, filters, the course list,
a republish through the catalog, and a store that is down (SQLite and PostgreSQL metadata, real DuckDB)."""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest
from flask import Flask

from ingestion.sinks.duckdb_conn import open_duckdb
from query_api.progress.models import ProgressReport
from query_api.store.base import ProgressRows, StoreTimeout
from query_api.store.duckdb_store import DuckDBStore
from tests.api_fixtures import *  # noqa: F403
from tests.api_fixtures import Api
from tests.fixtures.courses import FRACTIONS, simple_course
from tests.fixtures.progress_state import StateEvent as E
from tests.fixtures.progress_state import apply_events

pytestmark = pytest.mark.integration

T0 = 1732500000000  # 2024-11-25T02:00:00Z
DAY = 86_400_000
GEOMETRY = simple_course("do_geo", {"do_geo_u1": ["g1", "g2"], "do_geo_u2": ["g3", "g4"]}, name="=Geometry",
                         board="CBSE", subject=["Mathematics"])
SCIENCE = simple_course("do_sci", {"do_sci_u1": ["s1"]}, name="Science", board="ICSE", subject=["Science"])


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_duckdb(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def api_for(make_app: Callable[..., Flask], auth: Any) -> Callable[..., Api]:
    def build(store: Any) -> Api:
        app = make_app(analytics=store, max_members_per_group=500)
        return Api(app.test_client(), auth)

    return build


class Setup:
    def __init__(self, api: Api, conn: duckdb.DuckDBPyConnection) -> None:
        self.api, self.conn = api, conn
        for doc in (FRACTIONS, GEOMETRY, SCIENCE):
            assert api.put(f"/v1/courses/{doc['identifier']}/hierarchy", "ops", operator=True, json=doc).status_code \
                == 201
        self.group = api.group("mentor", members=[{"userId": u} for u in ("u_b", "u_a", "u_c")]
                               + [{"userId": "co_mentor", "role": "admin"}])
        self.link({"courseIds": ["do_course_1", "do_geo"]})

    def link(self, config: dict[str, Any]) -> None:
        response = self.api.put(f"/v1/groups/{self.group}/plugins/progress-report", "mentor", json={"config": config})
        assert response.status_code in (200, 201), response.json

    @property
    def base(self) -> str:
        return f"/v1/groups/{self.group}/plugins/progress-report"

    def report(self, user: str = "mentor", query: str = "") -> Any:
        return self.api.get(f"{self.base}/report{query}", user)


@pytest.fixture
def s(api_for: Callable[..., Api], conn: duckdb.DuckDBPyConnection) -> Setup:
    setup = Setup(api_for(DuckDBStore(conn)), conn)
    apply_events(conn, [
        E("u_a", "b_1", "do_course_1", T0, {"do_leaf_1": 2}),
        E("u_a", "b_1", "do_course_1", T0 + 1000, {"do_leaf_1": 1}),  # status never goes down
        E("u_a", "b_2", "do_course_1", T0 + DAY, {}),  # a later batch with activity only
        E("u_b", "b_1", "do_geo", T0 - 10 * DAY, {"g1": 2, "g2": 2, "g3": 2, "g4": 2}),
        E("co_mentor", "b_1", "do_geo", T0, {"g1": 2}),  # admins are not rows
        E("outsider", "b_1", "do_geo", T0, {"g1": 2}),  # not a member
    ])
    return setup


def test_report_has_the_contract_shape_rows_and_best_batches(s: Setup) -> None:
    response = s.report()
    assert response.status_code == 200
    data = response.json
    ProgressReport.model_validate(data)
    assert data["groupId"] == s.group
    assert data["courses"] == [
        {"courseId": "do_course_1", "name": "Fractions", "leafCount": 2,
         "units": [{"unitId": "do_unit_1", "name": "Halves", "leafCount": 2}]},
        {"courseId": "do_geo", "name": "=Geometry", "leafCount": 4,
         "units": [{"unitId": "do_geo_u1", "name": "do_geo_u1", "leafCount": 2},
                   {"unitId": "do_geo_u2", "name": "do_geo_u2", "leafCount": 2}]}]
    assert [m["userId"] for m in data["members"]] == ["u_a", "u_b", "u_c"]
    u_a = data["members"][0]["courses"]
    assert u_a[0] == {"courseId": "do_course_1", "batchId": "b_1", "completed": 1, "leafCount": 2, "percent": 50,
                      "lastActivity": "2024-11-26T02:00:00Z",
                      "units": [{"unitId": "do_unit_1", "completed": 1, "leafCount": 2, "percent": 50}]}
    assert u_a[1]["batchId"] is None and u_a[1]["lastActivity"] is None and u_a[1]["percent"] == 0
    assert data["members"][1]["courses"][1]["percent"] == 100
    assert all(c["completed"] == 0 and c["batchId"] is None for c in data["members"][2]["courses"])


def test_access_rules(s: Setup) -> None:
    assert s.report(user="outsider").status_code == 404
    assert s.api.get(f"{s.base}/report", None).status_code == 401
    own = s.report(user="u_b").json
    assert [m["userId"] for m in own["members"]] == ["u_b"]
    assert [m["userId"] for m in s.report(user="co_mentor").json["members"]] == ["u_a", "u_b", "u_c"]
    s.link({"courseIds": ["do_course_1", "do_geo"], "membersSeeAll": True})
    assert [m["userId"] for m in s.report(user="u_b").json["members"]] == ["u_a", "u_b", "u_c"]


def test_a_group_without_the_plugin_has_no_report(s: Setup) -> None:
    other = s.api.group("mentor", name="Other", members=[{"userId": "u_a"}])
    response = s.api.get(f"/v1/groups/{other}/plugins/progress-report/report", "mentor")
    assert response.status_code == 404 and response.json["error"]["code"] == "plugin_not_linked"


def test_csv_has_one_row_per_member_and_course_and_defuses_formulas(s: Setup) -> None:
    response = s.report(query="?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["userId"], r["courseId"]) for r in rows] == [
        (u, c) for u in ("u_a", "u_b", "u_c") for c in ("do_course_1", "do_geo")]
    assert rows[0] == {"userId": "u_a", "courseId": "do_course_1", "courseName": "Fractions", "batchId": "b_1",
                       "completed": "1", "leafCount": "2", "percent": "50", "lastActivity": "2024-11-26T02:00:00Z"}
    assert rows[1]["courseName"] == "'=Geometry" and rows[1]["batchId"] == "" and rows[1]["lastActivity"] == ""


@pytest.mark.parametrize(("query", "expected"), [
    ("?status=completed", ["u_b"]),
    ("?status=in-progress", ["u_a"]),
    ("?status=not-started", ["u_a", "u_b", "u_c"]),
    ("?courseId=do_geo&status=not-started", ["u_a", "u_c"]),
    ("?inactiveDays=3650", ["u_c"]),
    ("?inactiveDays=0", ["u_a", "u_b", "u_c"]),
])
def test_filters(s: Setup, query: str, expected: list[str]) -> None:
    response = s.report(query=query)
    assert response.status_code == 200, response.json
    assert [m["userId"] for m in response.json["members"]] == expected


def test_course_filter_shows_only_that_course_and_must_be_configured(s: Setup) -> None:
    data = s.report(query="?courseId=do_geo").json
    assert [c["courseId"] for c in data["courses"]] == ["do_geo"]
    assert all([c["courseId"] for c in m["courses"]] == ["do_geo"] for m in data["members"])
    bad = s.report(query="?courseId=do_sci")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "course_not_configured"
    assert s.report(query="?status=finished").status_code == 422
    assert s.report(query="?inactiveDays=-1").status_code == 422
    assert s.report(query="?colour=red").status_code == 422


def test_course_list_search_add_and_remove(s: Setup) -> None:
    listed = s.api.get(f"{s.base}/courses", "u_a").json
    assert [c["courseId"] for c in listed["courses"]] == ["do_course_1", "do_geo"] and listed["canEdit"] is False
    found = s.api.get(f"{s.base}/courses/search?board=icse", "mentor").json
    assert [(c["courseId"], c["configured"]) for c in found["courses"]] == [("do_sci", False)]
    found = s.api.get(f"{s.base}/courses/search?subject=Mathematics", "mentor").json
    assert {(c["courseId"], c["configured"]) for c in found["courses"]} == {("do_geo", True), ("do_course_1", True)}

    assert s.api.post(f"{s.base}/courses", "u_a", json={"courseId": "do_sci"}).status_code == 403
    unknown = s.api.post(f"{s.base}/courses", "mentor", json={"courseId": "do_nope"})
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "unknown_course"
    added = s.api.post(f"{s.base}/courses", "mentor", json={"courseId": "do_sci"})
    assert added.status_code == 200 and added.json["courseIds"] == ["do_course_1", "do_geo", "do_sci"]
    assert [c["courseId"] for c in s.report().json["courses"]] == ["do_course_1", "do_geo", "do_sci"]

    assert s.api.delete(f"{s.base}/courses/do_geo", "mentor").json["courseIds"] == ["do_course_1", "do_sci"]
    assert s.api.delete(f"{s.base}/courses/do_geo", "mentor").status_code == 422
    s.api.delete(f"{s.base}/courses/do_sci", "mentor")
    last = s.api.delete(f"{s.base}/courses/do_course_1", "mentor")
    assert last.status_code == 409 and last.json["error"]["code"] == "last_course"


def test_a_republish_through_the_catalog_changes_the_report(s: Setup) -> None:
    republished = copy.deepcopy(GEOMETRY)
    republished["children"][1]["children"] = republished["children"][1]["children"][:1]  # g4 removed
    republished["children"].append({"identifier": "do_geo_u3", "name": "New", "mimeType": FRACTIONS["mimeType"],
                                    "children": [{"identifier": "g9", "mimeType": "video/mp4"}]})
    apply_events(s.conn, [E("u_c", "b_1", "do_geo", T0, {"g9": 2})])  # reported before the republish
    assert s.report(query="?courseId=do_geo").json["members"][2]["courses"][0]["completed"] == 0
    assert s.api.put("/v1/courses/do_geo/hierarchy", "ops", operator=True, json=republished).status_code == 200
    data = s.report(query="?courseId=do_geo").json
    assert data["courses"][0]["leafCount"] == 4
    u_b, u_c = data["members"][1]["courses"][0], data["members"][2]["courses"][0]
    assert (u_b["completed"], u_b["percent"]) == (3, 75)
    assert (u_c["completed"], [u["completed"] for u in u_c["units"]]) == (1, [0, 0, 1])


def test_a_store_that_is_down_gives_503(api_for: Callable[..., Api]) -> None:
    connection = open_duckdb(":memory:")
    setup = Setup(api_for(DuckDBStore(connection)), connection)
    connection.close()
    response = setup.report()
    assert response.status_code == 503
    assert response.json["error"]["code"] == "analytics_unavailable"


class _SlowStore(DuckDBStore):
    def progress_rows(self, user_ids: Any, course_ids: Any) -> ProgressRows:
        raise StoreTimeout("the analytics query ran past 5 s")

    def progress_json(self, group_id: Any, courses: Any, user_ids: Any) -> bytes:
        raise StoreTimeout("the analytics query ran past 5 s")


def test_a_store_timeout_gives_503(api_for: Callable[..., Api]) -> None:
    connection = open_duckdb(":memory:")
    setup = Setup(api_for(_SlowStore(connection)), connection)
    response = setup.report()
    assert response.status_code == 503
    assert response.json["error"] == {"code": "analytics_unavailable",
                                      "message": "the analytics store cannot answer right now; try again shortly",
                                      "details": {"store": "analytics", "timeout": True}}
