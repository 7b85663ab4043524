"""One setting picks the analytics store for the whole API: `LPA_ANALYTICS_STORE=duckdb|druid`.

`build_analytics_store` is the only place that knows both adapters; everything else holds an
`AnalyticsStore`. `analytics_readiness_check` is what `/readyz` runs: it names the store in use and says
whether it answers a trivial query right now.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from lpa.settings import Settings
from query_api.store.base import AnalyticsStore, StoreError

ReadinessCheck = Callable[[], tuple[str, bool, str]]


class StoreConfigError(ValueError):
    """The settings name a store that cannot be built (e.g. druid without LPA_DRUID_URL)."""


def store_kind(store: AnalyticsStore) -> str:
    return getattr(store, "kind", None) or type(store).__name__.removesuffix("Store").lower()


def build_analytics_store(settings: Settings, duckdb_conn: duckdb.DuckDBPyConnection | None = None) -> AnalyticsStore:
    """The adapter `settings.analytics_store` names. DuckDB reuses the process's one connection when given
    (DuckDB allows one read-write opener per file), else opens `settings.analytics_path`."""
    if settings.analytics_store == "druid":
        if not settings.druid_url:
            raise StoreConfigError("LPA_ANALYTICS_STORE=druid needs LPA_DRUID_URL (the router, e.g. http://router:8888)")
        from query_api.store.druid_store import DruidStore

        return DruidStore(settings.druid_url, timeout_s=settings.query_timeout_s)
    from query_api.store.duckdb_store import DuckDBStore

    if duckdb_conn is None:
        from ingestion.sinks.duckdb_conn import open_duckdb

        duckdb_conn = open_duckdb(settings.analytics_path)
    return DuckDBStore(duckdb_conn, timeout_s=settings.query_timeout_s)


def analytics_readiness_check(store: AnalyticsStore, *, where: str = "") -> ReadinessCheck:
    """`() -> ("analytics", ok, "druid at http://router:8888 answers")` for app.config["READINESS_CHECKS"]."""
    kind = store_kind(store)
    location = where or getattr(store, "url", "") or "embedded"

    def check() -> tuple[str, bool, str]:
        try:
            store.ping()
        except StoreError as error:
            return "analytics", False, f"{kind} at {location} does not answer: {error}"
        return "analytics", True, f"{kind} at {location} answers"

    return check
