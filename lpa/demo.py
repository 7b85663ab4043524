"""`lpa demo`: load the sample into a running Stack through the same paths a user takes (the catalog API,
the raw topic, the groups services), so the demo exercises the real system."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ingestion.publish import deadletter_start, publish_file, wait_for_accounting
from lpa.demo_data import DemoPlan, create_demo_groups, write_demo
from lpa.runtime import Stack, StackError
from query_api.auth import OPERATOR, issue_token
from query_api.db import session_scope


@dataclass
class DemoResult:
    plan: DemoPlan
    stored: int
    deadlettered: int
    groups: dict[str, str]


def _load_courses(stack: Stack, paths: list, token: str) -> None:
    assert stack.app is not None
    client = stack.app.test_client()
    for path in paths:
        doc = json.loads(path.read_text())
        answer = client.put(f"/v1/courses/{doc['identifier']}/hierarchy", json=doc,
                            headers={"Authorization": f"Bearer {token}"})
        if answer.status_code >= 400:
            raise StackError(f"{path}: the catalog refused it: {answer.get_json()}")


def _link_more_plugins(stack: Stack, plan: DemoPlan) -> None:
    """As the batch's mentor would, through the API: so the group page shows more than one tab."""
    from query_api.services.batches import batch_group_id

    assert stack.app is not None
    client = stack.app.test_client()
    headers = {"Authorization": f"Bearer {issue_token(stack.settings, plan.viewer_user_id)}"}
    group = f"/v1/groups/{batch_group_id(plan.featured_batch_id)}/plugins"
    links = {"leaderboard": {"scope": {"type": "batch", "batchId": plan.featured_batch_id}, "metric": "progress"},
             "announcements": {}, "activity-stream": {}, "discussion-forum": {}}
    for plugin_id, config in links.items():
        answer = client.put(f"{group}/{plugin_id}", json={"config": config}, headers=headers)
        if answer.status_code >= 400:
            raise StackError(f"linking {plugin_id} to the demo group failed: {answer.get_json()}")
    client.post(f"{group}/announcements/announcements", headers=headers,
                json={"title": "Welcome to the Foundations programme",
                      "body": "Fractions, geometry and reading this term. Check your progress tab every week."})


def load_demo(stack: Stack, say: Callable[[str], None] = print) -> DemoResult:
    settings = stack.settings
    assert stack.app is not None
    plan = write_demo(settings.data_dir / "demo")
    operator = issue_token(settings, "lpa-demo", roles=[OPERATOR])
    say(f"loading {len(plan.catalog)} course hierarchies")
    _load_courses(stack, plan.catalog, operator)
    say(f"publishing {plan.event_count} events to {settings.raw_topic} and waiting for the pipeline")
    dl_start = deadletter_start(stack.bootstrap, settings)
    report = publish_file(plan.events, stack.bootstrap, settings)
    report = wait_for_accounting(report, stack.bootstrap, settings, dl_start, timeout_s=300)
    say("creating the demo groups (mentor subgroup, parent's group)")
    database = stack.app.extensions["lpa.db"]
    with session_scope(database.session_factory) as session:
        groups = create_demo_groups(session, settings, stack.app.extensions["lpa.plugins"], plan)
    say("linking the other plugins to the program batch's group (leaderboard, announcements, ...)")
    _link_more_plugins(stack, plan)
    if plan.republish:
        say("republishing a course (progress follows the current hierarchy)")
        _load_courses(stack, plan.republish, operator)
    return DemoResult(plan=plan, stored=report.accepted, deadlettered=len(report.deadlettered), groups=groups)
