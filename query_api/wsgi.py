"""Production entry point: the API with its analytics store attached, as gunicorn serves it.

    gunicorn -w 4 -k gthread --threads 4 'query_api.wsgi:create_production_app()'

Settings come from LPA_* variables (LPA_DATABASE_URL, LPA_ANALYTICS_STORE=druid + LPA_DRUID_URL, JWT keys).
With LPA_ANALYTICS_STORE=duckdb every worker opens the store file read-only: DuckDB allows many read-only
processes but no reader beside a read-write one, so this serves a file no pipeline is writing (a snapshot,
a backfill result). The embedded default (`lpa up`) runs pipeline and API in one process instead.
"""

from __future__ import annotations

import duckdb
from flask import Flask

from lpa.logging_setup import configure_logging
from lpa.settings import Settings, load_settings
from query_api.app import create_app
from query_api.store.base import AnalyticsStore
from query_api.store.factory import analytics_readiness_check, build_analytics_store

WEB_BLUEPRINTS = ["query_api.web:bp"]


def production_store(settings: Settings) -> AnalyticsStore:
    if settings.analytics_store == "duckdb":
        return build_analytics_store(settings, duckdb.connect(str(settings.analytics_path), read_only=True))
    return build_analytics_store(settings)


def create_production_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    analytics = production_store(settings)
    return create_app(settings, analytics=analytics,
                      test_config={"READINESS_CHECKS": [analytics_readiness_check(analytics)],
                                   "EXTRA_BLUEPRINTS": WEB_BLUEPRINTS})
