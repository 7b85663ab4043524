"""Render the Druid ingestion specs from ingestion.schema (the one definition).

`python -m ingestion.specs.render` rewrites the committed JSON files; tests/unit/test_schema_drift.py fails
when they differ from what this renders. The streaming supervisor and the Parquet backfill share one
dataSchema; only ioConfig and tuningConfig differ. Only what differs from Druid's defaults is stated;
the bootstrap servers and the input directory are defaults that `lpa druid apply-specs|backfill` override.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingestion.schema import TIMESTAMP_COLUMN, druid_dimensions

HERE = Path(__file__).resolve().parent
DATASOURCE = "lpa_enriched"  # = query_api.store.druid_store.ENRICHED_DATASOURCE
SUPERVISOR_FILE = HERE / "kafka_supervisor.json"
BACKFILL_FILE = HERE / "index_parallel_parquet.json"


def data_schema() -> dict[str, Any]:
    return {
        "dataSource": DATASOURCE,
        "timestampSpec": {"column": TIMESTAMP_COLUMN, "format": "millis"},
        "dimensionsSpec": {"dimensions": druid_dimensions()},
        # Rollup off: every enriched row is kept as it is, so exact COUNT(DISTINCT ...) and MAX(status) per
        # learner/content are computed at query time and replays are de-duplicated by row_id (see README.md).
        "granularitySpec": {"type": "uniform", "segmentGranularity": "DAY", "queryGranularity": "NONE",
                            "rollup": False},
        "metricsSpec": [],
    }


def supervisor_spec(topic: str = "lpa.enriched") -> dict[str, Any]:
    return {
        "type": "kafka",
        "spec": {
            "dataSchema": data_schema(),
            "ioConfig": {
                "type": "kafka",
                "topic": topic,
                "inputFormat": {"type": "json"},
                # The cluster's address; `lpa druid apply-specs` deployments override it per environment.
                "consumerProperties": {"bootstrap.servers": "kafka:9092"},
                "useEarliestOffset": True,
                "taskCount": 1,
                "replicas": 1,
                "taskDuration": "PT1H",
            },
            "tuningConfig": {"type": "kafka", "maxRowsPerSegment": 5000000},
        },
    }


def index_parallel_spec(base_dir: str = "/data/lpa/backfill", file_filter: str = "*.parquet") -> dict[str, Any]:
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": data_schema(),
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "local", "baseDir": base_dir, "filter": file_filter},
                "inputFormat": {"type": "parquet"},
                "appendToExisting": True,
            },
            "tuningConfig": {"type": "index_parallel", "maxNumConcurrentSubTasks": 2,
                             "partitionsSpec": {"type": "dynamic"}},
        },
    }


def rendered() -> dict[Path, str]:
    return {path: json.dumps(spec, indent=2) + "\n"
            for path, spec in ((SUPERVISOR_FILE, supervisor_spec()), (BACKFILL_FILE, index_parallel_spec()))}


def main() -> None:
    for path, text in rendered().items():
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
