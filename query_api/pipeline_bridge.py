"""What the pipeline (in the `lpa up` process) needs from the metadata store: the catalog and the batch
registry behind `ingestion.enrich`'s CatalogLookup / BatchLookup protocols, and applying LPA_BATCH /
LPA_ENROLMENT events through the same service code as the REST calls.

The lookups are in-process caches: `course()` and `program_id()` answer from memory, and `refresh()` (one
cheap counter query; the pipeline calls it once per poll batch) reloads only what changed since, so a
republished course is seen from the next poll batch on. A cache miss asks the database directly, so a course
or batch created moments ago is never reported unknown. `apply_metadata_event` updates every batch cache
built on the same session factory at once, so a batch created earlier in a poll batch is visible to the rest.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingestion.events import BatchEvent, EnrolmentEvent, EventRejected, PlatformEvent, RejectReason
from ingestion.hierarchy import CourseHierarchy, HierarchyError, parse_hierarchy
from query_api.db import session_scope
from query_api.errors import NotFound
from query_api.models import Batch, Course
from query_api.services import batches as batch_service
from query_api.services.counters import current_revision

SessionFactory = sessionmaker[Session]


class SqlCatalogLookup:
    """CatalogLookup over the `courses` table, parsed hierarchies cached by revision."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory
        self._courses: dict[str, CourseHierarchy] = {}
        self._revision = 0
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Reload the courses stored or republished since the last refresh (nothing when none changed)."""
        with self.session_factory() as session:
            revision = current_revision(session, "catalog")
            if revision == self._revision:
                return
            rows = session.execute(select(Course.id, Course.hierarchy, Course.revision)
                                   .where(Course.revision > self._revision))
            parsed = {course_id: self._parse(doc) for course_id, doc, _ in rows}
        with self._lock:
            for course_id, hierarchy in parsed.items():
                if hierarchy is not None:
                    self._courses[course_id] = hierarchy
            self._revision = max(self._revision, revision)

    @staticmethod
    def _parse(doc: Any) -> CourseHierarchy | None:
        try:
            return parse_hierarchy(doc)
        except HierarchyError:  # stored documents were validated on the way in
            return None

    def course(self, course_id: str) -> CourseHierarchy | None:
        hierarchy = self._courses.get(course_id)
        if hierarchy is not None:
            return hierarchy
        with self.session_factory() as session:
            doc = session.scalar(select(Course.hierarchy).where(Course.id == course_id))
        hierarchy = self._parse(doc) if doc is not None else None
        if hierarchy is not None:
            with self._lock:
                self._courses[course_id] = hierarchy
        return hierarchy


_BATCH_CACHES: weakref.WeakSet[SqlBatchLookup] = weakref.WeakSet()


class SqlBatchLookup:
    """BatchLookup over the `batches` table: batch id -> program id, cached by revision."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory
        self._programs: dict[str, str | None] = {}
        self._revision = 0
        self._lock = threading.Lock()
        _BATCH_CACHES.add(self)
        self.refresh()

    def refresh(self) -> None:
        with self.session_factory() as session:
            revision = current_revision(session, "batches")
            if revision == self._revision:
                return
            rows = list(session.execute(select(Batch.id, Batch.program_id).where(Batch.revision > self._revision)))
        with self._lock:
            self._programs.update(dict(rows))  # type: ignore[arg-type]
            self._revision = max(self._revision, revision)

    def note(self, batch_id: str, program_id: str | None) -> None:
        with self._lock:
            self._programs[batch_id] = program_id

    def _lookup(self, batch_id: str) -> tuple[bool, str | None]:
        if batch_id in self._programs:
            return True, self._programs[batch_id]
        with self.session_factory() as session:
            row = session.execute(select(Batch.program_id).where(Batch.id == batch_id)).first()
        if row is None:
            return False, None
        self.note(batch_id, row[0])
        return True, row[0]

    def exists(self, batch_id: str) -> bool:
        return self._lookup(batch_id)[0]

    def program_id(self, batch_id: str) -> str | None:
        return self._lookup(batch_id)[1]


def apply_metadata_event(session_factory: SessionFactory, event: PlatformEvent) -> bool:
    """Apply an LPA_BATCH or LPA_ENROLMENT event (others are ignored) in its own transaction.

    Idempotent: a redelivery or replay changes nothing. Returns whether the metadata changed. Raises
    EventRejected(UNKNOWN_BATCH) for an update, close or enrolment of a batch that was never created.
    """
    if not isinstance(event, BatchEvent | EnrolmentEvent):
        return False
    try:
        with session_scope(session_factory) as session:
            if isinstance(event, BatchEvent):
                applied = batch_service.apply_batch(session, event.edata, event.ets)
            else:
                applied = batch_service.apply_enrolment(session, event.edata, event.ets)
    except NotFound as error:
        raise EventRejected(RejectReason.UNKNOWN_BATCH, error.message) from error
    for cache in list(_BATCH_CACHES):
        if cache.session_factory is session_factory:
            cache.note(applied.batch_id, applied.program_id)
    return applied.changed
