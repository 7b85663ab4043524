"""`lpa demo` as a new user runs it: the embedded stack plus the sample, loaded through the real paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lpa.demo import load_demo
from lpa.runtime import Stack
from lpa.settings import Settings
from query_api.auth import issue_token
from query_api.services.batches import batch_group_id

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, object]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"), api_port=0, log_format="text")
    stack = Stack(settings).start(on_progress=lambda _: None)
    try:
        stack.wait_ready()
        yield stack, load_demo(stack, say=lambda _: None)
    finally:
        stack.stop()


def test_demo_loads_every_event_and_the_groups(demo: tuple[Stack, object]) -> None:
    stack, result = demo
    assert result.stored == result.plan.event_count and result.deadlettered == 0  # type: ignore[attr-defined]
    assert len(result.groups) == len(result.plan.groups)  # type: ignore[attr-defined]


def test_demo_group_page_and_report_are_worth_looking_at(demo: tuple[Stack, object]) -> None:
    stack, result = demo
    plan = result.plan  # type: ignore[attr-defined]
    group_id = batch_group_id(plan.featured_batch_id)
    headers = {"Authorization": f"Bearer {issue_token(stack.settings, plan.viewer_user_id)}"}
    report = requests.get(f"{stack.api_url}/v1/groups/{group_id}/plugins/progress-report/report",
                          headers=headers, timeout=30).json()
    assert len(report["courses"]) == 3 and len(report["members"]) >= 150
    percents = [c["percent"] for m in report["members"] for c in m["courses"]]
    assert 0 < sum(percents) / len(percents) < 100 and 100 in percents and 0 in percents
    links = requests.get(f"{stack.api_url}/v1/groups/{group_id}/plugins", headers=headers, timeout=10).json()
    linked = {link["pluginId"] for link in (links["plugins"] if isinstance(links, dict) else links)}
    assert {"progress-report", "leaderboard", "announcements", "activity-stream", "discussion-forum"} <= linked
    page = requests.get(f"{stack.api_url}/groups/{group_id}", cookies=None, timeout=30,
                        params={"token": issue_token(stack.settings, plan.viewer_user_id)})
    assert page.status_code == 200 and "Leaderboard" in page.text and "Foundations" in page.text
