"""Screenshot a Superset dashboard in headless Chromium, and say whether every chart rendered with data.

Needs selenium (requirements-dev.txt) and Debian's `chromium` + `chromium-driver`; the driver path is given
explicitly so Selenium Manager never tries to download one. Login: POST the /login/ form (CSRF is off in
dashboards/superset/superset_config.py) and hand the session cookie to the browser.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars")

# Runs in the page: the state of every chart holder. A chart has data when it drew a <canvas> (ECharts),
# table cells, or a big number; an error box or Superset's empty state means it did not.
STATE_JS = """
const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')];
const q = (h, sel) => h.querySelector(sel);
return {
  loading: document.querySelectorAll('.loading, [data-test="loading-indicator"]').length,
  charts: holders.map(h => ({
    name: (q(h, '[data-test="editable-title"], .header-title') || {}).innerText || '',
    error: !!q(h, '.alert-danger, .ant-alert-error, [data-test="error-message"]'),
    error_text: (q(h, '.alert-danger, .ant-alert-error, [data-test="error-message"]') || {}).innerText || '',
    empty: !!q(h, '.ant-empty, [data-test="no-results-message"], .no-results'),
    cells: h.querySelectorAll('table tbody td').length,
    canvas: h.querySelectorAll('canvas').length,
    big_number: !!q(h, '.header-line, .big-number-header, [data-test="big-number"]'),
  })),
};
"""

# The dashboard scrolls inside its own container: measure that, so the screenshot holds every row.
HEIGHT_JS = """
const els = [document.documentElement, ...document.querySelectorAll('.grid-container, .dashboard-content')];
return Math.max(...els.map(e => e.getBoundingClientRect().top + window.scrollY + e.scrollHeight)) + 40;
"""


@dataclass(frozen=True)
class RenderResult:
    path: Path
    charts: list[dict[str, Any]]
    render_s: float
    settled: bool

    @property
    def bad(self) -> list[dict[str, Any]]:
        """Charts that show an error, the empty state, or nothing drawn."""
        return [c for c in self.charts
                if c["error"] or c["empty"] or not (c["cells"] or c["canvas"] or c["big_number"])]


def session_cookie(base: str, user: str, password: str) -> str:
    s = requests.Session()
    r = s.post(f"{base}/login/", data={"username": user, "password": password}, allow_redirects=False,
               timeout=30)
    if r.status_code != 302 or "session" not in s.cookies:
        raise RuntimeError(f"Superset form login failed: HTTP {r.status_code}")
    return s.cookies["session"]


def screenshot_dashboards(base: str, user: str, password: str, slugs: dict[str, int], out_dir: Path,
                          timeout_s: float = 60, width: int = 1600) -> dict[str, RenderResult]:
    """slug -> expected chart count; writes <out_dir>/<slug>.png for each, in one browser session."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    out_dir.mkdir(parents=True, exist_ok=True)
    cookie = session_cookie(base, user, password)
    results: dict[str, RenderResult] = {}
    with tempfile.TemporaryDirectory(prefix="lpa-chromium-") as profile:
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},1000"):
            opts.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        try:
            driver.get(f"{base}/health")  # same origin first, so the cookie can be set
            driver.add_cookie({"name": "session", "value": cookie, "path": "/"})
            for slug, expected in slugs.items():
                results[slug] = _one(driver, base, slug, expected, out_dir / f"{slug}.png", timeout_s, width)
        finally:
            driver.quit()
    return results


def _one(driver: Any, base: str, slug: str, expected: int, path: Path, timeout_s: float,
         width: int) -> RenderResult:
    driver.set_window_size(width, 1000)
    t0 = time.monotonic()
    driver.get(f"{base}/superset/dashboard/{slug}/?standalone=true")
    state: dict[str, Any] = {"charts": []}
    stable = 0
    while time.monotonic() - t0 < timeout_s:
        state = driver.execute_script(STATE_JS)
        charts = state["charts"]
        done = (len(charts) >= expected and state["loading"] == 0 and
                all(c["error"] or c["empty"] or c["cells"] or c["canvas"] or c["big_number"] for c in charts))
        stable = stable + 1 if done else 0
        if stable >= 3:  # unchanged for ~1.5 s: animations and late requests settled
            break
        time.sleep(0.5)
    render_s = time.monotonic() - t0
    height = driver.execute_script(HEIGHT_JS)
    driver.set_window_size(width, max(int(height), 1000))
    time.sleep(0.7)  # let ECharts redraw at the new size
    driver.save_screenshot(str(path))
    return RenderResult(path=path, charts=state["charts"], render_s=render_s, settled=stable >= 3)
