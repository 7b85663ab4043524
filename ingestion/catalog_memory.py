"""CatalogLookup / BatchLookup without the metadata store: in memory, or from a directory of JSON files.

Used by the standalone pipeline process (`python -m ingestion.pipeline_main`), the benchmark and tests.
`lpa up` passes the metadata store's implementations instead.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from ingestion.events import BatchEvent, PlatformEvent
from ingestion.hierarchy import CourseHierarchy, HierarchyError, parse_hierarchy

log = logging.getLogger(__name__)

BATCHES_FILE = "batches.json"


class MemoryCatalog:
    """Course id -> parsed hierarchy; `add` replaces a course (a republish)."""

    def __init__(self, docs: list[dict[str, Any]] | None = None) -> None:
        self._courses: dict[str, CourseHierarchy] = {}
        for doc in docs or ():
            self.add(doc)

    def add(self, doc: dict[str, Any]) -> CourseHierarchy:
        course = parse_hierarchy(doc)
        self._courses[course.course_id] = course
        return course

    def course(self, course_id: str) -> CourseHierarchy | None:
        return self._courses.get(course_id)

    def __len__(self) -> int:
        return len(self._courses)


class JsonDirCatalog:
    """Every `*.json` hierarchy in a directory (except batches.json), re-read when the files change.

    Rescans at most every `rescan_s` seconds, so a course copied into the directory is picked up by a
    running pipeline (and `lpa deadletter replay` of its unknown_course letters then succeeds)."""

    def __init__(self, directory: Path, rescan_s: float = 1.0) -> None:
        self.directory = Path(directory)
        self.rescan_s = rescan_s
        self._catalog = MemoryCatalog()
        self._stamp: tuple[tuple[str, float, int], ...] = ()
        self._checked = 0.0
        self._lock = threading.Lock()
        self._reload()

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if p.name != BATCHES_FILE)

    def _reload(self) -> None:
        files = self._files()
        stamp = tuple((p.name, p.stat().st_mtime, p.stat().st_size) for p in files)
        if stamp == self._stamp:
            return
        catalog = MemoryCatalog()
        for path in files:
            try:
                catalog.add(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, HierarchyError) as error:
                log.warning("skipping unreadable hierarchy %s: %s", path, error)
        self._catalog, self._stamp = catalog, stamp

    def course(self, course_id: str) -> CourseHierarchy | None:
        now = time.monotonic()
        if now - self._checked > self.rescan_s:
            with self._lock:
                self._checked = now
                self._reload()
        return self._catalog.course(course_id)


class MemoryBatches:
    """Batch id -> program id, fed by the pipeline's `on_metadata_event` callback (`apply`).

    For a standalone pipeline the registry is rebuilt on start from the LPA_BATCH rows already committed to
    DuckDB (`load_from_duckdb`): exactly what the committed offsets account for, so after a crash the
    reprocessed batch events re-apply the rest."""

    def __init__(self, batches: dict[str, str | None] | None = None) -> None:
        self._programs: dict[str, str | None] = dict(batches or {})

    def exists(self, batch_id: str) -> bool:
        return batch_id in self._programs

    def program_id(self, batch_id: str) -> str | None:
        return self._programs.get(batch_id)

    def add(self, batch_id: str, program_id: str | None = None) -> None:
        self._programs[batch_id] = program_id

    def apply(self, event: PlatformEvent) -> None:
        """Idempotent: a redelivered create or update leaves the same state."""
        if isinstance(event, BatchEvent):
            edata = event.edata
            if edata.action == "create" or edata.programId is not None:
                self._programs[edata.batchId] = edata.programId or self._programs.get(edata.batchId)
            else:
                self._programs.setdefault(edata.batchId, None)

    def load_from_duckdb(self, conn: duckdb.DuckDBPyConnection) -> None:
        rows = conn.execute(
            "SELECT batch_id, arg_max(program_id, ets) FILTER (WHERE program_id IS NOT NULL) "
            "FROM enriched_events WHERE eid = 'LPA_BATCH' GROUP BY batch_id").fetchall()
        for batch_id, program_id in rows:
            self._programs[batch_id] = program_id or self._programs.get(batch_id)

    @classmethod
    def from_json_dir(cls, directory: Path) -> MemoryBatches:
        """Seed from `batches.json` ({"batch_id": "program_id or null"}) if the directory has one."""
        path = Path(directory) / BATCHES_FILE
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected an object of batch id -> program id")
        return cls({str(k): (None if v is None else str(v)) for k, v in data.items()})
