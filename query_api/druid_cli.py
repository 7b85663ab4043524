"""`lpa druid ...`: deploy the ingestion specs to a Druid cluster.

- `apply-specs` submits the Kafka supervisor spec idempotently: it reads the running spec, shows a unified
  diff, and submits only when something differs. Druid answers with its defaults filled in (and the three
  spec parts repeated at the top level), so the running spec is first reduced to the keys our spec states;
  a default we do not state is never a difference.
- `backfill` submits the index_parallel spec with its input pointed at `--path` and waits for the task.

The specs are the JSON files in ingestion/specs (rendered from ingestion.schema.EnrichedRow by
ingestion/specs/render.py); `--spec` picks another file.
"""

from __future__ import annotations

import difflib
import json
import time
from pathlib import Path
from typing import Any

import click
import requests

from lpa.cli import main

SPECS_DIR = Path(__file__).resolve().parent.parent / "ingestion" / "specs"
SUPERVISOR_PATH = "/druid/indexer/v1/supervisor"
TASK_PATH = "/druid/indexer/v1/task"


class DeployError(click.ClickException):
    """A clear, one-line failure (no traceback) naming the file or the Druid answer."""


# -- specs -------------------------------------------------------------------------------------------------
def load_spec(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise DeployError(f"{path}: cannot read: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise DeployError(f"{path}: line {error.lineno}: not JSON: {error.msg}") from error
    if not isinstance(data, dict) or "type" not in data:
        raise DeployError(f"{path}: not a Druid spec (no top-level \"type\")")
    return data


def find_spec(kind: str, explicit: Path | None) -> Path:
    """The spec file of this `type` (kafka, index_parallel) in ingestion/specs, unless one is given."""
    if explicit is not None:
        return explicit
    for path in sorted(SPECS_DIR.glob("*.json")):
        try:
            if json.loads(path.read_text()).get("type") == kind:
                return path
        except (OSError, ValueError, AttributeError):
            continue
    raise DeployError(f"no {kind} spec in {SPECS_DIR} (render it first, or pass --spec FILE)")


def datasource_of(spec: dict[str, Any]) -> str:
    schema = (spec.get("spec") or {}).get("dataSchema") or spec.get("dataSchema") or {}
    if not schema.get("dataSource"):
        raise DeployError("the spec names no dataSchema.dataSource")
    return str(schema["dataSource"])


def project(running: Any, ours: Any) -> Any:
    """`running` reduced to the shape of `ours`: keys we do not state (Druid's defaults) are dropped."""
    if isinstance(ours, dict) and isinstance(running, dict):
        return {key: project(running[key], value) for key, value in ours.items() if key in running}
    if isinstance(ours, list) and isinstance(running, list) and len(ours) == len(running):
        return [project(r, o) for r, o in zip(running, ours, strict=True)]
    return running


def spec_diff(running: dict[str, Any] | None, ours: dict[str, Any], *, name: str, source: str) -> str:
    """A unified diff from the running spec (projected) to ours; empty when they agree."""
    before = [] if running is None else json.dumps(project(running, ours), indent=2, sort_keys=True).splitlines()
    after = json.dumps(ours, indent=2, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(before, after, fromfile=f"running:{name}" if running else "/dev/null",
                                          tofile=source, lineterm=""))


def with_input(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """The index_parallel spec reading `path`: a local file or directory (as the Druid workers see it), or
    an s3:// prefix. The input format follows the file type when the path names one."""
    spec = json.loads(json.dumps(spec))
    io_config = spec.setdefault("spec", {}).setdefault("ioConfig", {"type": spec["type"]})
    if path.startswith("s3://"):
        io_config["inputSource"] = {"type": "s3", "prefixes": [path]}
    else:
        local = Path(path).expanduser().resolve()
        spec_filter = (io_config.get("inputSource") or {}).get("filter")  # e.g. "*.parquet": skip _SUCCESS
        io_config["inputSource"] = ({"type": "local", "baseDir": str(local), "filter": spec_filter or "*"}
                                    if local.is_dir() else {"type": "local", "files": [str(local)]})
    suffix = Path(path.rstrip("/")).suffix.lower()
    if suffix == ".parquet":
        io_config["inputFormat"] = {"type": "parquet"}
    elif suffix in (".json", ".jsonl", ".ndjson"):
        io_config["inputFormat"] = {"type": "json"}
    io_config.setdefault("inputFormat", {"type": "json"})
    return spec


# -- Druid's Overlord, through the router -------------------------------------------------------------------
class Overlord:
    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = (min(timeout_s, 5.0), timeout_s)
        self.session = requests.Session()

    def _call(self, method: str, path: str, body: Any = None) -> requests.Response:
        try:
            return self.session.request(method, self.url + path, json=body, timeout=self.timeout)
        except requests.RequestException as error:
            raise DeployError(f"cannot reach Druid at {self.url}: {type(error).__name__}") from error

    @staticmethod
    def _fail(response: requests.Response, what: str) -> DeployError:
        try:
            detail = response.json()
            detail = detail.get("errorMessage") or detail.get("error") or detail
        except ValueError:
            detail = response.text[:300]
        return DeployError(f"Druid refused {what}: HTTP {response.status_code}: {detail}")

    def running_supervisor(self, supervisor_id: str) -> dict[str, Any] | None:
        response = self._call("GET", f"{SUPERVISOR_PATH}/{supervisor_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"reading supervisor {supervisor_id}")
        return response.json()

    def submit_supervisor(self, spec: dict[str, Any]) -> str:
        response = self._call("POST", SUPERVISOR_PATH, spec)
        if response.status_code != 200:
            raise self._fail(response, "the supervisor spec")
        return str(response.json().get("id"))

    def submit_task(self, spec: dict[str, Any]) -> str:
        response = self._call("POST", TASK_PATH, spec)
        if response.status_code != 200:
            raise self._fail(response, "the index task")
        return str(response.json()["task"])

    def task_status(self, task_id: str) -> dict[str, Any]:
        response = self._call("GET", f"{TASK_PATH}/{task_id}/status")
        if response.status_code != 200:
            raise self._fail(response, f"reading task {task_id}")
        return response.json().get("status") or {}


def apply_supervisor(overlord: Overlord, spec: dict[str, Any], *, source: str, dry_run: bool) -> tuple[str, str]:
    """("unchanged" | "created" | "updated" | "would create" | "would update", diff)."""
    supervisor_id = str(spec.get("id") or datasource_of(spec))
    running = overlord.running_supervisor(supervisor_id)
    diff = spec_diff(running, spec, name=supervisor_id, source=source)
    if not diff:
        return "unchanged", diff
    verb = "update" if running is not None else "create"
    if dry_run:
        return f"would {verb}", diff
    overlord.submit_supervisor(spec)
    return f"{verb}d", diff


def wait_task(overlord: Overlord, task_id: str, wait_s: float, poll_s: float = 0.2) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    while True:
        status = overlord.task_status(task_id)
        state = status.get("statusCode") or status.get("status")
        if state in ("SUCCESS", "FAILED") or time.monotonic() >= deadline:
            return status
        time.sleep(poll_s)
        poll_s = min(poll_s * 2, 5.0)


# -- commands ------------------------------------------------------------------------------------------------
_url = click.option("--url", envvar="LPA_DRUID_URL", required=True, show_envvar=True,
                    help="Druid router (or Overlord) URL, e.g. http://router:8888.")
_timeout = click.option("--timeout", "timeout_s", type=float, default=30.0, show_default=True,
                        help="HTTP timeout per call, seconds.")


@main.group("druid")
def druid() -> None:
    """Deploy to a production Druid cluster: the streaming supervisor and history backfills."""


@druid.command("apply-specs")
@_url
@click.option("--spec", "spec_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Supervisor spec file (default: the kafka spec in ingestion/specs).")
@click.option("--dry-run", is_flag=True, help="Show the diff, submit nothing.")
@_timeout
def apply_specs(url: str, spec_path: Path | None, dry_run: bool, timeout_s: float) -> None:
    """Submit the Kafka supervisor spec if it differs from the running one, showing the diff.

    Running it twice submits once: an identical spec is left alone (Druid would restart its tasks).

    \b
    Example:
      lpa druid apply-specs --url http://router:8888 --dry-run
      lpa druid apply-specs --url http://router:8888
    """
    path = find_spec("kafka", spec_path)
    outcome, diff = apply_supervisor(Overlord(url, timeout_s), load_spec(path), source=str(path), dry_run=dry_run)
    if diff:
        click.echo(diff)
    click.echo(f"supervisor {datasource_of(load_spec(path))}: {outcome}")


@druid.command("backfill")
@_url
@click.option("--path", "input_path", required=True,
              help="Enriched history to index: a file or directory as Druid's workers see it, or s3://bucket/prefix.")
@click.option("--spec", "spec_path", type=click.Path(path_type=Path, dir_okay=False),
              help="index_parallel spec file (default: the one in ingestion/specs).")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the task to finish.")
@click.option("--wait-timeout", type=float, default=3600.0, show_default=True, help="Longest wait, seconds.")
@_timeout
def backfill(url: str, input_path: str, spec_path: Path | None, wait: bool, wait_timeout: float,
             timeout_s: float) -> None:
    """Submit the index_parallel task over PATH and (by default) wait for it.

    Replays count once: rows carry the same deterministic ids as the stream, and progress takes the maximum
    status and time per fact.

    \b
    Example:
      lpa druid backfill --url http://router:8888 --path /shared/history/enriched/
    """
    path = find_spec("index_parallel", spec_path)
    spec = with_input(load_spec(path), input_path)
    overlord = Overlord(url, timeout_s)
    task_id = overlord.submit_task(spec)
    click.echo(f"submitted task {task_id} ({datasource_of(spec)} <- {input_path})")
    if not wait:
        return
    status = wait_task(overlord, task_id, wait_timeout)
    state = status.get("statusCode") or status.get("status")
    if state != "SUCCESS":
        raise DeployError(f"task {task_id} {state}: {status.get('errorMsg') or 'still running'}")
    click.echo(f"task {task_id}: SUCCESS")
