"""Analytics store adapters: the query API reads learners' progress through `AnalyticsStore` only."""

from query_api.store.base import (
    AnalyticsStore,
    CourseProgressRow,
    ProgressRows,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
    UnitProgressRow,
)

__all__ = [
    "AnalyticsStore",
    "CourseProgressRow",
    "ProgressRows",
    "StoreError",
    "StoreTimeout",
    "StoreUnavailable",
    "UnitProgressRow",
]
