"""Bearer JWTs: HS256 with the data dir's key in the embedded default (`lpa token`), RS256 verified against
a JWKS URL in production. Authorisation decisions live in `services.access`; this module only says who calls.

Sunbird clients send the user's token in `X-Authenticated-User-Token` (and a gateway key in Authorization),
so that header wins when present; their user id is the part of `sub` after the last ':'.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import jwt
from flask import current_app, g, request

from lpa.settings import Settings
from query_api.errors import Unauthorized, Unavailable

OPERATOR = "operator"
SYSTEM_USER = "lpa-system"
SUNBIRD_HEADER = "X-Authenticated-User-Token"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Caller:
    user_id: str
    roles: frozenset[str]

    @property
    def is_operator(self) -> bool:
        return OPERATOR in self.roles


def issue_token(settings: Settings, user_id: str, ttl_s: int | None = None,
                roles: Sequence[str] = ()) -> str:
    """An HS256 token for `user_id` signed with the embedded default's key (`roles=["operator"]` for tooling)."""
    if not user_id or not user_id.strip():
        raise ValueError("user id must not be empty")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iss": settings.jwt_issuer, "iat": now,
                              "exp": now + (ttl_s or settings.token_ttl_s)}
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if roles:
        claims["roles"] = list(roles)
    return jwt.encode(claims, settings.signing_key, algorithm="HS256")


def _jwks_client(settings: Settings) -> jwt.PyJWKClient:
    client = current_app.extensions.get("lpa.jwks")
    if client is None:
        if not settings.jwt_jwks_url:
            raise Unavailable("RS256 tokens need LPA_JWT_JWKS_URL", code="auth_misconfigured")
        client = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300, timeout=5)
        current_app.extensions["lpa.jwks"] = client
    return client


def decode_token(settings: Settings, token: str, *, sunbird: bool = False) -> Caller:
    """Verify signature, issuer, expiry (and audience when configured); Unauthorized on any failure."""
    try:
        if settings.jwt_algorithm == "RS256":
            key: Any = _jwks_client(settings).get_signing_key_from_jwt(token).key
        else:
            key = settings.signing_key
        claims = jwt.decode(token, key, algorithms=[settings.jwt_algorithm], issuer=settings.jwt_issuer,
                            audience=settings.jwt_audience, options={"require": ["exp", "sub", "iss"]})
    except jwt.PyJWKClientConnectionError as error:
        raise Unavailable("the identity provider's keys cannot be fetched", code="auth_unavailable") from error
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid token: {error}") from error
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthorized("invalid token: empty subject")
    user_id = subject.rsplit(":", 1)[-1] if sunbird else subject
    roles = claims.get("roles") or []
    return Caller(user_id, frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list)
                  else frozenset())


def _bearer() -> tuple[str, bool]:
    sunbird_token = request.headers.get(SUNBIRD_HEADER)
    if sunbird_token:
        return sunbird_token.strip(), True
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    return token.strip(), False


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    """Every endpoint but health wears this: it sets the caller for `current_user_id()`."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        token, sunbird = _bearer()
        g.lpa_caller = decode_token(current_app.extensions["lpa.settings"], token, sunbird=sunbird)
        return view(*args, **kwargs)

    return wrapped


def current_caller() -> Caller:
    caller = g.get("lpa_caller")
    if caller is None:
        raise Unauthorized("a bearer token is required")
    return caller


def current_user_id() -> str:
    return current_caller().user_id
