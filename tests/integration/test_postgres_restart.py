"""PostgreSQL (the metadata store) stopped and started under write load.

A real threaded WSGI server over a database of its own; client threads keep creating groups and posting
announcements and remember every write the API acknowledged (2xx with an id). Mid-run the cluster is stopped
(fast mode) for a short outage and started again. While it is down the API answers 503
`metadata_unavailable` (never a 500, never a hang past the client timeout); afterwards it recovers by itself
(the pool pre-pings and replaces dead connections) and every acknowledged write is still readable.

Other engineers' tests may be connected to the same cluster: the outage is kept to ~2 s, and the cluster is
started again in a `finally` whatever happens.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from lpa.settings import Settings
from query_api.app import create_app
from query_api.auth import issue_token
from query_api.migrate import upgrade

pytestmark = [pytest.mark.integration, pytest.mark.pg_restart]

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SECRET = "pg-restart-signing-key-0123456789abcdef0123"  # noqa: S105 - tests only
WRITERS = 4
OUTAGE_S = 2.0
CLIENT_TIMEOUT_S = 15.0  # a request taking longer than this counts as a hang
RECOVERY_DEADLINE_S = 60.0


def _cluster() -> tuple[str, str]:
    """(version, name) of the local cluster on port 5432, from pg_lsclusters."""
    for line in subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return version, name
    pytest.skip("no PostgreSQL cluster on port 5432")


def _pg_ctl(action: str, *extra: str) -> None:
    version, name = _cluster()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action, *extra],
                   check=True, capture_output=True, timeout=60)


def _reachable(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not yet"
        return False
    finally:
        engine.dispose()


def _ensure_running(timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not _reachable(f"{SERVER}/postgres"):
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not come back")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *_cluster(), "start"],
                       capture_output=True, timeout=60, check=False)  # "already running" is fine
        time.sleep(0.5)


@pytest.fixture
def database() -> Iterator[str]:
    """A dedicated, migrated database (dropped at the end)."""
    if not _reachable(f"{SERVER}/postgres"):
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    name = f"lpa_pgrestart_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{SERVER}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        _ensure_running()
        with admin.connect() as conn:  # pre-ping: the pooled connection died with the restart
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Ledger:
    """What the clients saw: acknowledged writes and every answer's status, by phase."""

    groups: list[tuple[str, str]] = field(default_factory=list)  # (creator, group id)
    announcements: list[str] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=lambda: {"before": [], "outage": [], "after": []})
    failures: list[str] = field(default_factory=list)  # 500s, other unexpected statuses, hangs
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writer(index: int, base: str, settings: Settings, group_id: str, admin: str, ledger: Ledger,
            phase: list[str], stop: threading.Event) -> None:
    session = requests.Session()
    admin_headers = {"Authorization": f"Bearer {issue_token(settings, admin)}"}
    n = 0
    while not stop.is_set():
        n += 1
        current = phase[0]
        try:
            if n % 2:
                user = f"w{index}_{n}"
                response = session.post(f"{base}/v1/groups", json={"name": f"g {index}/{n}", "members": []},
                                        headers={"Authorization": f"Bearer {issue_token(settings, user)}"},
                                        timeout=CLIENT_TIMEOUT_S)
            else:
                user = admin
                response = session.post(f"{base}/v1/groups/{group_id}/plugins/announcements/announcements",
                                        json={"title": f"t {index}/{n}", "body": "b"}, headers=admin_headers,
                                        timeout=CLIENT_TIMEOUT_S)
        except requests.RequestException as error:
            with ledger.lock:
                ledger.failures.append(f"{current}: {type(error).__name__}: {error}")
            continue
        with ledger.lock:
            ledger.statuses[current].append(response.status_code)
            if response.status_code == 201:
                if n % 2:
                    ledger.groups.append((user, response.json()["id"]))
                else:
                    ledger.announcements.append(response.json()["id"])
            elif response.status_code == 503:
                assert response.json()["error"]["code"] == "metadata_unavailable", response.text
            else:
                ledger.failures.append(f"{current}: {response.status_code} {response.text[:300]}")
        if response.status_code == 503:
            time.sleep(0.05)  # a client backing off a little


def test_api_answers_503_while_postgres_is_down_recovers_alone_and_loses_no_acknowledged_write(
        database: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database, jwt_secret=SECRET,
                        max_groups_per_user=1000)
    app = create_app(settings, test_config={"AUTO_MIGRATE": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{server.server_port}"
    admin = "mentor"
    headers = {"Authorization": f"Bearer {issue_token(settings, admin)}"}
    created = requests.post(f"{base}/v1/groups", json={"name": "load", "members": []}, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    group_id = created.json()["id"]
    linked = requests.put(f"{base}/v1/groups/{group_id}/plugins/announcements", json={"config": {}},
                          headers=headers, timeout=10)
    assert linked.status_code in (200, 201), linked.text

    ledger, phase, stop = Ledger(), ["before"], threading.Event()
    writers = [threading.Thread(target=_writer, args=(i, base, settings, group_id, admin, ledger, phase, stop),
                                daemon=True) for i in range(WRITERS)]
    for thread in writers:
        thread.start()
    try:
        _wait_for(lambda: len(ledger.statuses["before"]) >= 20, 30, "writes before the outage")
        phase[0] = "outage"
        _pg_ctl("stop", "-m", "fast")
        try:
            time.sleep(OUTAGE_S)
        finally:
            _pg_ctl("start")
        phase[0] = "after"
        # recovery without manual action: acknowledged writes resume on their own
        _wait_for(lambda: ledger.statuses["after"].count(201) >= 20, RECOVERY_DEADLINE_S, "writes after restart")
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=CLIENT_TIMEOUT_S + 5)
        _ensure_running()

    try:
        assert not ledger.failures, ledger.failures[:10]
        assert 503 in ledger.statuses["outage"], "the outage was not observed (no 503 while stopped)"
        assert set(ledger.statuses["before"]) == {201}
        # every write the API acknowledged, before, during or after the outage, is there
        assert ledger.groups and ledger.announcements
        session = requests.Session()
        for creator, gid in ledger.groups:
            response = session.get(f"{base}/v1/groups/{gid}",
                                   headers={"Authorization": f"Bearer {issue_token(settings, creator)}"}, timeout=10)
            assert response.status_code == 200, (gid, response.text)
        listed = _all_announcements(session, base, group_id, headers)
        assert set(ledger.announcements) <= listed
        for aid in ledger.announcements[:: max(1, len(ledger.announcements) // 20)]:
            one = session.get(f"{base}/v1/groups/{group_id}/plugins/announcements/announcements/{aid}",
                              headers=headers, timeout=10)
            assert one.status_code == 200, one.text
    finally:
        server.shutdown()
        app.extensions["lpa.db"].engine.dispose()


def _all_announcements(session: requests.Session, base: str, group_id: str, headers: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    offset = 0
    while True:
        page = session.get(f"{base}/v1/groups/{group_id}/plugins/announcements/announcements",
                           params={"limit": 100, "offset": offset}, headers=headers, timeout=10)
        assert page.status_code == 200, page.text
        items: list[dict[str, Any]] = page.json()["announcements"]
        ids |= {item["id"] for item in items}
        if len(items) < 100:
            return ids
        offset += 100


def _wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_lost_connections_map_to_503_but_sqlite_schema_errors_stay_bugs(tmp_path: Path) -> None:
    """The mapping the outage relies on, without an outage: psycopg's connection failures and AdminShutdown are
    503 metadata_unavailable; a SQLite "no such table" is a bug (500), a locked SQLite file is transient (503)."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError

    from query_api.errors import to_response

    app = create_app(Settings(data_dir=tmp_path, jwt_secret=SECRET), test_config={"AUTO_MIGRATE": False})
    cases = [(psycopg.OperationalError("connection refused"), 503),
             (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), 503),
             (sqlite3.OperationalError("database is locked"), 503),
             (sqlite3.OperationalError("no such table: groups"), 500)]
    with app.test_request_context():
        for orig, status in cases:
            response, answered = to_response(OperationalError("SELECT 1", {}, orig))
            assert answered == status, orig
            if status == 503:
                assert response.json["error"]["code"] == "metadata_unavailable"
