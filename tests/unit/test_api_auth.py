"""Bearer tokens: HS256 (embedded default) and RS256 from a JWKS URL served by a local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from lpa.settings import Settings
from query_api.auth import issue_token
from tests.api_fixtures import *  # noqa: F403


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's API
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


def rs256(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    base = {"sub": "u_rs", "iss": "lpa", "exp": int(time.time()) + 60}
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})


def test_every_endpoint_but_health_needs_a_token(client: Any) -> None:
    for path in ("/v1/groups", "/v1/plugins", "/v1/courses", "/v1/batches/b", "/v1/programs/p"):
        response = client.get(path)
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized", path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/healthz").status_code == 200


def test_hs256_tokens_work_and_bad_ones_are_401(client: Any, settings: Settings) -> None:
    good = issue_token(settings, "u_1")
    assert client.get("/v1/groups", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    other_key = Settings(data_dir=settings.data_dir, jwt_secret="another-key-0123456789abcdef0123456789")
    bad_tokens = [
        "garbage", issue_token(other_key, "u_1"), issue_token(settings, "u_1", ttl_s=-10),
        jwt.encode({"sub": "u_1", "exp": int(time.time()) + 60, "iss": "someone-else"}, settings.signing_key),
        jwt.encode({"sub": "u_1", "iss": "lpa"}, settings.signing_key),  # no exp
        jwt.encode({"sub": "u_1", "iss": "lpa", "exp": int(time.time()) + 60}, "", algorithm="none"),
    ]
    for token in bad_tokens:
        response = client.get("/v1/groups", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    assert client.get("/v1/groups", headers={"Authorization": f"Basic {good}"}).status_code == 401


def test_sunbird_header_wins_and_its_subject_is_cut_after_the_last_colon(api: Any, settings: Settings) -> None:
    group_id = api.group("u_42")
    token = issue_token(settings, "f:realm:u_42")
    response = api.client.get(f"/v1/groups/{group_id}", headers={"Authorization": "Bearer gateway-key",
                                                                  "X-Authenticated-User-Token": token})
    assert response.status_code == 200 and response.json["memberRole"] == "admin"


def test_issue_token_refuses_an_empty_user(settings: Settings) -> None:
    with pytest.raises(ValueError):
        issue_token(settings, " ")


def test_rs256_tokens_are_verified_against_the_jwks(make_app: Any, rsa_key: rsa.RSAPrivateKey,
                                                    jwks_url: str) -> None:
    client = make_app(jwt_algorithm="RS256", jwt_jwks_url=jwks_url).test_client()
    ok = client.get("/v1/groups", headers={"Authorization": f"Bearer {rs256(rsa_key)}"})
    assert ok.status_code == 200
    stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (rs256(stranger_key), rs256(rsa_key, exp=int(time.time()) - 5), rs256(rsa_key, iss="x")):
        assert client.get("/v1/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    hs = client.get("/v1/groups", headers={"Authorization": "Bearer " + issue_token(
        Settings(jwt_secret="k" * 40), "u_1")})
    assert hs.status_code == 401  # an RS256 deployment does not accept HS256 tokens


def test_rs256_with_unreachable_jwks_is_503(make_app: Any, rsa_key: rsa.RSAPrivateKey) -> None:
    client = make_app(jwt_algorithm="RS256", jwt_jwks_url="http://127.0.0.1:9/jwks.json").test_client()
    response = client.get("/v1/groups", headers={"Authorization": f"Bearer {rs256(rsa_key)}"})
    assert response.status_code == 503 and response.json["error"]["code"] == "auth_unavailable"
