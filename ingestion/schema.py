"""The enriched row: the one definition from which the Druid specs and the DuckDB table derive.

Each field's `json_schema_extra["druid"]` says how Druid stores it: "timestamp" (the row time, in epoch
millis), "string", "long", "double" or "multi" (a multi-value string dimension). DuckDB types follow from
that mapping (see DUCKDB_TYPES); tests/unit/test_schema_drift.py fails when the specs or the table drift.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DruidType = Literal["timestamp", "string", "long", "double", "multi"]

DUCKDB_TYPES: dict[str, str] = {
    "timestamp": "BIGINT",
    "string": "VARCHAR",
    "long": "BIGINT",
    "double": "DOUBLE",
    "multi": "VARCHAR[]",
}


def _col(druid: DruidType, description: str) -> dict[str, object]:
    return {"json_schema_extra": {"druid": druid}, "description": description}


class EnrichedRow(BaseModel):
    """One row per (event, content item); an event with no content items (an empty `contents` list, a batch,
    an enrolment, an assessment) still gives one row with `content_id` null, so activity is never lost."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ets: int = Field(**_col("timestamp", "event time, epoch ms (Druid __time)"))
    row_id: str = Field(**_col("string", "UUID5 of event_id + item index: unique per row, stable on replay"))
    event_id: str = Field(**_col("string", "UUID5 of the event's canonical JSON: a replay has the same id"))
    eid: str = Field(**_col("string", "BE_JOB_REQUEST | LPA_BATCH | LPA_ENROLMENT | LPA_ASSESSMENT"))
    action: str | None = Field(default=None, **_col("string", "edata.action"))
    mid: str = Field(**_col("string", "the platform's message id (not unique)"))
    user_id: str | None = Field(default=None, **_col("string", "learner"))
    batch_id: str = Field(**_col("string", "course batch"))
    course_id: str | None = Field(default=None, **_col("string", "course (root collection)"))
    program_id: str | None = Field(default=None, **_col("string", "program of the batch, if any"))
    content_id: str | None = Field(default=None, **_col("string", "leaf or collection the item is about"))
    unit_ids: list[str] = Field(default_factory=list, **_col("multi", "every ancestor collection below the course"))
    status: int | None = Field(default=None, **_col("long", "0 not started, 1 in progress, 2 completed"))
    is_leaf: int | None = Field(default=None, **_col("long", "1 leaf, 0 collection, null: not in the hierarchy"))
    is_optional: int | None = Field(default=None, **_col("long", "1 optional in the current hierarchy"))
    attempt_id: str | None = Field(default=None, **_col("string", "assessment attempt"))
    score: float | None = Field(default=None, **_col("double", "assessment score"))
    max_score: float | None = Field(default=None, **_col("double", "assessment maximum score"))


def druid_type(field_name: str) -> DruidType:
    extra = EnrichedRow.model_fields[field_name].json_schema_extra
    assert isinstance(extra, dict)
    return extra["druid"]  # type: ignore[return-value]


COLUMNS: tuple[str, ...] = tuple(EnrichedRow.model_fields)
TIMESTAMP_COLUMN = next(name for name in COLUMNS if druid_type(name) == "timestamp")


def duckdb_columns() -> list[tuple[str, str]]:
    """(name, DuckDB type) for the enriched_events table, in model order."""
    return [(name, DUCKDB_TYPES[druid_type(name)]) for name in COLUMNS]


def druid_dimensions() -> list[dict[str, object]]:
    """Druid dimensionsSpec entries for every non-time column, in model order."""
    dims: list[dict[str, object]] = []
    for name in COLUMNS:
        kind = druid_type(name)
        if kind == "timestamp":
            continue
        if kind == "multi":
            dims.append({"type": "string", "name": name, "multiValueHandling": "SORTED_ARRAY"})
        else:
            dims.append({"type": kind, "name": name})
    return dims
