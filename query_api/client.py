"""Talking to the running `lpa up` from another shell: find it through the data dir's run.json and call its
API with a token for the system user (an operator)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from lpa.settings import Settings
from query_api.auth import OPERATOR, SYSTEM_USER, issue_token


class StackNotRunning(RuntimeError):
    """No run.json, or it points at an API that does not answer."""


@dataclass(frozen=True)
class RunningStack:
    api_url: str
    data_dir: str
    pid: int | None = None
    kafka_bootstrap: str | None = None


def find_stack(settings: Settings) -> RunningStack:
    path = settings.runtime_file
    if not path.exists():
        raise StackNotRunning(f"no running stack found ({path} is missing): start one with `lpa up`, "
                              "or pass --data-dir")
    try:
        data = json.loads(path.read_text())
        return RunningStack(api_url=str(data["api_url"]).rstrip("/"), data_dir=str(data.get("data_dir", "")),
                            pid=data.get("pid"), kafka_bootstrap=data.get("kafka_bootstrap"))
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise StackNotRunning(f"{path} is not a valid run file: {error}") from error


class ApiClient:
    """requests against the stack's API, as the system operator."""

    def __init__(self, settings: Settings, api_url: str | None = None, timeout_s: float = 30.0) -> None:
        self.base = (api_url or find_stack(settings).api_url).rstrip("/")
        self.timeout_s = timeout_s
        self.session = requests.Session()
        token = issue_token(settings, SYSTEM_USER, ttl_s=3600, roles=[OPERATOR])
        self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, self.base + path, timeout=self.timeout_s, **kwargs)
        except requests.ConnectionError as error:
            raise StackNotRunning(f"the API at {self.base} does not answer: is `lpa up` running?") from error

    def put_hierarchy(self, course_id: str, doc: Any) -> requests.Response:
        return self.request("PUT", f"/v1/courses/{requests.utils.quote(course_id, safe='')}/hierarchy", json=doc)
