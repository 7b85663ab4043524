"""The `lpa demo` sample: course hierarchies, a .jsonl of platform events and the groups to create, so that the
group page is worth looking at on first start. Deterministic: the same `now_ms` and seed give the same files.

What it shows (contracts.md sections 1-4, 6):
- a program batch (3 courses, ~200 learners, two mentors) whose batch group gets the Progress Report;
- a mentor's subgroup of that batch group (30 learners; members may see each other's rows);
- a parent's group of three children who took courses in different batches, including one child who took a
  course twice (the report uses the better batch) and a course one child never started;
- an earlier single-course batch some program learners also took (best batch across batches);
- an optional unit, an optional leaf, a leaf under two units, and a republished course (`republish` files,
  loaded after the events: content ids the new version adds were already reported and start counting);
- learners who never started, who only opened a course, who completed everything, and learners at risk
  (no activity for weeks), two unenrolled learners (activity, but no longer group members), a few status
  reports that go down again (status never goes down) and events out of `ets` order.

Use: `plan = write_demo(out_dir)`; load `plan.catalog`, ingest `plan.events`, load `plan.republish`, then once
the pipeline has made the batch groups call `create_demo_groups(session, settings, registry, plan)`.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLLECTION = "application/vnd.ekstep.content-collection"
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

PROGRAM_BATCH = "b_demo_foundations_2024"
EARLY_FRACTIONS_BATCH = "b_demo_fractions_2023"
SCIENCE_SPRING = "b_demo_science_spring"
SCIENCE_AUTUMN = "b_demo_science_autumn"
MENTORS = ("u_mentor_asha", "u_mentor_ravi")
SCIENCE_MENTOR = "u_mentor_lee"
PARENT = "u_parent_meera"
CHILDREN = ("u_child_maya", "u_learner_005", "u_learner_017")
UNENROLLED = ("u_learner_143", "u_learner_188")

FRACTIONS, GEOMETRY, READING, SCIENCE = "do_demo_fractions", "do_demo_geometry", "do_demo_reading", "do_demo_science"
PROGRAM_COURSES = (FRACTIONS, GEOMETRY, READING)


def _leaf(leaf_id: str, name: str, *, quiz: bool = False, optional: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {"identifier": leaf_id, "name": name,
                            "mimeType": "application/vnd.ekstep.ecml-archive" if quiz else "video/mp4"}
    if quiz:
        node["contentType"] = "SelfAssess"
    if optional:
        node["optional"] = True
    return node


def _unit(unit_id: str, name: str, leaves: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"identifier": unit_id, "name": name, "contentType": "CourseUnit", "mimeType": COLLECTION,
            "children": leaves, **extra}


def _course(course_id: str, name: str, subject: str, units: list[dict[str, Any]], *, medium: str = "English",
            grade: str = "Class 5", **extra: Any) -> dict[str, Any]:
    return {"identifier": course_id, "name": name, "contentType": "Course", "mimeType": COLLECTION,
            "board": "CBSE", "medium": [medium], "gradeLevel": [grade], "subject": [subject],
            "children": units, **extra}


def _lessons(unit_id: str, names: list[str], quiz_last: bool = True) -> list[dict[str, Any]]:
    return [_leaf(f"{unit_id}_{i + 1}", name, quiz=quiz_last and i == len(names) - 1) for i, name in enumerate(names)]


def _lesson_unit(course_id: str, slug: str, name: str, lessons: list[str], quiz_last: bool = True,
                 extra: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    unit_id = f"{course_id}_{slug}"
    return _unit(unit_id, name, [*_lessons(unit_id, lessons, quiz_last), *extra])


def hierarchies() -> dict[str, dict[str, Any]]:
    """The courses as first published (file stem -> platform collection JSON)."""
    fractions = _course(FRACTIONS, "Fractions", "Mathematics", [
        _lesson_unit(FRACTIONS, "halves", "Halves", ["What is a half", "Halves around us", "Quiz: halves"]),
        _lesson_unit(FRACTIONS, "quarters", "Quarters", ["Quarters", "Telling time", "Quiz: quarters"]),
        _lesson_unit(FRACTIONS, "compare", "Comparing fractions",
                     ["Bigger or smaller", "Number line", "Equivalent fractions", "Quiz: comparing"]),
        _lesson_unit(FRACTIONS, "extra", "Extra practice", ["Puzzle sheet", "Challenge"], quiz_last=False),
    ], relationalMetadata={f"{FRACTIONS}_extra": {"optional": True}})
    geometry = _course(GEOMETRY, "Shapes and Angles", "Mathematics", [
        _lesson_unit(GEOMETRY, "shapes", "Shapes", ["Triangles", "Quadrilaterals", "Circles", "Quiz: shapes"]),
        _lesson_unit(GEOMETRY, "angles", "Angles", ["Right angles", "Measuring angles", "Quiz: angles"]),
        _unit(f"{GEOMETRY}_symmetry", "Symmetry", [
            _leaf(f"{GEOMETRY}_symmetry_1", "Mirror lines"), _leaf(f"{GEOMETRY}_symmetry_2", "Rangoli patterns"),
            _leaf(f"{GEOMETRY}_symmetry_3", "Symmetry in nature (bonus)", optional=True)]),
    ])
    glossary = _leaf(f"{READING}_glossary", "Glossary")  # placed under two units: counts in each, once overall
    reading = _course(READING, "Reading Comprehension", "English", [
        _lesson_unit(READING, "stories", "Stories", ["The thirsty crow", "The lion and the mouse", "Quiz: stories"],
                     extra=(glossary,)),
        _lesson_unit(READING, "poems", "Poems", ["Rain poem", "Quiz: poems"], extra=(glossary,)),
        _lesson_unit(READING, "words", "Vocabulary", ["Opposites", "Rhyming words", "Quiz: words"]),
    ])
    science = _course(SCIENCE, "Plants and Animals", "Environmental Studies", [
        _lesson_unit(SCIENCE, "plants", "Plants", ["Parts of a plant", "Seeds", "Quiz: plants"]),
        _lesson_unit(SCIENCE, "animals", "Animals", ["Animal homes", "Food chains", "Quiz: animals"]),
        _lesson_unit(SCIENCE, "habitats", "Habitats", ["Forests", "Deserts", "Quiz: habitats"]),
    ], medium="Hindi")
    return {"fractions": fractions, "geometry": geometry, "reading": reading, "science": science}


def republished() -> dict[str, dict[str, Any]]:
    """Geometry, republished: a new angles lesson (learners already reported it), a symmetry lesson removed,
    and a review unit whose leaves are all optional (it stays in the report with leafCount 0)."""
    geometry = hierarchies()["geometry"]
    units = {u["identifier"]: u for u in geometry["children"]}
    angles = units[f"{GEOMETRY}_angles"]["children"]
    angles.insert(2, _leaf(f"{GEOMETRY}_angles_new", "Angles in clocks"))
    units[f"{GEOMETRY}_symmetry"]["children"] = [c for c in units[f"{GEOMETRY}_symmetry"]["children"]
                                                 if c["identifier"] != f"{GEOMETRY}_symmetry_2"]
    geometry["children"].append(_unit(f"{GEOMETRY}_review", "Review", [
        _leaf(f"{GEOMETRY}_review_1", "Revision sheet", optional=True)]))
    return {"geometry": geometry}


def _leaf_order(doc: dict[str, Any]) -> list[tuple[str, bool]]:
    """(leaf id, is a quiz) in the order a learner meets them; optional units are visited too (learners do
    open them), and the ids the republished version adds are included where they will sit."""
    out: list[tuple[str, bool]] = []

    def walk(node: dict[str, Any]) -> None:
        for child in node.get("children", []):
            if child["mimeType"] == COLLECTION:
                walk(child)
            elif all(child["identifier"] != seen for seen, _ in out):
                out.append((child["identifier"], child.get("contentType") == "SelfAssess"))

    walk(doc)
    return out


@dataclass(frozen=True)
class DemoGroup:
    """A user-made group for `create_demo_groups`: `parent_batch_id` names the batch whose group is its parent."""

    name: str
    description: str
    created_by: str
    members: tuple[str, ...]
    course_ids: tuple[str, ...]
    members_see_all: bool = False
    parent_batch_id: str | None = None


@dataclass(frozen=True)
class DemoPlan:
    catalog: list[Path]
    events: Path
    republish: list[Path]
    event_count: int
    groups: list[DemoGroup]
    viewer_user_id: str = MENTORS[0]  # open the program batch's page as its first mentor
    featured_batch_id: str = PROGRAM_BATCH
    other_viewers: dict[str, str] = field(default_factory=dict)  # who -> why, for the printed hints


def learner_ids(count: int = 200) -> list[str]:
    return [f"u_learner_{i:03d}" for i in range(1, count + 1)]


class _Events:
    """Collects events; `mid`s are unique and derived from the sequence number (deterministic)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def _add(self, eid: str, ets: int, edata: dict[str, Any], **envelope: Any) -> None:
        mid = f"LP.{ets}.{uuid.uuid5(uuid.NAMESPACE_URL, f'lpa-demo/{len(self.items)}').hex[:8]}"
        self.items.append({"eid": eid, "ets": ets, "mid": mid, **envelope, "edata": edata})

    def batch(self, ets: int, batch_id: str, name: str, course_ids: list[str], mentors: list[str],
              program_id: str | None = None) -> None:
        edata = {"action": "create", "batchId": batch_id, "name": name, "courseIds": course_ids,
                 "enrollmentType": "open", "mentors": mentors, "createdBy": mentors[0]}
        if program_id:
            edata["programId"] = program_id
        self._add("LPA_BATCH", ets, edata)

    def enrol(self, ets: int, batch_id: str, user_id: str, action: str = "enrol") -> None:
        self._add("LPA_ENROLMENT", ets, {"action": action, "batchId": batch_id, "userId": user_id})

    def state(self, ets: int, batch_id: str, user_id: str, course_id: str, contents: list[tuple[str, int]]) -> None:
        self._add("BE_JOB_REQUEST", ets, {
            "action": "batch-enrolment-update", "iteration": 1, "batchId": batch_id, "userId": user_id,
            "courseId": course_id, "contents": [{"contentId": c, "status": s} for c, s in contents]},
            actor={"id": "Course Batch Updater", "type": "System"},
            context={"pdata": {"id": "org.sunbird.platform", "ver": "1.0"}},
            object={"id": f"{batch_id}_{user_id}", "type": "CourseBatchEnrolment"})

    def assessment(self, ets: int, batch_id: str, user_id: str, course_id: str, content_id: str,
                   rng: random.Random) -> None:
        score = float(rng.randint(4, 10))
        self._add("LPA_ASSESSMENT", ets, {"batchId": batch_id, "courseId": course_id, "userId": user_id,
                                          "contentId": content_id, "attemptId": f"att-{len(self.items)}",
                                          "score": score, "maxScore": 10.0})


def _study(ev: _Events, rng: random.Random, *, user_id: str, batch_id: str, course_id: str,
           leaves: list[tuple[str, bool]], reach: float, start: int, end: int) -> None:
    """One learner working through a course: opens it, then progresses leaf by leaf until `reach` of them are
    done, with sessions spread between `start` and `end`; sometimes a lesson is reported again as in progress
    after completion (status never goes down) and some reports arrive out of order."""
    if reach < 0:
        return  # never started: no activity at all
    t = start + rng.randint(0, 2 * DAY_MS)
    ev.state(t, batch_id, user_id, course_id, [])  # opened the course
    target = round(reach * len(leaves))
    if target == 0:
        return
    step = max(HOUR_MS, (end - t) // (target + 1))
    for index, (leaf_id, quiz) in enumerate(leaves[:target]):
        t = min(end, t + rng.randint(step // 2, step * 3 // 2))
        if rng.random() < 0.6:
            ev.state(t, batch_id, user_id, course_id, [(leaf_id, 1)])
        done_at = t + rng.randint(5, 40) * MINUTE_MS
        ev.state(done_at, batch_id, user_id, course_id, [(leaf_id, 2)])
        if quiz:
            ev.assessment(done_at + MINUTE_MS, batch_id, user_id, course_id, leaf_id, rng)
        if index and rng.random() < 0.08:  # revisits an earlier lesson: reported in progress again
            ev.state(done_at + 2 * MINUTE_MS, batch_id, user_id, course_id, [(leaves[index - 1][0], 1)])
    if target < len(leaves) and rng.random() < 0.5:  # started the next lesson
        ev.state(min(end, t + DAY_MS), batch_id, user_id, course_id, [(leaves[target][0], 1)])


def _reach(rng: random.Random) -> float:
    """How far a learner gets: some never start (-1), some only open the course (0), a fifth finish."""
    roll = rng.random()
    if roll < 0.10:
        return -1.0
    if roll < 0.16:
        return 0.0
    if roll < 0.36:
        return 1.0
    return rng.uniform(0.1, 0.95)


def build_events(now_ms: int, seed: int = 20241125) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = hierarchies()
    current = {**docs, **republished()}
    order = {doc["identifier"]: _leaf_order(doc) for doc in current.values()}
    # the lesson the republish removes was studied before it went away: keep it in its old place
    geo = order[GEOMETRY]
    geo.insert(next(i for i, (leaf, _) in enumerate(geo) if leaf.endswith("symmetry_1")) + 1,
               (f"{GEOMETRY}_symmetry_2", False))
    ev = _Events()
    start, end = now_ms - 42 * DAY_MS, now_ms - 2 * HOUR_MS

    # The program batch: ~200 learners over six weeks; a tenth drift away (at risk) after two weeks.
    learners = learner_ids()
    ev.batch(start - DAY_MS, PROGRAM_BATCH, "Foundations programme 2024", list(PROGRAM_COURSES), list(MENTORS),
             program_id="prog_demo_foundations")
    for user_id in learners:
        ev.enrol(start - DAY_MS + rng.randint(1, 600) * MINUTE_MS, PROGRAM_BATCH, user_id)
    for user_id in learners:
        stop = start + rng.randint(10, 20) * DAY_MS if rng.random() < 0.1 else end
        for course_id in PROGRAM_COURSES:
            _study(ev, rng, user_id=user_id, batch_id=PROGRAM_BATCH, course_id=course_id, leaves=order[course_id],
                   reach=_reach(rng), start=start, end=stop)
    for user_id in UNENROLLED:
        ev.enrol(end - 5 * DAY_MS, PROGRAM_BATCH, user_id, action="unenrol")

    # Forty program learners took Fractions a year earlier; some got further then (best batch).
    early = now_ms - 400 * DAY_MS
    ev.batch(early - DAY_MS, EARLY_FRACTIONS_BATCH, "Fractions 2023", [FRACTIONS], [MENTORS[1]])
    for user_id in learners[:40]:
        ev.enrol(early, EARLY_FRACTIONS_BATCH, user_id)
        _study(ev, rng, user_id=user_id, batch_id=EARLY_FRACTIONS_BATCH, course_id=FRACTIONS,
               leaves=order[FRACTIONS], reach=rng.choice([0.3, 0.6, 1.0]), start=early, end=early + 30 * DAY_MS)

    # Science in two batches: the parent's children and 25 classmates in each.
    spring, autumn = now_ms - 200 * DAY_MS, now_ms - 60 * DAY_MS
    for batch_id, name, t0 in ((SCIENCE_SPRING, "Plants and Animals (spring)", spring),
                               (SCIENCE_AUTUMN, "Plants and Animals (autumn)", autumn)):
        ev.batch(t0 - DAY_MS, batch_id, name, [SCIENCE], [SCIENCE_MENTOR])
        classmates = [f"u_science_{i:03d}" for i in range(1, 26)] if batch_id == SCIENCE_SPRING \
            else [f"u_science_{i:03d}" for i in range(26, 51)]
        for user_id in classmates:
            ev.enrol(t0, batch_id, user_id)
            _study(ev, rng, user_id=user_id, batch_id=batch_id, course_id=SCIENCE, leaves=order[SCIENCE],
                   reach=_reach(rng), start=t0, end=t0 + 40 * DAY_MS)
    # Maya took science twice (better the second time); the older two took it once each.
    for batch_id, user_id, reach, t0 in ((SCIENCE_SPRING, "u_child_maya", 0.34, spring),
                                         (SCIENCE_AUTUMN, "u_child_maya", 0.9, autumn),
                                         (SCIENCE_SPRING, "u_learner_005", 1.0, spring),
                                         (SCIENCE_AUTUMN, "u_learner_017", 0.5, autumn)):
        ev.enrol(t0, batch_id, user_id)
        _study(ev, rng, user_id=user_id, batch_id=batch_id, course_id=SCIENCE, leaves=order[SCIENCE],
               reach=reach, start=t0, end=t0 + 40 * DAY_MS)

    # Mostly in time order, as a platform would send them, but a few late arrivals.
    items = sorted(ev.items, key=lambda e: (e["eid"] != "LPA_BATCH", e["ets"]))
    for _ in range(len(items) // 200):
        i = rng.randrange(len(items) - 10)
        if items[i]["eid"] == "BE_JOB_REQUEST" and items[i + 5]["eid"] == "BE_JOB_REQUEST" and \
                items[i]["edata"]["batchId"] == items[i + 5]["edata"]["batchId"]:
            items[i], items[i + 5] = items[i + 5], items[i]
    return items


def demo_groups() -> list[DemoGroup]:
    """The user-made groups (batch groups come from the LPA_BATCH events themselves)."""
    circle = tuple(u for u in learner_ids(30) if u not in UNENROLLED)
    return [
        DemoGroup(name="Asha's mentoring circle", description="Thirty learners Asha meets every week.",
                  created_by=MENTORS[0], members=circle, course_ids=PROGRAM_COURSES, members_see_all=True,
                  parent_batch_id=PROGRAM_BATCH),
        DemoGroup(name="Meera's children", description="A parent following her three children.",
                  created_by=PARENT, members=CHILDREN, course_ids=(FRACTIONS, SCIENCE, READING)),
    ]


def _write_json(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def _lines(events: list[dict[str, Any]]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event, separators=(",", ":"), sort_keys=True) + "\n"


def write_demo(out_dir: Path, *, now_ms: int | None = None, seed: int = 20241125) -> DemoPlan:
    """Write catalog/*.json, republish/*.json and events.jsonl under `out_dir`; return what to load, in order."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    now_ms -= now_ms % MINUTE_MS  # one demo per minute is the same demo
    out_dir = Path(out_dir)
    catalog = [_write_json(out_dir / "catalog" / f"{stem}.json", doc) for stem, doc in hierarchies().items()]
    republish = [_write_json(out_dir / "republish" / f"{stem}.json", doc) for stem, doc in republished().items()]
    events = build_events(now_ms, seed)
    events_path = out_dir / "events.jsonl"
    with events_path.open("w", encoding="utf-8") as handle:
        handle.writelines(_lines(events))
    return DemoPlan(catalog=catalog, events=events_path, republish=republish, event_count=len(events),
                    groups=demo_groups(),
                    other_viewers={PARENT: "a parent (her children's group)", "u_learner_007": "a learner"})


def create_demo_groups(session: Any, settings: Any, registry: Any, plan: DemoPlan) -> dict[str, str]:
    """Create the plan's groups through the groups services and link the Progress Report; returns
    name -> group id. Call after the pipeline has applied the batch events (subgroups need the batch group)."""
    from query_api.schemas.groups import GroupCreate, MemberIn
    from query_api.services.batches import batch_group_id
    from query_api.services.groups import create_group
    from query_api.services.plugin_links import link_plugin

    created: dict[str, str] = {}
    for spec in plan.groups:
        body = GroupCreate(name=spec.name, description=spec.description,
                           members=[MemberIn(userId=u) for u in spec.members],
                           parentGroupId=batch_group_id(spec.parent_batch_id) if spec.parent_batch_id else None)
        group = create_group(session, settings, spec.created_by, body)
        link_plugin(session, settings, registry, spec.created_by, group.id, "progress-report",
                    {"courseIds": list(spec.course_ids), "membersSeeAll": spec.members_see_all})
        created[spec.name] = group.id
    return created
