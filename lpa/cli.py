"""`lpa`: one click group; each area of the project contributes its own subcommands."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """learning-progress-analytics: learners' progress across courses, batches and groups.

    \b
    Example:
      lpa demo                     # embedded stack with sample data
      lpa ingest events.jsonl --wait
    """


def _register() -> None:
    # Imported here so that `lpa --help` lists every area; each module owns its commands.
    from dashboards import cli as dashboards_cli  # noqa: F401
    from ingestion import cli as ingestion_cli  # noqa: F401
    from lpa import runtime_cli  # noqa: F401
    from query_api import cli as query_api_cli  # noqa: F401
    from query_api import druid_cli  # noqa: F401
    from rollup_jobs import cli as backfill_cli  # noqa: F401


_register()
