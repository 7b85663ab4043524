"""Enriched rows for content-state events, as the enricher emits them (one per content item; one row with
no content for an empty `contents`), so the Druid side of a test gets the same facts as the DuckDB side's
tests/fixtures/progress_state.apply_events."""

from __future__ import annotations

import uuid

from ingestion.schema import EnrichedRow
from tests.fixtures.progress_state import StateEvent


def state_rows(events: list[StateEvent]) -> list[EnrichedRow]:
    rows: list[EnrichedRow] = []
    for index, e in enumerate(events):
        event_id = str(uuid.uuid4())
        common = {"ets": e.ets, "event_id": event_id, "eid": "BE_JOB_REQUEST", "action": "batch-enrolment-update",
                  "mid": f"m-{index}", "user_id": e.user_id, "batch_id": e.batch_id, "course_id": e.course_id}
        if not e.contents:
            rows.append(EnrichedRow(row_id=str(uuid.uuid4()), **common))
        for content_id, status in e.contents.items():
            rows.append(EnrichedRow(row_id=str(uuid.uuid4()), content_id=content_id, status=status, is_leaf=1,
                                    is_optional=0, **common))
    return rows
