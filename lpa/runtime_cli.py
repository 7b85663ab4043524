"""`lpa up` and `lpa demo`: the embedded stack in the foreground until Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from lpa.cli import main
from lpa.cli_options import data_dir_option, settings_for
from lpa.logging_setup import configure_logging
from lpa.settings import Settings

_DATA_DIR = data_dir_option("Where the stack keeps its files (default: LPA_DATA_DIR or .lpa).")
_API_PORT = click.option("--api-port", type=click.IntRange(0, 65535), default=None,
                         help="API port (default: LPA_API_PORT or 8470; 0 picks a free one).")


def _settings(data_dir: Path | None, api_port: int | None) -> Settings:
    return settings_for(data_dir, api_port=api_port)


def _run(settings: Settings, demo: bool) -> None:
    from lpa.runtime import Stack, StackError

    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level,
                      settings.log_format)
    stack = Stack(settings)
    signal.signal(signal.SIGTERM, stack.request_stop)
    signal.signal(signal.SIGINT, stack.request_stop)
    say = click.echo
    try:
        stack.start(on_progress=lambda msg: say(f"- {msg}"))
        stack.wait_ready()
        say(f"ready: {stack.api_url}/readyz")
        if demo:
            from lpa.demo import load_demo

            result = load_demo(stack, say=lambda msg: say(f"- {msg}"))
            _print_demo(stack, result)
        else:
            say(f"\nStack up. Data dir: {settings.data_dir}. From another shell: `lpa catalog load FILE`, "
                "`lpa ingest FILE.jsonl --wait`, `lpa token USER_ID`. Ctrl-C stops.")
        stack.wait()
    except StackError as error:
        raise click.ClickException(str(error)) from error
    finally:
        say("stopping...")
        stack.stop()


def _print_demo(stack, result) -> None:  # type: ignore[no-untyped-def]
    from lpa.demo_data import PROGRAM_BATCH
    from query_api.auth import issue_token
    from query_api.services.batches import batch_group_id

    settings = stack.settings
    viewer = result.plan.viewer_user_id
    token = issue_token(settings, viewer)
    group_id = batch_group_id(PROGRAM_BATCH)
    rejected = f", {result.deadlettered} dead-lettered (see `lpa deadletter list`)" if result.deadlettered else ""
    click.echo(f"\nDemo loaded: {result.stored} events stored{rejected}.")
    click.echo(f"\nOpen the program batch's group page as mentor {viewer}:")
    click.echo(f"  {stack.api_url}/groups/{group_id}?token={token}")
    click.echo(f"\nToken for {viewer} (paste into the page's login form, or use with curl):\n  {token}")
    click.echo(f"  curl -H 'Authorization: Bearer {token[:16]}...' "
               f"{stack.api_url}/v1/groups/{group_id}/plugins/progress-report/report")
    for name, gid in result.groups.items():
        click.echo(f"  group {name!r}: {stack.api_url}/groups/{gid}")
    for who, why in result.plan.other_viewers.items():
        click.echo(f"  other viewer: {who} ({why}): token via `lpa token {who}`")
    click.echo("\nCtrl-C stops the stack.")


@main.command("up")
@_DATA_DIR
@_API_PORT
def up(data_dir: Path | None, api_port: int | None) -> None:
    """Start the embedded stack: broker, pipeline and API, until Ctrl-C.

    \b
    Example:
      lpa up --data-dir ./lpa-data --api-port 8470
      curl localhost:8470/readyz
    """
    _run(_settings(data_dir, api_port), demo=False)


@main.command("demo")
@_DATA_DIR
@_API_PORT
def demo(data_dir: Path | None, api_port: int | None) -> None:
    """`lpa up` plus sample data (a program batch of 3 courses, ~200 learners, groups); prints a URL and token.

    \b
    Example:
      lpa demo
      lpa demo --data-dir /tmp/lpa-demo --api-port 0
    """
    _run(_settings(data_dir, api_port), demo=True)
