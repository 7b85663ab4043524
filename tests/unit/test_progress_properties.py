"""Contract section 3, property-tested through the real path against a naive oracle written here.

Random hierarchies (units, nested collections, optional flags by node flag and by the parent's
relationalMetadata, leaves shared between units and courses, leaves straight under the root) and random event
streams (several learners and batches, statuses 0/1/2, out-of-order ets, duplicates, contents outside the
hierarchy or naming a collection, empty contents, assessment events, events rejected whole) go through
parse -> enrich -> DuckDBSink (in-memory DuckDB) -> DuckDBStore -> query_api.progress -> report, and the
report must equal what the oracle computes straight from the contract's words. The oracle deliberately does
not use ingestion.hierarchy or query_api.progress.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.enrich import enrich, event_id_for
from ingestion.events import EventRejected, decode_event, validate_event
from ingestion.hierarchy import CourseHierarchy
from ingestion.sinks.duckdb_conn import open_duckdb
from ingestion.sinks.duckdb_sink import DeadLetter, DuckDBSink, SinkBatch
from query_api.progress.compute import build_report
from query_api.progress.json_writer import report_json
from query_api.progress.models import ProgressReport
from query_api.store.duckdb_store import DuckDBStore
from tests.fixtures.courses import FRACTIONS

COLLECTION = "application/vnd.ekstep.content-collection"
T0 = 1732500000000
COURSES = ("do_c1", "do_c2")
LEAVES = tuple(f"do_leaf_{i}" for i in range(8))
USERS = ("u_1", "u_2", "u_3")
IDLE_USER = "u_idle"  # a member with no activity at all
BATCHES = ("b_1", "b_2", "b_3")
PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- hierarchies ------------------------------------------------------------------------------------------------

OPT_MODES = ("none", "none", "flag", "rel")  # how a node is made optional (none twice: mostly required)


@st.composite
def _placed(draw: st.DrawFn, ids: tuple[str, ...]) -> tuple[str, str]:
    return draw(st.sampled_from(ids)), draw(st.sampled_from(OPT_MODES))


def _node(node_id: str, mode: str, relational: dict[str, Any], children: list[dict] | None) -> dict[str, Any]:
    node: dict[str, Any] = {"identifier": node_id, "name": node_id.upper(),
                            "mimeType": COLLECTION if children is not None else "video/mp4"}
    if children is not None:
        node["children"] = children
    if mode == "flag":
        node["optional"] = True
    elif mode == "rel":
        relational[node_id] = {"optional": True}
    return node


@st.composite
def hierarchies(draw: st.DrawFn, course_id: str) -> dict[str, Any]:
    """A platform collection document: 0-3 units, each with leaves and maybe one nested collection."""
    root_rel: dict[str, Any] = {}
    children = []
    for i in range(draw(st.integers(0, 3))):
        unit_rel: dict[str, Any] = {}
        unit_children = [_node(leaf, mode, unit_rel, None)
                         for leaf, mode in draw(st.lists(_placed(LEAVES), max_size=4))]
        if draw(st.booleans()):
            sub_rel: dict[str, Any] = {}
            placed = draw(st.lists(_placed(LEAVES), max_size=3))
            sub_leaves = [_node(leaf, mode, sub_rel, None) for leaf, mode in placed]
            sub = _node(f"{course_id}_u{i}_s", draw(st.sampled_from(OPT_MODES)), unit_rel, sub_leaves)
            if sub_rel:
                sub["relationalMetadata"] = sub_rel
            unit_children.insert(draw(st.integers(0, len(unit_children))), sub)
        unit = _node(f"{course_id}_u{i}", draw(st.sampled_from(OPT_MODES)), root_rel, unit_children)
        if unit_rel:
            unit["relationalMetadata"] = unit_rel
        children.append(unit)
    children += [_node(leaf, mode, root_rel, None) for leaf, mode in draw(st.lists(_placed(LEAVES), max_size=2))]
    doc = {"identifier": course_id, "name": f"Course {course_id}", "mimeType": COLLECTION, "children": children}
    if root_rel:
        doc["relationalMetadata"] = root_rel
    return doc


@dataclass(frozen=True)
class OracleCourse:
    """What contract section 1 says a document means, computed without ingestion.hierarchy."""

    course_id: str
    name: str
    leaves: frozenset[str]
    units: tuple[tuple[str, str, frozenset[str]], ...]  # reported units: (id, name, leaves), document order


def oracle_course(doc: dict[str, Any]) -> OracleCourse:
    required: set[str] = set()
    units: list[tuple[str, str, bool, set[str]]] = []

    def walk(node: dict[str, Any], optional: bool, unit: list | None) -> None:
        if node["mimeType"] != COLLECTION:
            if not optional:
                required.add(node["identifier"])
                if unit is not None:
                    unit[3].add(node["identifier"])
            return
        rel = node.get("relationalMetadata", {})
        for child in node.get("children", []):
            child_optional = (optional or child.get("optional") is True
                              or rel.get(child["identifier"], {}).get("optional") is True)
            child_unit = unit
            if node is doc and child["mimeType"] == COLLECTION:  # a collection child of the root is a unit
                child_unit = [child["identifier"], child["name"], child_optional, set()]
                units.append(child_unit)  # type: ignore[arg-type]
            walk(child, child_optional, child_unit)

    walk(doc, False, None)
    return OracleCourse(doc["identifier"], doc["name"], frozenset(required),
                        tuple((uid, name, frozenset(leaves)) for uid, name, opt, leaves in units if not opt))


# -- events -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ev:
    """One generated event; `bad` ones carry an invalid item (status 3) and must be rejected whole."""

    kind: str  # state | assessment
    user: str
    batch: str
    course: str
    ets: int
    contents: tuple[tuple[str, int], ...] = ()
    bad: bool = False

    def to_json(self, serial: int) -> bytes:
        if self.kind == "assessment":
            edata: dict[str, Any] = {"batchId": self.batch, "courseId": self.course, "userId": self.user,
                                     "contentId": LEAVES[0], "attemptId": f"a{serial}", "score": 1.0,
                                     "maxScore": 2.0}
            return orjson.dumps({"eid": "LPA_ASSESSMENT", "ets": self.ets, "mid": "m", "edata": edata})
        contents = [{"contentId": c, "status": s} for c, s in self.contents]
        if self.bad:
            contents.append({"contentId": LEAVES[0], "status": 3})
        # mid reused on purpose: the platform reuses mids, the event id comes from the content
        return orjson.dumps({"eid": "BE_JOB_REQUEST", "ets": self.ets, "mid": "LP.1",
                             "actor": {"id": "Course Batch Updater", "type": "System"},
                             "edata": {"action": "batch-enrolment-update", "iteration": 1, "batchId": self.batch,
                                       "userId": self.user, "courseId": self.course, "contents": contents}})


CONTENT_IDS = (*LEAVES, "do_ghost", f"{COURSES[0]}_u0", f"{COURSES[1]}_u1_s")  # outside / collections too


@st.composite
def events(draw: st.DrawFn) -> Ev:
    kind = draw(st.sampled_from(("state",) * 8 + ("assessment",)))
    contents = draw(st.lists(st.tuples(st.sampled_from(CONTENT_IDS), st.integers(0, 2)), max_size=4))
    return Ev(kind, draw(st.sampled_from(USERS)), draw(st.sampled_from(BATCHES)), draw(st.sampled_from(COURSES)),
              T0 + draw(st.integers(0, 5)) * 60_000 + draw(st.integers(0, 1500)), tuple(contents),
              bad=kind == "state" and draw(st.integers(0, 9)) == 0)


# -- the oracle -------------------------------------------------------------------------------------------------


def iso(ets: int) -> str:
    return datetime.fromtimestamp(ets // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pct(done: int, total: int) -> int:
    return 0 if total == 0 else min(100, done * 100 // total)


class Oracle:
    """Section 3 from the contract's words, over the distinct valid events."""

    def __init__(self, evs: list[Ev]) -> None:
        valid = {e for e in evs if e.kind == "state" and not e.bad}  # assessments are not activity
        self.status: dict[tuple[str, str, str, str], int] = {}
        self.last: dict[tuple[str, str, str], int] = {}
        for e in valid:
            key = (e.user, e.batch, e.course)
            self.last[key] = max(self.last.get(key, e.ets), e.ets)
            for content, status in e.contents:
                self.status[(*key, content)] = max(self.status.get((*key, content), 0), status)

    def done(self, user: str, batch: str, course: str, leaves: frozenset[str]) -> int:
        return sum(1 for leaf in leaves if self.status.get((user, batch, course, leaf)) == 2)

    def candidates(self, user: str, course: OracleCourse) -> tuple[set[str], int | None]:
        """The batches that may be the best one (ties on completed and activity), and lastActivity."""
        active = {b: ets for (u, b, c), ets in self.last.items() if u == user and c == course.course_id}
        if not active:
            return set(), None
        score = {b: (self.done(user, b, course.course_id, course.leaves), ets) for b, ets in active.items()}
        top = max(score.values())
        return {b for b, s in score.items() if s == top}, max(active.values())

    def entry(self, user: str, course: OracleCourse, chosen: str | None) -> dict[str, Any]:
        best, last = self.candidates(user, course)
        cid = course.course_id
        if not best:
            return {"courseId": cid, "batchId": None, "completed": 0, "leafCount": len(course.leaves), "percent": 0,
                    "lastActivity": None,
                    "units": [{"unitId": u, "completed": 0, "leafCount": len(ls), "percent": 0}
                              for u, _, ls in course.units]}
        batch = chosen if chosen in best else min(best)  # any tied batch is right; a wrong one shows in the diff
        done = self.done(user, batch, cid, course.leaves)
        return {"courseId": cid, "batchId": batch, "completed": done, "leafCount": len(course.leaves),
                "percent": pct(done, len(course.leaves)), "lastActivity": iso(last) if last is not None else None,
                "units": [{"unitId": u, "completed": self.done(user, batch, cid, ls), "leafCount": len(ls),
                           "percent": pct(self.done(user, batch, cid, ls), len(ls))} for u, _, ls in course.units]}

    def report(self, courses: list[OracleCourse], users: list[str], actual: dict[str, Any]) -> dict[str, Any]:
        chosen = {(m["userId"], c["courseId"]): c["batchId"] for m in actual["members"] for c in m["courses"]}
        return {"groupId": "g",
                "courses": [{"courseId": c.course_id, "name": c.name, "leafCount": len(c.leaves),
                             "units": [{"unitId": u, "name": n, "leafCount": len(ls)} for u, n, ls in c.units]}
                            for c in courses],
                "members": [{"userId": u, "courses": [self.entry(u, c, chosen.get((u, c.course_id)))
                                                      for c in courses]} for u in sorted(users)]}


# -- the real path ----------------------------------------------------------------------------------------------


class Pipeline:
    """Raw bytes -> validate/enrich -> DuckDBSink poll batches -> DuckDBStore -> report."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, docs: list[dict[str, Any]]) -> None:
        self.conn, self.sink, self.store = conn, DuckDBSink(conn), DuckDBStore(conn, timeout_s=30)
        self.catalog, self.batches = MemoryCatalog(docs), MemoryBatches()
        self.offset = 0
        self.rejected = 0

    def ingest(self, raws: list[bytes], poll_size: int) -> None:
        for start in range(0, len(raws), poll_size):
            batch = SinkBatch(source="lpa.raw")
            for raw in raws[start:start + poll_size]:
                self._handle(raw, batch)
            self.sink.write(batch)

    def _handle(self, raw: bytes, batch: SinkBatch) -> None:
        offset, self.offset = self.offset, self.offset + 1
        try:
            data = decode_event(raw)
            rows = enrich(validate_event(data), event_id_for(data), self.catalog, self.batches)
        except EventRejected as rejected:
            self.rejected += 1
            batch.add_deadletter(DeadLetter(f"dl-{offset}", 0, offset, str(rejected.reason), rejected.detail, raw))
            return
        batch.add_message(0, offset, event_id_for(data), rows)

    def publish(self, docs: list[dict[str, Any]]) -> list[CourseHierarchy]:
        """Load (or republish) hierarchies: the catalog and the store's current leaves."""
        courses = [self.catalog.add(doc) for doc in docs]
        for course in courses:
            self.store.replace_course_leaves(course)
        return courses

    def report(self, courses: list[CourseHierarchy], users: list[str]) -> dict[str, Any]:
        rows = self.store.progress_rows(users, [c.course_id for c in courses])
        built = build_report("g", courses, users, rows)
        # the REST answer is written by json_writer: it must say the same
        written = report_json("g", courses, users, rows)
        assert json.loads(written) == built
        # and so must the DuckDB adapter's one statement over the counts the sink kept (course_completion)
        assert self.store.progress_json("g", courses, users) == written
        ProgressReport.model_validate(built)
        return built


@contextmanager
def stores() -> Iterator[Callable[[], duckdb.DuckDBPyConnection]]:
    """Fresh in-memory analytics stores for one example, closed at its end."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def new() -> duckdb.DuckDBPyConnection:
        opened.append(open_duckdb(":memory:"))
        return opened[-1]

    try:
        yield new
    finally:
        for conn in opened:
            conn.close()


def _run(conn: duckdb.DuckDBPyConnection, docs: list[dict[str, Any]], raws: list[bytes], poll_size: int,
         users: list[str]) -> tuple[Pipeline, dict[str, Any]]:
    pipe = Pipeline(conn, docs)
    courses = pipe.publish(docs)
    pipe.ingest(raws, poll_size)
    return pipe, pipe.report(courses, users)


MEMBERS = [*USERS, IDLE_USER]
streams = st.lists(events(), min_size=0, max_size=30)


@PROPS
@given(doc1=hierarchies(COURSES[0]), doc2=hierarchies(COURSES[1]), evs=streams, poll_size=st.integers(1, 8))
def test_report_equals_the_contract_oracle(doc1: dict, doc2: dict, evs: list[Ev], poll_size: int) -> None:
    raws = [e.to_json(i) for i, e in enumerate(evs)]
    with stores() as new:
        pipe, report = _run(new(), [doc1, doc2], raws, poll_size, MEMBERS)
    assert pipe.rejected == sum(1 for e in evs if e.bad)  # one bad item rejects its whole event
    oracle = Oracle(evs)
    assert report == oracle.report([oracle_course(doc1), oracle_course(doc2)], MEMBERS, report)


@PROPS
@given(doc1=hierarchies(COURSES[0]), doc2=hierarchies(COURSES[1]), evs=streams, seed=st.integers(0, 2**32),
       polls=st.tuples(st.integers(1, 8), st.integers(1, 8)))
def test_order_duplicates_and_poll_batching_do_not_change_the_report(
        doc1: dict, doc2: dict, evs: list[Ev], seed: int, polls: tuple[int, int]) -> None:
    rng = random.Random(seed)
    raws = [e.to_json(i) for i, e in enumerate(evs)]
    # the same messages redelivered: duplicates, in another order, split into other poll batches
    replayed = raws + rng.sample(raws, k=len(raws) // 2)
    rng.shuffle(replayed)
    with stores() as new:
        _, first = _run(new(), [doc1, doc2], raws, polls[0], MEMBERS)
        _, second = _run(new(), [doc1, doc2], replayed, polls[1], MEMBERS)
    assert second == first
    oracle = Oracle(evs)
    assert first == oracle.report([oracle_course(doc1), oracle_course(doc2)], MEMBERS, first)


@PROPS
@given(doc=hierarchies(COURSES[0]), evs=streams, cut=st.integers(0, 30))
def test_status_never_goes_down_and_figures_only_grow_as_events_arrive(doc: dict, evs: list[Ev], cut: int) -> None:
    evs = [e for e in evs if e.course == COURSES[0]]
    raws = [e.to_json(i) for i, e in enumerate(evs)]
    with stores() as new:
        conn = new()
        pipe = Pipeline(conn, [doc])
        courses = pipe.publish([doc])
        pipe.ingest(raws[:cut], 3)
        before = pipe.report(courses, MEMBERS)
        pipe.ingest(raws[cut:], 3)
        after = pipe.report(courses, MEMBERS)
        stored = {(u, b, c, x): s for u, b, c, x, s in conn.execute(
            "SELECT user_id, batch_id, course_id, content_id, status FROM content_state").fetchall()}
    for old, now in zip(before["members"], after["members"], strict=True):
        for c_old, c_now in zip(old["courses"], now["courses"], strict=True):
            assert c_now["completed"] >= c_old["completed"]
            assert c_now["percent"] >= c_old["percent"]
            if c_old["lastActivity"] is not None:
                assert c_now["lastActivity"] >= c_old["lastActivity"]
    # every (learner, batch, course, content) status kept is the maximum ever reported
    assert stored == Oracle(evs).status


@PROPS
@given(doc1=hierarchies(COURSES[0]), republished=hierarchies(COURSES[0]), doc2=hierarchies(COURSES[1]),
       evs=streams)
def test_republish_recomputes_against_the_current_hierarchy(
        doc1: dict, republished: dict, doc2: dict, evs: list[Ev]) -> None:
    raws = [e.to_json(i) for i, e in enumerate(evs)]
    oracle = Oracle(evs)
    with stores() as new:
        pipe, report = _run(new(), [doc1, doc2], raws, 5, MEMBERS)
        assert report == oracle.report([oracle_course(doc1), oracle_course(doc2)], MEMBERS, report)
        # course 1 is replaced (contents outside the old hierarchy may count now); course 2 is untouched
        other = pipe.catalog.course(COURSES[1])
        assert other is not None
        courses = [*pipe.publish([republished]), other]
        again = pipe.report(courses, MEMBERS)
    assert again == oracle.report([oracle_course(republished), oracle_course(doc2)], MEMBERS, again)


def test_oracle_reads_the_contract_example_like_the_contract() -> None:
    """The oracle itself, on contracts.md's FRACTIONS example: one leafCount 2 unit, the optional unit left out."""
    course = oracle_course(FRACTIONS)
    assert course.leaves == {"do_leaf_1", "do_leaf_2"}
    assert course.units == (("do_unit_1", "Halves", frozenset({"do_leaf_1", "do_leaf_2"})),)
    ev = Ev("state", "u_7", "b_101", "do_course_1", T0, (("do_leaf_1", 2),))
    entry = Oracle([ev]).entry("u_7", course, None)
    assert (entry["completed"], entry["percent"], entry["lastActivity"]) == (1, 50, "2024-11-25T02:00:00Z")
    assert entry["units"] == [{"unitId": "do_unit_1", "completed": 1, "leafCount": 2, "percent": 50}]
