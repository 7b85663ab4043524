"""/healthz (the process answers) and /readyz (the metadata store answers and every plugin loaded, plus any
checks registered in app.config["READINESS_CHECKS"]: callables returning (name, ok, detail)). No token."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, current_app
from sqlalchemy import text

from query_api.http import respond
from query_api.schemas.common import Check, Health, Readiness

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

ReadinessCheck = Callable[[], tuple[str, bool, str]]


@bp.get("/healthz")
def healthz() -> Response:
    return respond(Health(status="ok"))


def _database() -> Check:
    try:
        with current_app.extensions["lpa.db"].engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return Check(name="metadata_db", ok=True)
    except Exception as error:
        return Check(name="metadata_db", ok=False, detail=f"{type(error).__name__}: {error}"[:500])


def _plugins() -> Check:
    errors = current_app.extensions["lpa.plugins"].load_errors
    detail = "; ".join(f"{name}: {message}" for name, message in sorted(errors.items()))
    return Check(name="plugins", ok=not errors, detail=detail)


def _extra(check: ReadinessCheck) -> Check:
    try:
        name, ok, detail = check()
        return Check(name=name, ok=bool(ok), detail=detail or "")
    except Exception as error:
        log.warning("readiness check %s failed: %s", getattr(check, "__name__", check), error)
        return Check(name=getattr(check, "__name__", "check"), ok=False, detail=f"{type(error).__name__}: {error}")


@bp.get("/readyz")
def readyz() -> Response:
    checks = [_database(), _plugins(), *(_extra(c) for c in current_app.config.get("READINESS_CHECKS", []))]
    ready = all(c.ok for c in checks)
    return respond(Readiness(status="ready" if ready else "not_ready", checks=checks), 200 if ready else 503)
