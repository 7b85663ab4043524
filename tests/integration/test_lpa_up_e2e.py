"""A new user's first session, end to end through the real commands: `lpa up` in one shell, then
`lpa catalog load`, `lpa ingest --wait`, `lpa token`, the report over HTTP, `lpa deadletter list` from another."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fixtures.courses import FRACTIONS
from tests.fixtures.stack import LPA, lpa_up

pytestmark = pytest.mark.integration



def _lpa(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LPA_DATA_DIR": str(data_dir)}
    done = subprocess.run([*LPA, *args], env=env, capture_output=True, text=True, timeout=180)
    if check and done.returncode != 0:
        raise AssertionError(f"lpa {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    data_dir = tmp_path_factory.mktemp("lpa-up")
    with lpa_up(data_dir) as api_url:
        yield data_dir, api_url


def _event(eid: str, ets: int, edata: dict[str, object], mid: str) -> str:
    return json.dumps({"eid": eid, "ets": ets, "mid": mid, "edata": edata})


def test_first_session_from_the_readme(stack: tuple[Path, str], tmp_path: Path) -> None:
    data_dir, api_url = stack
    course_file = tmp_path / "fractions.json"
    course_file.write_text(json.dumps(FRACTIONS))
    _lpa(data_dir, "catalog", "load", str(course_file))

    ets = 1732400000000
    lines = [
        _event("LPA_BATCH", ets, {"action": "create", "batchId": "b_101", "name": "Maths", "courseIds": ["do_course_1"],
                                  "enrollmentType": "open", "mentors": ["u_mentor_1"], "createdBy": "u_mentor_1"},
               "m-1"),
        _event("LPA_ENROLMENT", ets + 1, {"action": "enrol", "batchId": "b_101", "userId": "u_7"}, "m-2"),
        _event("LPA_ENROLMENT", ets + 2, {"action": "enrol", "batchId": "b_101", "userId": "u_8"}, "m-3"),
        _event("BE_JOB_REQUEST", ets + 100_000,
               {"action": "batch-enrolment-update", "batchId": "b_101", "userId": "u_7", "courseId": "do_course_1",
                "contents": [{"contentId": "do_leaf_1", "status": 2}, {"contentId": "do_leaf_3", "status": 2}]},
               "m-4"),
        "{not json",
        _event("BE_JOB_REQUEST", ets + 200_000,
               {"action": "batch-enrolment-update", "batchId": "b_101", "userId": "u_7", "courseId": "do_nope",
                "contents": []}, "m-5"),
    ]
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n")
    done = _lpa(data_dir, "ingest", str(events_file), "--wait")
    out = done.stdout
    assert f"{events_file}:5" in out and "not_json" in out, out
    assert f"{events_file}:6" in out and "unknown_course" in out, out

    token = _lpa(data_dir, "token", "u_mentor_1").stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    batch = requests.get(f"{api_url}/v1/batches/b_101", headers=headers, timeout=10)
    assert batch.status_code == 200, batch.text
    group_id = batch.json()["groupId"]
    report = requests.get(f"{api_url}/v1/groups/{group_id}/plugins/progress-report/report", headers=headers,
                          timeout=10)
    assert report.status_code == 200, report.text
    body = report.json()
    assert [m["userId"] for m in body["members"]] == ["u_7", "u_8"]
    u7 = body["members"][0]["courses"][0]
    # do_leaf_3 sits in the optional unit: only do_leaf_1 of the two required leaves counts.
    assert (u7["completed"], u7["leafCount"], u7["percent"], u7["batchId"]) == (1, 2, 50, "b_101")
    assert body["members"][1]["courses"][0]["batchId"] is None

    csv = requests.get(f"{api_url}/v1/groups/{group_id}/plugins/progress-report/report?format=csv",
                       headers=headers, timeout=10)
    assert csv.status_code == 200 and "u_7" in csv.text

    letters = _lpa(data_dir, "deadletter", "list").stdout
    assert "not_json" in letters and "unknown_course" in letters

    assert requests.get(f"{api_url}/v1/groups/{group_id}", timeout=10).status_code == 401


def test_second_lpa_up_on_the_same_data_dir_is_refused(stack: tuple[Path, str]) -> None:
    data_dir, _ = stack
    done = _lpa(data_dir, "up", "--api-port", "0", check=False)
    assert done.returncode != 0
    assert "already running" in done.stderr
