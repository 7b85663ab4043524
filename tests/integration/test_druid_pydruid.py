"""What analysts and Superset use: pydruid's DB-API and its SQLAlchemy `druid://` dialect, against the
double (or LPA_DRUID_URL), over data indexed the production way. Plus the API's /readyz on Druid."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pydruid.db
import pytest
import sqlalchemy as sa

from ingestion.hierarchy import parse_hierarchy
from lpa.settings import load_settings
from query_api.store.factory import analytics_readiness_check
from tests.druid_double.rows import state_rows
from tests.druid_double.target import DruidTarget, close_target, open_target
from tests.fixtures.analyst_examples import EVENTS as DOC_EVENTS
from tests.fixtures.analyst_examples import examples
from tests.fixtures.courses import FRACTIONS
from tests.fixtures.progress_state import StateEvent as E

pytestmark = pytest.mark.integration
T0 = 1732500000000
DOC_EXAMPLES = examples()


@pytest.fixture(scope="module")
def target() -> Iterator[DruidTarget]:
    t = open_target()
    t.load(state_rows([E("u1", "b1", "c1", T0, {"x": 2, "y": 1}), E("u2", "b1", "c1", T0 + 1000, {"x": 2})]))
    yield t
    close_target(t)


def _host_port(target: DruidTarget) -> tuple[str, int, str]:
    parts = urlsplit(target.url)
    return parts.hostname or "localhost", parts.port or 8888, parts.scheme


def test_pydruid_dbapi_query_with_parameters(target: DruidTarget) -> None:
    host, port, scheme = _host_port(target)
    conn = pydruid.db.connect(host=host, port=port, path="/druid/v2/sql/", scheme=scheme)
    cursor = conn.cursor()
    cursor.execute(f'SELECT user_id, COUNT(DISTINCT content_id) AS completed FROM "{target.enriched}" '
                   "WHERE course_id = %(course)s AND status = 2 GROUP BY user_id ORDER BY user_id",
                   {"course": "c1"})
    assert [tuple(r) for r in cursor.fetchall()] == [("u1", 1), ("u2", 1)]
    assert [d[0] for d in cursor.description] == ["user_id", "completed"]


def test_pydruid_surfaces_druid_errors_as_dbapi_errors(target: DruidTarget) -> None:
    host, port, scheme = _host_port(target)
    cursor = pydruid.db.connect(host=host, port=port, path="/druid/v2/sql/", scheme=scheme).cursor()
    with pytest.raises(pydruid.db.exceptions.ProgrammingError, match="not found"):
        cursor.execute("SELECT * FROM no_such_datasource_here")


def test_sqlalchemy_druid_dialect_sees_the_datasource(target: DruidTarget) -> None:
    host, port, scheme = _host_port(target)
    engine = sa.create_engine(f"druid{'s' if scheme == 'https' else ''}://{host}:{port}/druid/v2/sql/")
    inspector = sa.inspect(engine)
    assert target.enriched in inspector.get_table_names(schema="druid")
    columns = {c["name"]: c["type"] for c in inspector.get_columns(target.enriched)}
    assert {"__time", "user_id", "course_id", "content_id", "status", "unit_ids"} <= set(columns)
    assert isinstance(columns["status"], sa.BigInteger) and isinstance(columns["user_id"], sa.String)
    with engine.connect() as conn:
        count = conn.execute(sa.text(f'SELECT COUNT(*) AS n FROM "{target.enriched}"')).scalar()
    assert count == 3


def test_readyz_reports_the_druid_store(target: DruidTarget, tmp_path) -> None:
    from query_api.app import create_app

    store = target.store()
    settings = load_settings(data_dir=tmp_path, analytics_store="druid", druid_url=target.url)
    app = create_app(settings, analytics=store,
                     test_config={"READINESS_CHECKS": [analytics_readiness_check(store)]})
    response = app.test_client().get("/readyz")
    checks = {c["name"]: c for c in response.get_json()["checks"]}
    assert checks["analytics"]["ok"] is True
    assert checks["analytics"]["detail"] == f"druid at {target.url} answers"
    if target.is_double:
        target.server.double.fail_next(500)
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert {c["name"]: c for c in response.get_json()["checks"]}["analytics"]["ok"] is False


@pytest.fixture(scope="module")
def doc_target() -> Iterator[DruidTarget]:
    """The fixture of docs/analysts.md, indexed the production way (events + a leaves version)."""
    t = open_target()
    t.store().replace_course_leaves(parse_hierarchy(FRACTIONS))
    t.load(state_rows(DOC_EVENTS))
    yield t
    close_target(t)


@pytest.mark.parametrize("name", sorted(DOC_EXAMPLES))
def test_analyst_example_through_pydruid(doc_target: DruidTarget, name: str) -> None:
    sql, expected = DOC_EXAMPLES[name]
    sql = sql.replace("lpa_course_leaves", doc_target.leaves).replace("lpa_enriched", doc_target.enriched)
    host, port, scheme = _host_port(doc_target)
    cursor = pydruid.db.connect(host=host, port=port, path="/druid/v2/sql/", scheme=scheme,
                                context={"useApproximateCountDistinct": False}).cursor()
    cursor.execute(sql)
    assert [list(row) for row in cursor.fetchall()] == expected
