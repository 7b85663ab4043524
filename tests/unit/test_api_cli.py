"""`lpa token`, `lpa catalog load` (through a running API found via run.json, and --direct), `lpa db upgrade`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from werkzeug.serving import make_server

from lpa.cli import main
from lpa.settings import Settings
from query_api.app import create_app
from query_api.models import Course
from tests.fixtures.courses import FRACTIONS, simple_course

SECRET = "cli-test-key-0123456789abcdef0123456789abcdef"  # noqa: S105


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LPA_DATABASE_URL", "LPA_JWT_SECRET", "LPA_JWT_ALGORITHM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LPA_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def stored_courses(data_dir: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{(data_dir / 'metadata.sqlite').resolve()}")
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Course.id, Course.version)).all())
    engine.dispose()
    return rows


def test_token_is_signed_with_the_data_dir_key(data_dir: Path) -> None:
    code, out = run("token", "u_7", "--ttl", "60")
    assert code == 0
    key = (data_dir / "secret.key").read_text().strip()
    claims = jwt.decode(out.strip(), key, algorithms=["HS256"], issuer="lpa")
    assert claims["sub"] == "u_7" and claims["exp"] - claims["iat"] == 60 and "roles" not in claims
    code, out = run("token", "ops", "--operator")
    assert jwt.decode(out.strip(), key, algorithms=["HS256"], issuer="lpa")["roles"] == ["operator"]
    assert run("token", " ")[0] != 0


def test_direct_load_reads_single_courses_and_lists(data_dir: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(FRACTIONS))
    many = tmp_path / "many.json"
    many.write_text(json.dumps([simple_course("c2", {"u": ["a"]}), simple_course("c3", {"u": ["b"]})]))
    code, out = run("catalog", "load", "--direct", str(one), str(many))
    assert code == 0 and "3 course(s) loaded, 0 unchanged" in out
    code, out = run("catalog", "load", "--direct", str(one))
    assert "0 course(s) loaded, 1 unchanged" in out
    assert stored_courses(data_dir) == {"do_course_1": 1, "c2": 1, "c3": 1}


def test_bad_files_are_named_with_line_and_column(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"identifier": "c1",\n  "name": oops}')
    code, out = run("catalog", "load", "--direct", str(broken))
    assert code == 1 and f"{broken}: line 2 column 11" in out and "Traceback" not in out
    not_a_course = tmp_path / "leaf.json"
    not_a_course.write_text(json.dumps({"identifier": "c1", "mimeType": "video/mp4"}))
    code, out = run("catalog", "load", "--direct", str(not_a_course))
    assert code == 1 and str(not_a_course) in out and "collection" in out


def test_load_without_a_running_stack_says_so(data_dir: Path, tmp_path: Path) -> None:
    doc = tmp_path / "c.json"
    doc.write_text(json.dumps(FRACTIONS))
    code, out = run("catalog", "load", str(doc))
    assert code == 1 and "lpa up" in out and "--direct" in out


@pytest.fixture
def running_api(data_dir: Path) -> Iterator[str]:
    settings = Settings(data_dir=data_dir)
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    (data_dir / "run.json").write_text(json.dumps({"pid": 1, "kafka_bootstrap": None, "api_url": url,
                                                    "data_dir": str(data_dir)}))
    yield url
    server.shutdown()
    app.extensions["lpa.db"].engine.dispose()


def test_load_goes_through_the_running_api(running_api: str, data_dir: Path, tmp_path: Path) -> None:
    doc = tmp_path / "c.json"
    doc.write_text(json.dumps(FRACTIONS))
    code, out = run("catalog", "load", str(doc))
    assert code == 0 and "1 course(s) loaded" in out
    assert stored_courses(data_dir) == {"do_course_1": 1}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([simple_course("c2", {"u": ["a"]}), {"identifier": "c3", "mimeType": "x"}]))
    code, out = run("catalog", "load", str(bad))
    assert code == 1 and f"{bad} [item 1]" in out and "collection" in out


def test_db_upgrade_creates_the_schema(data_dir: Path) -> None:
    code, out = run("db", "upgrade")
    assert code == 0 and "head" in out
    assert stored_courses(data_dir) == {}
