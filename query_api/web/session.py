"""Who is looking at the page: the bearer token kept in an HttpOnly, SameSite=Strict cookie after `/login`,
verified on every request exactly like the API's Authorization header (same keys, expiry, issuer).

Forms that change something also carry a CSRF token: an HMAC of the session token under the signing key,
so only a page served to this session can post (SameSite already stops cross-site posts; this is the belt).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, g, request

from lpa.settings import Settings
from query_api.auth import Caller, decode_token
from query_api.errors import ApiError, Forbidden

COOKIE = "lpa_token"


def settings() -> Settings:
    return current_app.extensions["lpa.settings"]


def caller_from_cookie() -> Caller | None:
    """The verified caller, also set as the request's caller so the API's services see the same user."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        caller = decode_token(settings(), token)
    except ApiError:
        return None
    g.lpa_caller = caller
    return caller


def csrf_token() -> str:
    token = request.cookies.get(COOKIE, "")
    return hmac.new(settings().signing_key.encode(), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, csrf_token()):
        raise Forbidden("the form has expired: reload the page and try again", code="csrf_failed")


def safe_next(target: str | None, default: str = "/groups") -> str:
    """Only same-site paths: never redirect to another host after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
