"""Apache Superset 6.1.0 in its own virtual environment: install, initialise, import a bundle, serve.

Superset's dependency pins clash with the project's (SQLAlchemy 1.4 vs 2.0...), so it never enters the
project's venv: it lives in `.venv-superset` (LPA_SUPERSET_VENV), installed with the verified recipe's
constraints (dashboards/superset/constraints.txt, a copy of the recipe's pip freeze) and re-installed only
when they change (a stamp file keyed by their hash). Everything else here drives that venv's `superset` and
`gunicorn` executables as subprocesses.

Recipe gotchas this follows: `rich` and `cachetools` named on the pip command line (not dependencies, but
imported), Flask-Caching pinned by the constraints, CSRF off so scripts can log in, the DuckDB file opened
read-only and never held read-write by another process, import-dashboards checked through REST afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "superset" / "constraints.txt"
CONFIG = HERE / "superset" / "superset_config.py"
SUPERSET_SPEC = "apache-superset[duckdb]==6.1.0"
EXTRA_PACKAGES = ("rich", "cachetools")  # imported by Superset 6.1.0 but not declared: name them explicitly
DEFAULT_VENV = Path(os.environ.get("LPA_SUPERSET_VENV", ".venv-superset"))


class SupersetError(RuntimeError):
    """A Superset step failed; the message names the step and ends with the log's last lines."""


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def install_key() -> str:
    """What the installed venv depends on: the constraints, the package spec and this Python's version."""
    digest = hashlib.sha256(CONSTRAINTS.read_bytes())
    digest.update(f"{SUPERSET_SPEC} {' '.join(EXTRA_PACKAGES)} {sys.version_info[:2]}".encode())
    return digest.hexdigest()[:16]


def ensure_venv(venv_dir: Path = DEFAULT_VENV, *, quiet: bool = True) -> Path:
    """Create/refresh the Superset venv unless its stamp matches install_key(); returns the venv's bin dir.
    A file lock makes concurrent callers (two test runs, a test and `serve`) wait instead of racing pip."""
    venv_dir = venv_dir.resolve()
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    stamp = venv_dir / f".lpa-installed-{install_key()}"
    lock_path = venv_dir.parent / f".{venv_dir.name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return venv_dir / "bin"
        if not (venv_dir / "bin" / "python").exists():
            venv.EnvBuilder(with_pip=True).create(venv_dir)
            (venv_dir / ".gitignore").write_text("*\n")
        log.info("installing %s into %s (first run takes 1-2 minutes)", SUPERSET_SPEC, venv_dir)
        cmd = [str(venv_dir / "bin" / "pip"), "install", "--disable-pip-version-check", "-c", str(CONSTRAINTS),
               SUPERSET_SPEC, *EXTRA_PACKAGES]
        if quiet:
            cmd.insert(2, "-q")
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SupersetError(f"pip install of {SUPERSET_SPEC} failed (exit {done.returncode}):\n"
                                f"{done.stderr[-3000:]}")
        for old in venv_dir.glob(".lpa-installed-*"):
            old.unlink()
        stamp.touch()
    return venv_dir / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SupersetHome:
    """One Superset instance's state: metadata DB, logs, secret key and admin credentials."""

    bin_dir: Path
    home: Path
    admin_user: str = "admin"
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(42))

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SUPERSET_CONFIG_PATH": str(CONFIG), "SUPERSET_HOME": str(self.home),
                "SUPERSET_SECRET_KEY": self.secret_key, "PYTHONWARNINGS": "ignore", "FLASK_APP": "superset"}

    def _run(self, step: str, *args: str, expect: str | None = None) -> None:
        log_path = self.home / f"{step}.log"
        t0 = time.monotonic()
        with log_path.open("w") as out:
            done = subprocess.run([str(self.bin_dir / "superset"), *args], stdout=out, stderr=subprocess.STDOUT,
                                  env=self.env, cwd=self.home, check=False)
        if done.returncode != 0 or (expect and expect not in log_path.read_text(errors="replace")):
            raise SupersetError(f"superset {step} failed (exit {done.returncode}); {log_path}:\n{_tail(log_path)}")
        log.info("superset %s: %.1f s", step, time.monotonic() - t0)

    def initialise(self) -> None:
        """A fresh metadata DB: `db upgrade`, the admin user, `init` (roles and permissions)."""
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "superset.db").unlink(missing_ok=True)
        self._run("db_upgrade", "db", "upgrade")
        self._run("create_admin", "fab", "create-admin", "--username", self.admin_user, "--password",
                  self.admin_password, "--firstname", "Program", "--lastname", "Manager",
                  "--email", "admin@example.com", expect="created")
        self._run("init", "init")

    def import_bundle(self, bundle: Path) -> None:
        """`import-dashboards` exits 1 on a failed import (but not on every bad bundle: callers check REST)."""
        self._run("import", "import-dashboards", "-p", str(bundle), "-u", self.admin_user)

    @contextlib.contextmanager
    def serve(self, port: int | None = None, host: str = "127.0.0.1", timeout_s: float = 90) -> Iterator[str]:
        """gunicorn on host:port (a free one by default) until the block exits; yields the base URL."""
        port = port or free_port()
        base = f"http://{host}:{port}"
        log_path = self.home / "gunicorn.log"
        with log_path.open("w") as out:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [str(self.bin_dir / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "8", "--timeout", "120",
                 "-b", f"{host}:{port}", "superset.app:create_app()"],
                stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.home, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise SupersetError(f"gunicorn exited with {proc.returncode}; {log_path}:\n{_tail(log_path)}")
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{base}/health", timeout=2).ok:
                        break
                if time.monotonic() > deadline:
                    raise SupersetError(f"Superset not healthy after {timeout_s:.0f} s; {log_path}:\n"
                                        f"{_tail(log_path)}")
                time.sleep(0.25)
            yield base
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


class SupersetClient:
    """The few REST calls the checks need (JWT from /api/v1/security/login)."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base = base
        r = requests.post(f"{base}/api/v1/security/login", timeout=30, json={
            "username": user, "password": password, "provider": "db", "refresh": False})
        if r.status_code != 200:
            raise SupersetError(f"REST login failed: HTTP {r.status_code} {r.text[:200]}")
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def get(self, path: str) -> dict:
        r = requests.get(f"{self.base}{path}", headers=self.headers, timeout=120)
        if r.status_code != 200:
            raise SupersetError(f"GET {path}: HTTP {r.status_code} {r.text[:500]}")
        return r.json()

    def dashboards(self) -> list[dict]:
        return self.get("/api/v1/dashboard/?q=(page_size:100)")["result"]

    def dashboard_charts(self, dashboard_id: int) -> list[dict]:
        return self.get(f"/api/v1/dashboard/{dashboard_id}/charts")["result"]

    def chart_rows(self, chart_id: int) -> int:
        """Rows the chart's saved query returns (summed over its queries); raises on a query error."""
        body = self.get(f"/api/v1/chart/{chart_id}/data/")
        for query in body["result"]:
            if query.get("error"):
                raise SupersetError(f"chart {chart_id}: {query['error']}")
        return sum(int(q.get("rowcount") or 0) for q in body["result"])
