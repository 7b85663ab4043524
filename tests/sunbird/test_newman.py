"""Sunbird groups-service's own API test collection (Postman, run by newman) against a real `lpa up`.

Every folder but `AuthToken` (it asks Keycloak for tokens; we hand newman a token of the embedded default
instead). One request is left out by name, with its reason in docs/sunbird.md: "400 - Missing visited Flag"
asserts groups-service's 500 database error for a missing field, where this project answers 400
GS_MBRSHP_UDT02 (bad input is never a 500 here); `test_the_one_request_left_out_gets_a_400` pins that answer.

newman comes from tests/sunbird/package.json (pinned, `npm ci` in scripts/test); without node the test skips
and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from lpa.settings import Settings
from query_api.auth import issue_token
from tests.fixtures.stack import lpa_up

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
COLLECTION = HERE / "groups-service" / "groups_api_tests.postman_collection.json"
NEWMAN = HERE / "node_modules" / ".bin" / "newman"
USER = "sunbird-user-1"
SUBJECT = f"f:5a8a3f2b-3409-42e0-9001-f913bc0fde31:{USER}"  # Keycloak style: the user id follows the last ':'

FOLDERS = ("HealthCheck", "CreateGroup", "ListGroup", "UpdateGroup", "ReadGroup", "DeleteGroup")
MEMBERSHIP_REQUESTS = ("200 - With minimum required inputs", "200 - With visited Flag False",
                       "400 - Missing User Id", "400 - Missing group id and visited Flag", "401 - Invalid user id")
LEFT_OUT = {"400 - Missing visited Flag": "asserts groups-service's 500 GS_MBRSHP_UDT03 for a missing field"}


def _requests_in(items: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for item in items:
        names += _requests_in(item["item"]) if "item" in item else [item["name"]]
    return names


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    data_dir = tmp_path_factory.mktemp("lpa-up-sunbird")
    with lpa_up(data_dir) as api_url:
        yield data_dir, api_url


@pytest.fixture(scope="module")
def token(stack: tuple[Path, str]) -> str:
    return issue_token(Settings(data_dir=stack[0]), SUBJECT)  # the running stack's key, from its data dir


def test_the_selection_is_every_folder_but_authtoken_minus_the_listed_request() -> None:
    collection = json.loads(COLLECTION.read_text())
    folders = {item["name"]: _requests_in(item["item"]) for item in collection["item"]}
    assert set(folders) - set(FOLDERS) == {"AuthToken", "UpdateGroupMembership"}
    assert set(folders["UpdateGroupMembership"]) == set(MEMBERSHIP_REQUESTS) | set(LEFT_OUT)
    everywhere = [name for names in folders.values() for name in names]
    assert all(everywhere.count(name) == 1 for name in MEMBERSHIP_REQUESTS)  # selecting them by name is exact


def test_sunbird_collection_passes_against_lpa_up(stack: tuple[Path, str], token: str, tmp_path: Path) -> None:
    if shutil.which("node") is None or not NEWMAN.exists():
        pytest.skip("newman is not installed: needs node + `npm ci` in tests/sunbird (scripts/test does it)")
    _, api_url = stack
    report = tmp_path / "newman-report.json"
    selection = [arg for name in (*FOLDERS, *MEMBERSHIP_REQUESTS) for arg in ("--folder", name)]
    env_vars = {"host": api_url, "kong_api_key": "Bearer gateway-key-is-ignored", "keycloak_access_token": token,
                "user_id": USER, "group_name": "Maths circle", "group_description": "Study group"}
    command = [str(NEWMAN), "run", str(COLLECTION), *selection, "--reporters", "cli,json",
               "--reporter-json-export", str(report), "--timeout-request", "20000", "--color", "off",
               *[arg for key, value in env_vars.items() for arg in ("--env-var", f"{key}={value}")]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})
    (HERE / "newman-report.json").write_text(report.read_text() if report.exists() else "{}")  # for CI artifacts
    assert report.exists(), done.stdout + done.stderr
    stats = json.loads(report.read_text())["run"]["stats"]
    print(f"newman: {stats['requests']['total']} requests, {stats['assertions']['total']} assertions, "
          f"{stats['assertions']['failed']} failed")
    assert stats["requests"]["total"] == 1 + 3 + 3 + 4 + 2 + 2 + len(MEMBERSHIP_REQUESTS), done.stdout
    assert stats["assertions"]["total"] >= 100, done.stdout
    assert stats["assertions"]["failed"] == 0 and stats["testScripts"]["failed"] == 0, done.stdout
    assert stats["prerequestScripts"]["failed"] == 0 and done.returncode == 0, done.stdout + done.stderr


def test_the_one_request_left_out_gets_a_400(stack: tuple[Path, str], token: str) -> None:
    _, api_url = stack
    headers = {"X-Authenticated-User-Token": token, "Authorization": "Bearer gateway-key-is-ignored"}
    created = requests.post(f"{api_url}/api/group/v1/create", json={"request": {"name": "Left out"}},
                            headers=headers, timeout=10).json()
    response = requests.patch(f"{api_url}/api/group/membership/v1/update", headers=headers, timeout=10, json={
        "request": {"userId": USER, "groups": [{"groupId": created["result"]["groupId"]}]}})
    assert response.status_code == 400
    assert response.json()["params"]["err"] == "GS_MBRSHP_UDT02" and response.json()["responseCode"] == 400
