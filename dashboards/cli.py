"""`lpa dashboards build|serve|dims`: Superset dashboards for program managers, from dashboards/source/."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click

from lpa.cli import main
from lpa.settings import load_settings

DEFAULT_OUT = Path("build/dashboards")


@main.group("dashboards")
def dashboards() -> None:
    """Superset dashboards for program managers, built from one source for DuckDB and Druid.

    \b
    Example:
      lpa dashboards build --target all
      lpa dashboards serve --port 8088      # open http://127.0.0.1:8088 in a browser
    """


@dashboards.command("build")
@click.option("--target", type=click.Choice(["duckdb", "druid", "all"]), default="all", show_default=True)
@click.option("--duckdb-path", type=click.Path(path_type=Path), default=None,
              help="DuckDB file the embedded bundle points at [default: <data dir>/dashboards/served.duckdb].")
@click.option("--druid-url", default="http://localhost:8888", show_default=True,
              help="Druid router (or broker) URL; becomes pydruid's druid:// URI.")
@click.option("--out-dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env LPA_DATA_DIR]")
def build(target: str, duckdb_path: Path | None, druid_url: str, out_dir: Path, data_dir: Path | None) -> None:
    """Build Superset import bundles (zip) into OUT_DIR: lpa_dashboards_<target>.zip.

    Import one with `superset import-dashboards -p FILE -u admin` (or Superset's UI: Dashboards, Import).
    The Druid bundle expects the enriched datasource, lpa_daily_progress and the three catalog dimension
    datasources (`lpa dashboards dims`); see docs/dashboards.md.

    \b
    Example:
      lpa dashboards build --target druid --druid-url https://druid.example.org:8888
    """
    from dashboards.build import BuildError, build_bundle
    from dashboards.targets import DruidTarget, DuckDBTarget, TargetError

    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    targets = []
    try:
        if target in ("duckdb", "all"):
            targets.append(DuckDBTarget(duckdb_path=duckdb_path or settings.data_dir / "dashboards" / "served.duckdb"))
        if target in ("druid", "all"):
            targets.append(DruidTarget(druid_url=druid_url))
        for t in targets:
            path = build_bundle(t, out_dir / f"lpa_dashboards_{t.name}.zip")
            click.echo(f"{t.name}: {path} ({t.database()['sqlalchemy_uri']})")
    except (BuildError, TargetError) as error:
        raise click.ClickException(str(error)) from error


@dashboards.command("dims")
@click.option("--out-dir", type=click.Path(path_type=Path), default=DEFAULT_OUT / "dims", show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env LPA_DATA_DIR]")
def dims_command(out_dir: Path, data_dir: Path | None) -> None:
    """Write the catalog dimensions (courses, units, leaves) as JSON lines, to ingest into Druid as the
    lpa_dim_* datasources the Druid bundle joins to. Read from the metadata store (LPA_DATABASE_URL).

    \b
    Example:
      LPA_DATABASE_URL=postgresql+psycopg://lpa@db/lpa lpa dashboards dims --out-dir /tmp/dims
    """
    from dashboards.dims import CatalogUnavailable, dims_jsonl, load_catalog
    from dashboards.targets import DruidTarget

    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    try:
        courses = load_catalog(settings.metadata_url)
    except CatalogUnavailable as error:
        raise click.ClickException(str(error)) from error
    for path in dims_jsonl(courses, out_dir, DruidTarget().relation_names):
        click.echo(path)


@dashboards.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8088, show_default=True, help="0: a free port.")
@click.option("--snapshot", "snapshot_src", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Serve this DuckDB analytics file instead of the data dir's store.")
@click.option("--sample", is_flag=True, help="Serve the demo sample (lpa/demo_data.py), no stack needed.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env LPA_DATA_DIR]")
@click.option("--venv", "venv_dir", type=click.Path(path_type=Path), default=None,
              help="Superset's own venv [env LPA_SUPERSET_VENV, default .venv-superset]; installed on first use.")
def serve(port: int, snapshot_src: Path | None, sample: bool, data_dir: Path | None, venv_dir: Path | None) -> None:
    """Start Superset 6.1.0 on the embedded store with the dashboards imported, until Ctrl-C.

    Superset never reads the live store: it serves a snapshot, <data dir>/dashboards/served.duckdb, taken
    at start from the analytics store (or --snapshot FILE) plus the catalog's course/unit names from the
    metadata store. With the stack stopped the copy is exact; with `lpa up` running (it holds the file
    read-write) the file is copied hot and checked, retried if torn. Restart `serve` for fresher data.
    The first run installs Superset into its own venv (1-2 minutes); each start takes ~40 s more.

    \b
    Example:
      lpa dashboards serve                      # the data dir's store, on http://127.0.0.1:8088
      lpa dashboards serve --sample --port 0    # demo data, any free port
    """
    from dashboards.build import build_bundle
    from dashboards.dims import CatalogUnavailable, load_catalog
    from dashboards.sample_store import fill_demo
    from dashboards.snapshot import SnapshotError, make_snapshot
    from dashboards.superset_runner import DEFAULT_VENV, SupersetError, SupersetHome, ensure_venv, free_port
    from dashboards.targets import DuckDBTarget

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    work = (settings.data_dir / "dashboards").resolve()
    served = work / "served.duckdb"
    try:
        if sample:
            report = fill_demo(served)
            click.echo(f"demo sample: {report.rows} enriched rows in {served}")
        else:
            courses = load_catalog(settings.metadata_url)
            info = make_snapshot(snapshot_src or settings.analytics_path, served, courses)
            click.echo(f"snapshot ({info['mode']}): {served} {info['tables']}")
        bundle = build_bundle(DuckDBTarget(duckdb_path=served), work / "lpa_dashboards_duckdb.zip")
        click.echo("preparing Superset (install on first use, then db upgrade, init, import)...")
        home = SupersetHome(bin_dir=ensure_venv(venv_dir or DEFAULT_VENV), home=work / "superset-home")
        home.initialise()
        home.import_bundle(bundle)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the server's cleanup on a plain kill too
        with home.serve(port=port or free_port()) as base:
            click.echo(f"\nSuperset: {base}/dashboard/list/   user: {home.admin_user}   password: "
                       f"{home.admin_password}\nPress Ctrl-C to stop.")
            signal.pause()
    except (CatalogUnavailable, SnapshotError, SupersetError) as error:
        raise click.ClickException(str(error)) from error
    except KeyboardInterrupt:
        click.echo("stopped")
