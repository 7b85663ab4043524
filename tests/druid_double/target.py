"""Where the Druid tests run: the double (default) or a real cluster (`LPA_DRUID_URL=http://router:8888`).

Data reaches either one the same way Druid gets it in production: `index_parallel` tasks with the enriched
rows (dimensions from ingestion.schema, the one definition). Each target uses datasource names of its own,
so a run against a shared cluster does not touch anyone's data; on a real cluster the loader waits until
the rows are queryable (batch segments are served a little after the task succeeds).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingestion.schema import TIMESTAMP_COLUMN, EnrichedRow, druid_dimensions
from query_api.store.druid_store import DruidStore
from tests.druid_double.server import DruidDoubleServer

REAL_DRUID_URL = os.environ.get("LPA_DRUID_URL")
_REAL_DRUID_WAIT_S = 300.0


def enriched_task_spec(datasource: str, rows: Iterable[EnrichedRow]) -> dict:
    data = "\n".join(row.model_dump_json() for row in rows)
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": TIMESTAMP_COLUMN, "format": "millis"},
                "dimensionsSpec": {"dimensions": druid_dimensions()},
                "granularitySpec": {"segmentGranularity": "DAY", "queryGranularity": "NONE", "rollup": False},
            },
            "ioConfig": {"type": "index_parallel", "inputSource": {"type": "inline", "data": data},
                         "inputFormat": {"type": "json"}, "appendToExisting": True},
            "tuningConfig": {"type": "index_parallel", "maxNumConcurrentSubTasks": 1},
        },
    }


@dataclass
class DruidTarget:
    url: str
    server: DruidDoubleServer | None = None  # None: a real Druid
    prefix: str = field(default_factory=lambda: f"lpa_test_{uuid.uuid4().hex[:8]}")

    @property
    def is_double(self) -> bool:
        return self.server is not None

    @property
    def enriched(self) -> str:
        return f"{self.prefix}_enriched"

    @property
    def leaves(self) -> str:
        return f"{self.prefix}_leaves"

    def store(self, **kwargs: object) -> DruidStore:
        wait = 2.0 if self.is_double else _REAL_DRUID_WAIT_S
        options: dict = {"timeout_s": 5.0, "leaves_wait_s": wait} | kwargs
        return DruidStore(self.url, datasource=self.enriched, leaves_datasource=self.leaves, **options)

    def load(self, rows: list[EnrichedRow]) -> None:
        """Index the rows and return once SQL sees them."""
        store = self.store()
        before = self.count(self.enriched)
        task_id = store.submit_task(enriched_task_spec(self.enriched, rows))
        store.wait_for_task(task_id, 10.0 if self.is_double else _REAL_DRUID_WAIT_S)
        self.wait_rows(self.enriched, before + len(rows))

    def count(self, datasource: str) -> int:
        store = self.store()
        exists = store.run_sql("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = ?", [datasource])
        if not exists.rows[0][0]:
            return 0
        return int(store.run_sql(f'SELECT COUNT(*) FROM "{datasource}"').rows[0][0])

    def wait_rows(self, datasource: str, expected: int) -> None:
        deadline = time.monotonic() + (5.0 if self.is_double else _REAL_DRUID_WAIT_S)
        while self.count(datasource) < expected:
            if time.monotonic() > deadline:
                raise AssertionError(f"{datasource} never reached {expected} rows")
            time.sleep(0.05 if self.is_double else 2.0)


def open_target() -> DruidTarget:
    if REAL_DRUID_URL:
        return DruidTarget(url=REAL_DRUID_URL.rstrip("/"))
    server = DruidDoubleServer().start()
    return DruidTarget(url=server.url, server=server)


def close_target(target: DruidTarget) -> None:
    if target.server is not None:
        target.server.stop()


def rows_json(rows: Iterable[EnrichedRow]) -> str:
    return "\n".join(json.dumps(r.model_dump()) for r in rows)
