"""The app factory: no module-level app; extensions wired here; one blueprint per resource, plugin
blueprints from the plugin registry, and optional extra blueprints from `app.config["EXTRA_BLUEPRINTS"]`.

Production: `gunicorn 'query_api.wsgi:create_production_app()'` (the analytics store attached; see query_api/wsgi.py).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Blueprint, Flask

from lpa.settings import Settings, load_settings
from query_api import db, errors, metrics, sunbird
from query_api.blueprints import batches, catalog, groups, health, plugins
from query_api.openapi import bp as openapi_bp
from query_api.plugins.base import PluginRegistry

log = logging.getLogger(__name__)

PLUGIN_PREFIX = "/v1/groups/<group_id>/plugins/{plugin_id}"


def _load_blueprint(spec: str | Blueprint) -> Blueprint:
    """"package.module:attribute" (or a Blueprint) -> the blueprint."""
    if isinstance(spec, Blueprint):
        return spec
    module_name, _, attribute = spec.partition(":")
    blueprint = getattr(importlib.import_module(module_name), attribute or "bp")
    if callable(blueprint) and not isinstance(blueprint, Blueprint):
        blueprint = blueprint()
    if not isinstance(blueprint, Blueprint):
        raise TypeError(f"{spec} is not a Flask blueprint")
    return blueprint


def create_app(settings: Settings | None = None, *, analytics: object | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    """Build the API.

    test_config keys (all optional): AUTO_MIGRATE (default: True for SQLite, False otherwise: production runs
    `lpa db upgrade` once, not every gunicorn worker), PLUGIN_REGISTRY (a PluginRegistry instead of entry-point
    discovery), EXTRA_BLUEPRINTS (list of Blueprint or "module:attribute"; an attribute may be a factory),
    READINESS_CHECKS (callables returning (name, ok, detail)).
    """
    settings = settings or load_settings()
    app = Flask(__name__, static_folder=None)  # the web page blueprint brings its own static folder
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=16 * 1024 * 1024, READINESS_CHECKS=[],
                      EXTRA_BLUEPRINTS=[], AUTO_MIGRATE=settings.metadata_url.startswith("sqlite"))
    app.config.update(test_config or {})
    app.extensions["lpa.settings"] = settings
    app.extensions["lpa.analytics"] = analytics

    errors.init_app(app)
    database = db.init_app(app, settings.metadata_url)
    if app.config["AUTO_MIGRATE"]:
        from query_api.migrate import upgrade

        if settings.metadata_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(database.engine)
    metrics.init_app(app)

    registry = app.config.get("PLUGIN_REGISTRY") or PluginRegistry.discover()
    app.extensions["lpa.plugins"] = registry

    for blueprint in (health.bp, openapi_bp, groups.bp, batches.bp, catalog.bp, plugins.bp, sunbird.bp):
        app.register_blueprint(blueprint)
    for plugin, blueprint in registry.blueprints():
        app.register_blueprint(blueprint, url_prefix=PLUGIN_PREFIX.format(plugin_id=plugin.id),
                               name=f"plugin_{plugin.id.replace('-', '_')}")
    for spec in app.config["EXTRA_BLUEPRINTS"]:
        try:
            app.register_blueprint(_load_blueprint(spec))
        except (ImportError, AttributeError) as error:
            # Optional by design ("if importable": e.g. the web page before it is written); logged, not hidden.
            log.warning("extra blueprint %s not registered: %s", spec, error)
    return app
