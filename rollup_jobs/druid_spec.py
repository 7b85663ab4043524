"""The Druid batch spec for the daily_progress rollups, derived from rollup_jobs.schema.DAILY_PROGRESS_SCHEMA.

The enriched rows need no spec of their own: they are the stream's rows, loaded with
ingestion/specs/index_parallel_parquet.json (baseDir = <output>/enriched). This one adds a second datasource,
`lpa_daily_progress`, with `day_ms` as Druid's __time. Regenerate the JSON with
`python -m rollup_jobs.druid_spec`; a unit test fails when the file and the schema drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyspark.sql import types as T

from rollup_jobs.schema import DAILY_PROGRESS_SCHEMA

DATASOURCE = "lpa_daily_progress"
SPEC_FILE = Path(__file__).parent / "specs" / "daily_progress_index_parallel.json"
TIME_COLUMN = "day_ms"
_DRUID_TYPES: dict[type[T.DataType], str] = {T.StringType: "string", T.LongType: "long", T.DateType: "string"}


def dimensions() -> list[dict[str, str]]:
    """Every column but the time; dates (day, valid_to) as ISO strings, as Druid reads Parquet DATE."""
    return [{"type": _DRUID_TYPES[type(f.dataType)], "name": f.name}
            for f in DAILY_PROGRESS_SCHEMA.fields if f.name != TIME_COLUMN]


def daily_progress_spec(base_dir: str = "/data/lpa/backfill/daily_progress") -> dict[str, Any]:
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": DATASOURCE,
                "timestampSpec": {"column": TIME_COLUMN, "format": "millis"},
                "dimensionsSpec": {"dimensions": dimensions()},
                "metricsSpec": [],
                # One row per learner x course x scope x day already: nothing to roll up.
                "granularitySpec": {"segmentGranularity": "MONTH", "queryGranularity": "DAY", "rollup": False},
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "local", "baseDir": base_dir, "filter": "*.parquet"},
                "inputFormat": {"type": "parquet"},
                # A rerun replaces the interval it covers (the rollups are recomputed, not appended).
                "appendToExisting": False,
            },
            "tuningConfig": {"type": "index_parallel", "maxNumConcurrentSubTasks": 2,
                             "partitionsSpec": {"type": "dynamic"}},
        },
    }


def rendered() -> str:
    return json.dumps(daily_progress_spec(), indent=2) + "\n"


if __name__ == "__main__":
    SPEC_FILE.parent.mkdir(exist_ok=True)
    SPEC_FILE.write_text(rendered())
    print(f"wrote {SPEC_FILE}")
