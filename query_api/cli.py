"""`lpa token`, `lpa catalog load`, `lpa db upgrade`: thin commands over query_api's services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from lpa.cli import main
from lpa.cli_options import data_dir_option, settings_for
from lpa.settings import Settings
from query_api.auth import OPERATOR, issue_token

_settings = settings_for
_DATA_DIR = data_dir_option()


@main.command("token")
@click.argument("user_id")
@click.option("--ttl", type=click.IntRange(min=1), default=None, help="Lifetime in seconds (default 7 days).")
@click.option("--operator", is_flag=True, help="Add the operator role (catalog loads, any batch).")
@_DATA_DIR
def token(user_id: str, ttl: int | None, operator: bool, data_dir: Path | None) -> None:
    """Print a bearer token for USER_ID, signed with the embedded default's key.

    \b
    Example:
      curl -H "Authorization: Bearer $(lpa token u_7)" http://127.0.0.1:8470/v1/groups
    """
    settings = _settings(data_dir)
    if settings.jwt_algorithm != "HS256":
        raise click.ClickException("tokens come from the identity provider when LPA_JWT_ALGORITHM is RS256")
    if not user_id.strip():
        raise click.BadParameter("must not be empty", param_hint="USER_ID")
    click.echo(issue_token(settings, user_id, ttl_s=ttl, roles=[OPERATOR] if operator else ()))


@main.group("catalog")
def catalog() -> None:
    """The course catalog.

    \b
    Example:
      lpa catalog load courses/*.json
    """


def read_courses(path: Path) -> list[tuple[str, Any]]:
    """One course per file, or a JSON list of them; errors name the file (and the line and column)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{path}: cannot read: {error}") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{path}: line {error.lineno} column {error.colno}: {error.msg}") from error
    if isinstance(data, list):
        return [(f"{path} [item {index}]", doc) for index, doc in enumerate(data)]
    return [(str(path), data)]


@catalog.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--direct", is_flag=True, help="Write straight into the metadata store (no running stack needed).")
@_DATA_DIR
def load(files: tuple[Path, ...], direct: bool, data_dir: Path | None) -> None:
    """Load course hierarchies (the platform's collection JSON) into the catalog.

    A course loaded again replaces the stored one (a republish). Goes through the running stack's API (found
    through the data dir); --direct writes into the metadata database instead.

    \b
    Example:
      lpa catalog load fractions.json geometry.json
      lpa catalog load --direct all-courses.json
    """
    settings = _settings(data_dir)
    documents = [item for path in files for item in read_courses(path)]
    store = _direct_store(settings) if direct else _api_store(settings)
    loaded = unchanged = 0
    for where, doc in documents:
        changed = store(where, doc)
        loaded += changed
        unchanged += not changed
    click.echo(f"{loaded} course(s) loaded, {unchanged} unchanged")


def _api_store(settings: Settings) -> Any:
    from query_api.client import ApiClient, StackNotRunning

    try:
        client = ApiClient(settings)
    except StackNotRunning as error:
        raise click.ClickException(f"{error} (or use --direct)") from error

    def store(where: str, doc: Any) -> bool:
        course_id = _course_id(where, doc)
        try:
            response = client.put_hierarchy(course_id, doc)
        except StackNotRunning as error:
            raise click.ClickException(str(error)) from error
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:300]
            raise click.ClickException(f"{where}: {message}")
        return bool(response.json().get("changed"))

    return store


def _course_id(where: str, doc: Any) -> str:
    from query_api.services.catalog import unwrap

    inner = unwrap(doc)
    course_id = inner.get("identifier") if isinstance(inner, dict) else None
    if not isinstance(course_id, str) or not course_id:
        raise click.ClickException(f"{where}: a course needs a non-empty string identifier")
    return course_id


def _direct_store(settings: Settings) -> Any:
    from query_api.db import make_engine, make_session_factory, session_scope
    from query_api.errors import ApiError
    from query_api.migrate import upgrade
    from query_api.services.catalog import store_hierarchy

    engine = make_engine(settings.metadata_url)
    if settings.metadata_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(engine)
    factory = make_session_factory(engine)

    def store(where: str, doc: Any) -> bool:
        try:
            with session_scope(factory) as session:
                return store_hierarchy(session, doc).changed
        except ApiError as error:
            raise click.ClickException(f"{where}: {error.message}") from error

    return store


@main.group("db")
def db_group() -> None:
    """The metadata database.

    \b
    Example:
      LPA_DATABASE_URL=postgresql+psycopg://lpa@db/lpa lpa db upgrade
    """


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
@_DATA_DIR
def db_upgrade(revision: str, data_dir: Path | None) -> None:
    """Create or upgrade the metadata schema (Alembic migrations) at LPA_DATABASE_URL or the embedded file.

    \b
    Example:
      lpa db upgrade
    """
    from query_api.migrate import upgrade

    settings = _settings(data_dir)
    if settings.metadata_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.metadata_url, revision)
    click.echo(f"metadata schema at {revision}")
