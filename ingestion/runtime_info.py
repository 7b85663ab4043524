"""The running stack's address book: `lpa up` writes settings.runtime_file, other subcommands read it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError


class RuntimeInfo(BaseModel):
    pid: int
    kafka_bootstrap: str
    api_url: str
    data_dir: str


class NoRunningStack(RuntimeError):
    """No `lpa up` is running for this data dir."""


def write_runtime(path: Path, info: RuntimeInfo) -> None:
    """Atomically (rename), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(info.model_dump_json())
    tmp.replace(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_runtime(path: Path) -> RuntimeInfo:
    """The running stack, or NoRunningStack with a message that says what to do."""
    directory = path.parent
    hint = f"no running `lpa up` found in {directory}; start it with `lpa up`"
    try:
        info = RuntimeInfo.model_validate(json.loads(path.read_text()))
    except FileNotFoundError as error:
        raise NoRunningStack(hint) from error
    except (OSError, ValueError, ValidationError) as error:
        raise NoRunningStack(f"{hint} ({path} is unreadable: {error})") from error
    if not _alive(info.pid):
        raise NoRunningStack(f"{hint} (process {info.pid} recorded in {path} is not running)")
    return info
