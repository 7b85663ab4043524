"""Options and settings shared by every `lpa` subcommand that finds the stack through its data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lpa.settings import Settings, load_settings

DEFAULT_HELP = "Data directory of the running `lpa up` (default: LPA_DATA_DIR or .lpa)."


def data_dir_option(help: str = DEFAULT_HELP) -> Any:  # noqa: A002 - click's own keyword
    return click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=help)


def settings_for(data_dir: Path | None, **overrides: Any) -> Settings:
    """LPA_* settings, with --data-dir (and other given flags) taking precedence; None means "not given"."""
    given = {key: value for key, value in {"data_dir": data_dir, **overrides}.items() if value is not None}
    return load_settings(**given)
