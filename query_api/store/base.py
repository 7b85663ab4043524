"""The analytics store interface: the few reads and writes the query API needs from DuckDB or Druid.

Kept deliberately small (progress rows, the current hierarchy's leaves, a health check): engine adapters
implement it in a handful of methods, and the SQL text they run lives in `queries.py`, shared by all of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

from ingestion.hierarchy import CourseHierarchy
from query_api.store.plugin_queries import BestAttemptRow, CourseCompletionRow

ERROR_CODE = "analytics_unavailable"  # the HTTP 503 error code for every StoreError


class StoreError(Exception):
    """The analytics store could not answer; the API answers `http_status` with error code `api_code`."""

    http_status: int = 503
    api_code: str = ERROR_CODE

    def details(self) -> dict[str, object]:
        """What an API client may see about the failure (never the engine's raw message)."""
        return {"store": "analytics"}


class StoreUnavailable(StoreError):
    """The store is down, closed or unreachable."""


class StoreTimeout(StoreError):
    """The query ran past its time budget and was interrupted."""

    def details(self) -> dict[str, object]:
        return {"store": "analytics", "timeout": True}


class CourseProgressRow(NamedTuple):
    """One (learner, batch, course) with activity: completed current leaves and the batch's last activity."""

    user_id: str
    batch_id: str
    course_id: str
    completed: int
    last_ets: int


class UnitProgressRow(NamedTuple):
    """One (learner, batch, course, unit) with at least one completed current leaf of the unit."""

    user_id: str
    batch_id: str
    course_id: str
    unit_id: str
    completed: int


# Rows travel as plain tuples in the field order of the NamedTuples above: an adapter may hand over its
# driver's tuples as they are (a full report reads ~100k of them; wrapping each costs more than the query).
CourseRow = tuple[str, str, str, int, int]  # CourseProgressRow order: user, batch, course, completed, last_ets
UnitRow = tuple[str, str, str, str, int]  # UnitProgressRow order: user, batch, course, unit, completed


class ProgressRows(NamedTuple):
    courses: Sequence[CourseRow]
    units: Sequence[UnitRow]


class AnalyticsStore(ABC):
    """What the progress report reads and the catalog writes. Every call is bounded by a timeout."""

    @abstractmethod
    def progress_rows(self, user_ids: Sequence[str], course_ids: Sequence[str]) -> ProgressRows:
        """Aggregated progress of these learners in these courses, one row per batch with activity.

        Raises StoreUnavailable / StoreTimeout, never hangs.
        """

    def progress_json(self, group_id: str, courses: Sequence[CourseHierarchy],
                      user_ids: Sequence[str]) -> bytes | None:
        """The unfiltered section 6 report as JSON, written by the engine, or None when this adapter has no
        such writer (the caller then writes it from `progress_rows`). Same bytes either way."""
        return None

    @abstractmethod
    def replace_course_leaves(self, course: CourseHierarchy) -> None:
        """Make `course`'s current non-optional leaves (course and reported units) the ones progress counts:
        a republish replaces the previous set atomically."""

    def stale_courses(self, courses: Sequence[CourseHierarchy]) -> list[str]:
        """Ids of `courses` whose current leaves this store does not hold (a store written by an earlier
        version, a republish whose analytics write failed, a store rebuilt beside an older catalog): the
        caller hands them to `replace_course_leaves` again. An adapter that cannot tell returns []."""
        return []

    @abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable / StoreTimeout when the store cannot answer a trivial query."""

    def healthy(self) -> bool:
        try:
            self.ping()
        except StoreError:
            return False
        return True

    # -- group plugins (SQL and shared implementation in query_api/store/plugin_queries.py) ----------------------
    # Not abstract: an adapter without them answers the plugins' requests with a 503, never a crash.
    def best_attempts(self, user_ids: Sequence[str], content_ids: Sequence[str] | None = None,
                      course_ids: Sequence[str] | None = None,
                      batch_ids: Sequence[str] | None = None) -> list[BestAttemptRow]:
        """Each learner's best attempt (highest score; ties: the latest) per (course, content), with the number
        of distinct attempts; None for a filter means "any"."""
        raise StoreUnavailable(f"{type(self).__name__} does not answer assessment queries")

    def course_completions(self, user_ids: Sequence[str], course_ids: Sequence[str]) -> list[CourseCompletionRow]:
        """Completed current leaves per (learner, batch, course) and when the last of them was first completed."""
        raise StoreUnavailable(f"{type(self).__name__} does not answer completion queries")

    def last_activity(self, user_ids: Sequence[str], course_ids: Sequence[str] | None = None) -> dict[str, int]:
        """Latest content-state activity (epoch ms) per learner with any, in these courses (None: any course)."""
        raise StoreUnavailable(f"{type(self).__name__} does not answer activity queries")
