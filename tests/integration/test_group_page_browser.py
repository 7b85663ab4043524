"""The group page in a real headless Chromium (Debian `chromium` + `chromium-driver` through Selenium):
log in with a token, read the colour-scaled members x courses table, open a cell's unit breakdown, search
and add a course, download the CSV. A screenshot is kept in test-artifacts/group_page.png.

Also, through Flask's test client: the login redirect, the 404 page for non-members, a learner's own row,
CSRF on the forms."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.settings import Settings
from query_api.app import create_app
from query_api.auth import issue_token
from query_api.store.duckdb_store import DuckDBStore
from tests.fixtures.courses import FRACTIONS, simple_course
from tests.fixtures.progress_state import StateEvent as E
from tests.fixtures.progress_state import apply_events

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMEDRIVER = "/usr/bin/chromedriver"
T0 = 1732500000000
GEOMETRY = simple_course("do_geo", {"do_geo_shapes": ["g1", "g2"], "do_geo_angles": ["g3", "g4"]},
                         name="Shapes and Angles", board="CBSE", subject=["Mathematics"])
SCIENCE = simple_course("do_sci", {"do_sci_plants": ["s1", "s2"]}, name="Plants and Animals", board="CBSE",
                        subject=["Science"])
LEARNERS = [f"u_{i:02d}" for i in range(1, 9)]


class Site:
    def __init__(self, app: Flask, settings: Settings, conn: duckdb.DuckDBPyConnection) -> None:
        self.app, self.settings, self.conn = app, settings, conn
        self.client = app.test_client()
        self.base = ""
        for doc in (FRACTIONS, GEOMETRY, SCIENCE):
            response = self.client.put(f"/v1/courses/{doc['identifier']}/hierarchy", json=doc,
                                       headers=self.headers("ops", operator=True))
            assert response.status_code == 201, response.json
        response = self.client.post("/v1/groups", headers=self.headers("mentor"), json={
            "name": "Maths circle", "members": [{"userId": u} for u in LEARNERS]})
        assert response.status_code == 201, response.json
        self.group = response.json["id"]
        response = self.client.put(f"/v1/groups/{self.group}/plugins/progress-report", headers=self.headers("mentor"),
                                   json={"config": {"courseIds": ["do_course_1", "do_geo"]}})
        assert response.status_code == 201, response.json
        events = []
        for i, user in enumerate(LEARNERS):
            leaves = ["g1", "g2", "g3", "g4"][: i % 5]
            events.append(E(user, "b_1", "do_geo", T0 + i * 60_000, {leaf: 2 for leaf in leaves}))
            if i % 3:
                events.append(E(user, "b_1", "do_course_1", T0 + i * 60_000, {"do_leaf_1": 2, "do_leaf_2": i % 2 * 2}))
        apply_events(conn, events)

    def token(self, user: str) -> str:
        return issue_token(self.settings, user)

    def headers(self, user: str, operator: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.settings, user, roles=['operator'] if operator else ())}"}

    def login(self, user: str) -> None:
        response = self.client.post("/login", data={"token": self.token(user), "next": f"/groups/{self.group}"})
        assert response.status_code == 302


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = Settings(data_dir=tmp_path / "data", jwt_secret="browser-test-key-0123456789abcdef0123456789")
    conn = open_duckdb(":memory:")
    app = create_app(settings, analytics=DuckDBStore(conn),
                     test_config={"TESTING": True, "EXTRA_BLUEPRINTS": ["query_api.web:blueprint"]})
    yield Site(app, settings, conn)
    app.extensions["lpa.db"].engine.dispose()
    conn.close()


def test_page_asks_for_a_login_and_rejects_a_bad_token(site: Site) -> None:
    response = site.client.get(f"/groups/{site.group}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    bad = site.client.post("/login", data={"token": "not-a-token", "next": "/groups"})
    assert bad.status_code == 401 and b"invalid token" in bad.data
    offsite = site.client.post("/login", data={"token": site.token("mentor"), "next": "//evil.example/"})
    assert offsite.headers["Location"] == "/groups"
    assert "HttpOnly" in offsite.headers["Set-Cookie"] and "SameSite=Strict" in offsite.headers["Set-Cookie"]


def test_a_login_link_sets_the_session_and_drops_the_token_from_the_address(site: Site) -> None:
    response = site.client.get(f"/groups/{site.group}?token={site.token('mentor')}&status=completed")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/groups/{site.group}?status=completed"
    assert site.client.get(response.headers["Location"]).status_code == 200
    assert site.client.get(f"/groups/{site.group}?token=forged").status_code == 401


def test_non_member_gets_404_and_a_learner_sees_only_their_row(site: Site) -> None:
    site.login("stranger")
    assert site.client.get(f"/groups/{site.group}").status_code == 404
    site.login("u_03")
    page = site.client.get(f"/groups/{site.group}").get_data(as_text=True)
    assert re.findall(r'<tr data-user-id="([^"]+)"', page) == ["u_03"]
    assert "Add course" not in page


def test_forms_need_the_csrf_token(site: Site) -> None:
    site.login("mentor")
    response = site.client.post(f"/groups/{site.group}/courses", data={"courseId": "do_sci", "csrf": "forged"})
    assert response.status_code == 403
    courses = site.client.get(f"/v1/groups/{site.group}/plugins/progress-report/courses",
                              headers=site.headers("mentor")).json["courses"]
    assert [c["courseId"] for c in courses] == ["do_course_1", "do_geo"]


def test_a_store_that_is_down_shows_a_banner_not_a_traceback(site: Site) -> None:
    site.login("mentor")
    site.conn.close()
    response = site.client.get(f"/groups/{site.group}")
    assert response.status_code == 503
    assert b'id="store-error"' in response.data and b"Maths circle" in response.data


@pytest.fixture
def server(site: Site) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, site.app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium")
    if binary is None or not Path(CHROMEDRIVER).exists():
        pytest.fail("Debian chromium and chromium-driver are needed (scripts/test installs them)")
    profile = tempfile.mkdtemp(prefix="lpa-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_group_page_in_a_real_browser(site: Site, server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    browser.get(f"{server}/groups/{site.group}")
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "token").send_keys(site.token("mentor"))
    browser.find_element(By.ID, "login-submit").click()
    wait.until(ec.presence_of_element_located((By.ID, "progress-table")))
    assert browser.find_element(By.ID, "group-name").text == "Maths circle"

    rows = browser.find_elements(By.CSS_SELECTOR, "#progress-table tbody tr")
    assert [r.get_attribute("data-user-id") for r in rows] == LEARNERS
    heads = [h.text.splitlines()[0] for h in browser.find_elements(By.CSS_SELECTOR, "#progress-table thead th")]
    assert heads == ["Learner", "Fractions", "Shapes and Angles"]
    # u_04 completed 3 of the 4 geometry lessons; colour scale: 75% -> hue 90
    cell = browser.find_element(By.CSS_SELECTOR, 'button.cell[data-user-id="u_04"][data-course-id="do_geo"]')
    assert cell.text == "75%"
    td_style = cell.find_element(By.XPATH, "..").get_attribute("style")
    assert "hsl(90" in td_style or "rgb(" in td_style

    cell.click()
    panel = wait.until(ec.visibility_of_element_located((By.ID, "unit-panel")))
    assert "u_04" in panel.find_element(By.ID, "unit-panel-title").text
    units = [[td.text for td in row.find_elements(By.TAG_NAME, "td")]
             for row in panel.find_elements(By.CSS_SELECTOR, "#unit-table tr")]
    assert [(u[0], u[1], u[3]) for u in units] == [("do_geo_shapes", "2/2", "100%"), ("do_geo_angles", "1/2", "50%")]

    # add a course found by searching the catalog
    browser.find_element(By.CSS_SELECTOR, "#add-course summary").click()
    subject = browser.find_element(By.ID, "search-subject")
    subject.clear()
    subject.send_keys("science")
    browser.find_element(By.ID, "search-submit").click()
    add = wait.until(ec.element_to_be_clickable((By.ID, "add-do_sci")))
    add.click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, '#progress-table th[data-course-id="do_sci"]')))

    # the CSV link downloads the same report with the page's session
    href = browser.find_element(By.ID, "csv-download").get_attribute("href")
    cookie = browser.get_cookie("lpa_token")
    assert cookie is not None and cookie["httpOnly"] is True
    csv_text = requests.get(href, cookies={"lpa_token": cookie["value"]}, timeout=10).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("userId,courseId,courseName") and len(lines) == 1 + len(LEARNERS) * 3

    browser.find_element(By.CSS_SELECTOR, 'button.cell[data-user-id="u_03"][data-course-id="do_geo"]').click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "unit-panel-title"), "u_03"))
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "group_page.png"))
