"""`lpa ingest` and `lpa deadletter list|replay`: thin commands over ingestion.publish / ingestion.deadletters."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ingestion import deadletters as dl
from ingestion.publish import IngestError, deadletter_start, publish_file, wait_for_accounting
from ingestion.runtime_info import NoRunningStack, read_runtime
from lpa.cli import main
from lpa.cli_options import data_dir_option, settings_for
from lpa.settings import Settings

_DATA_DIR = data_dir_option()
_settings = settings_for


def _bootstrap(settings: Settings) -> str:
    """LPA_KAFKA_BOOTSTRAP when set (production), else the embedded broker of the running `lpa up`."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    try:
        return read_runtime(settings.runtime_file).kafka_bootstrap
    except NoRunningStack as error:
        raise click.ClickException(str(error)) from error


@main.command("ingest")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--wait", is_flag=True, help="Block until the pipeline stored or dead-lettered every line.")
@click.option("--timeout", type=float, default=600.0, show_default=True, help="Seconds --wait waits at most.")
@_DATA_DIR
def ingest(file: Path, wait: bool, timeout: float, data_dir: Path | None) -> None:
    """Publish the events of a .jsonl FILE (one JSON event per line) to the raw topic.

    Every non-blank line is published as it is; lines the pipeline rejects are dead-lettered with a
    reason, and --wait lists them as FILE:LINE: reason: detail.

    \b
    Example:
      lpa ingest events.jsonl --wait
    """
    if not file.is_file():
        raise click.ClickException(f"{file}: no such file")
    settings = _settings(data_dir)
    bootstrap = _bootstrap(settings)
    try:
        dl_from = deadletter_start(bootstrap, settings) if wait else {}
        with click.progressbar(length=file.stat().st_size, label=f"publishing {file.name}",
                               file=click.get_text_stream("stderr")) as bar:
            report = publish_file(file, bootstrap, settings, progress=bar.update)
        if wait:
            wait_for_accounting(report, bootstrap, settings, dl_from, timeout_s=timeout)
    except IngestError as error:
        raise click.ClickException(str(error)) from error
    except LookupError as error:
        raise click.ClickException(f"{error}; is `lpa up` running for this data dir?") from error
    click.echo(f"{file}: published {len(report.published)} event(s)"
               + (f", {report.blank} blank line(s) skipped" if report.blank else ""))
    for line_no, reason, detail in report.not_published:
        click.echo(f"{file}:{line_no}: {reason}: {detail}")
    if not wait:
        return
    rows = [("stored (new or already stored)", report.accepted),
            ("  of which repeat an earlier line of the file", report.repeated_in_file),
            ("dead-lettered", len(report.deadlettered))]
    width = max(len(name) for name, _ in rows)
    for name, count in rows:
        click.echo(f"{name:<{width}}  {count:>8}")
    for line_no, reason, detail in report.deadlettered:
        click.echo(f"{file}:{line_no}: {reason}: {detail}")


@main.group("deadletter")
def deadletter() -> None:
    """Inspect and replay rejected events.

    \b
    Example:
      lpa deadletter list --reason unknown_course
      lpa catalog load course.json && lpa deadletter replay --reason unknown_course
    """


@deadletter.command("list")
@click.option("--reason", help="Only letters with this reason code (e.g. unknown_course).")
@click.option("--pending", is_flag=True, help="Only letters not replayed yet.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per letter, with the original bytes.")
@_DATA_DIR
def list_letters(reason: str | None, pending: bool, as_json: bool, data_dir: Path | None) -> None:
    """List dead letters: when, reason, detail, source message and a short id for replay.

    \b
    Example:
      lpa deadletter list --reason not_json
    """
    settings = _settings(data_dir)
    letters = dl.read_deadletters(_bootstrap(settings), settings)
    letters = [r for r in letters if (not reason or r.reason == reason) and not (pending and r.replayed_at_ms)]
    if as_json:
        for letter in letters:
            click.echo(json.dumps(letter.as_json()))
        return
    if not letters:
        click.echo("no dead letters")
        return
    click.echo(f"{'id':<8}  {'when':<20}  {'reason':<15}  {'replayed':<8}  {'source':<28}  detail")
    for r in letters:
        detail = r.detail if len(r.detail) <= 70 else r.detail[:67] + "..."
        click.echo(f"{r.short_id:<8}  {r.when:<20}  {r.reason:<15}  {'yes' if r.replayed_at_ms else 'no':<8}  "
                   f"{r.source:<28}  {detail}")


@deadletter.command("replay")
@click.option("--id", "letter_id", help="The letter's id or short id (from `lpa deadletter list`).")
@click.option("--reason", help="Every pending letter with this reason.")
@click.option("--all", "everything", is_flag=True, help="Every pending letter.")
@_DATA_DIR
def replay_letters(letter_id: str | None, reason: str | None, everything: bool, data_dir: Path | None) -> None:
    """Republish dead letters' original bytes to the raw topic, once each.

    Fix the cause first (e.g. load the missing course); a replayed event that is still invalid is
    dead-lettered again with its reason.

    \b
    Example:
      lpa deadletter replay --reason unknown_course
    """
    if sum(bool(x) for x in (letter_id, reason, everything)) != 1:
        raise click.UsageError("give exactly one of --id, --reason or --all")
    settings = _settings(data_dir)
    bootstrap = _bootstrap(settings)
    chosen = dl.select(dl.read_deadletters(bootstrap, settings), letter_id=letter_id, reason=reason,
                       everything=everything)
    if not chosen:
        raise click.ClickException("no pending dead letter matches (already replayed ones are not replayed twice)")
    if letter_id and len(chosen) > 1:
        raise click.ClickException(f"id {letter_id!r} matches {len(chosen)} letters; give more characters")
    count = dl.replay(bootstrap, settings, chosen)
    click.echo(f"replayed {count} dead letter(s) to {settings.raw_topic}")
