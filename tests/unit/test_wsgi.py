"""The gunicorn entry point attaches the analytics store named by the settings and reports it on /readyz."""

from __future__ import annotations

from pathlib import Path

from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.settings import Settings
from query_api.wsgi import create_production_app


def test_production_app_serves_a_read_only_duckdb_store(tmp_path: Path) -> None:
    store_file = tmp_path / "analytics.duckdb"
    open_duckdb(store_file).close()
    settings = Settings(data_dir=tmp_path, duckdb_path=store_file, jwt_secret="s" * 32, log_format="text")
    app = create_production_app(settings)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200, ready.json
    checks = {c["name"]: c for c in ready.json["checks"]}
    assert checks["analytics"]["ok"] and "duckdb" in checks["analytics"]["detail"]
    assert app.extensions["lpa.analytics"] is not None
    assert any(rule.rule.startswith("/groups/") for rule in app.url_map.iter_rules())
