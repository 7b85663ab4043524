"""Real Superset 6.1.0: import the embedded (DuckDB) bundle over the demo sample, check through the REST API
that every chart's saved query returns rows, and screenshot every dashboard in headless Chromium.

Screenshots go to test-artifacts/dashboards/<slug>.png (kept by CI). LPA_UPDATE_DOC_SCREENSHOT=1 also copies
the program overview to docs/img/dashboard_program_overview.png.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboards.build import build_bundle
from dashboards.sample_store import fill_demo
from dashboards.screenshot import CHROMEDRIVER, CHROMIUM, screenshot_dashboards
from dashboards.source.dashboards import DASHBOARDS
from dashboards.superset_runner import DEFAULT_VENV, SupersetClient, SupersetHome, ensure_venv
from dashboards.targets import DuckDBTarget

pytestmark = [pytest.mark.superset, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboards"
DOC_IMAGE = ROOT / "docs" / "img" / "dashboard_program_overview.png"


@dataclass(frozen=True)
class RunningSuperset:
    base: str
    client: SupersetClient
    home: SupersetHome


@pytest.fixture(scope="module")
def superset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuperset]:
    logging.getLogger("dashboards").setLevel(logging.INFO)
    work = tmp_path_factory.mktemp("superset")
    venv_dir = DEFAULT_VENV if DEFAULT_VENV.is_absolute() else ROOT / DEFAULT_VENV
    bin_dir = ensure_venv(venv_dir)
    report = fill_demo(work / "served.duckdb")
    assert report.rejected == 0
    bundle = build_bundle(DuckDBTarget(duckdb_path=work / "served.duckdb"), work / "lpa_dashboards_duckdb.zip")
    home = SupersetHome(bin_dir=bin_dir, home=work / "home")
    home.initialise()
    home.import_bundle(bundle)
    with home.serve() as base:
        yield RunningSuperset(base, SupersetClient(base, home.admin_user, home.admin_password), home)


def test_every_dashboard_is_imported_with_all_its_charts(superset: RunningSuperset) -> None:
    by_slug = {d["slug"]: d for d in superset.client.dashboards()}
    for dashboard in DASHBOARDS:
        assert dashboard.slug in by_slug, f"dashboard {dashboard.slug} missing after import"
        charts = superset.client.dashboard_charts(by_slug[dashboard.slug]["id"])
        assert sorted(c["slice_name"] for c in charts) == sorted(c.title for c in dashboard.charts)


def test_every_chart_query_returns_rows(superset: RunningSuperset) -> None:
    empty, checked = [], 0
    for d in superset.client.dashboards():
        for chart in superset.client.dashboard_charts(d["id"]):
            checked += 1
            if superset.client.chart_rows(chart["id"]) == 0:
                empty.append(f"{d['slug']}: {chart['slice_name']}")
    assert checked == sum(len(d.charts) for d in DASHBOARDS)
    assert not empty, f"charts with no rows: {empty}"


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                    reason="needs Debian chromium + chromium-driver (scripts/test installs them)")
def test_every_dashboard_renders_in_headless_chromium(superset: RunningSuperset) -> None:
    results = screenshot_dashboards(superset.base, superset.home.admin_user, superset.home.admin_password,
                                    {d.slug: len(d.charts) for d in DASHBOARDS}, ARTIFACTS)
    problems = {slug: r.bad for slug, r in results.items() if r.bad or not r.settled}
    for slug, r in results.items():
        assert r.path.stat().st_size > 20_000, f"{slug}: screenshot looks blank"
        assert len(r.charts) == len(next(d for d in DASHBOARDS if d.slug == slug).charts)
    assert not problems, f"charts that did not render with data: {problems}"
    if os.environ.get("LPA_UPDATE_DOC_SCREENSHOT") == "1":
        DOC_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(results["program-overview"].path, DOC_IMAGE)
