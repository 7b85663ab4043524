"""The dashboards' bundles: both targets from one source, differing only in database and relation names; the
portable dataset SQL runs on DuckDB over the demo sample and returns rows."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dashboards.build import BuildError, build_bundle, bundle_files, dataset_sql
from dashboards.dims import dimension_rows
from dashboards.model import Dataset
from dashboards.sample_store import fill_demo
from dashboards.source.dashboards import DASHBOARDS
from dashboards.source.datasets import DATASETS
from dashboards.targets import RELATIONS, DruidTarget, DuckDBTarget, TargetError, druid_sqlalchemy_uri
from ingestion.hierarchy import parse_hierarchy
from tests.fixtures.courses import FRACTIONS

DUCK = DuckDBTarget(duckdb_path=Path("/data/served.duckdb"))
DRUID = DruidTarget(druid_url="https://druid.example.org:8888")


def _normalised(target: Any) -> dict[str, Any]:
    """The bundle with everything a target may change replaced by placeholders."""
    files = copy.deepcopy(bundle_files(target))
    text = json.dumps({k.replace(target.database_name, "DB"): v for k, v in files.items()}, sort_keys=True)
    replacements = {target.uuid(kind, name): f"<{kind}:{name}>"
                    for kind, names in (("database", [target.database_name]),
                                        ("dataset", [d.name for d in DATASETS]),
                                        ("chart", [c.name for d in DASHBOARDS for c in d.charts]),
                                        ("dashboard", [d.slug for d in DASHBOARDS])) for name in names}
    replacements |= {json.dumps(target.relation(r))[1:-1]: f"<rel:{r}>" for r in RELATIONS}
    replacements[target.database_name] = "DB"
    for old, new in replacements.items():
        text = text.replace(old, new)
    docs = json.loads(text)
    db = docs["databases/DB.yaml"]
    db.pop("sqlalchemy_uri")
    db.pop("extra")
    return docs


def test_both_targets_build_the_same_charts_datasets_and_dashboards() -> None:
    duck, druid = bundle_files(DUCK), bundle_files(DRUID)
    charts = {f"charts/{c.name}.yaml" for d in DASHBOARDS for c in d.charts}
    assert charts <= set(duck)
    assert {p for p in duck if p.startswith("charts/")} == {p for p in druid if p.startswith("charts/")}
    assert len([p for p in druid if p.startswith("datasets/")]) == len(DATASETS)
    assert _normalised(DUCK) == _normalised(DRUID)


def test_targets_differ_in_database_and_relation_names() -> None:
    duck_db = bundle_files(DUCK)[f"databases/{DUCK.database_name}.yaml"]
    druid_db = bundle_files(DRUID)[f"databases/{DRUID.database_name}.yaml"]
    assert duck_db["sqlalchemy_uri"] == "duckdb:////data/served.duckdb"
    assert duck_db["extra"]["engine_params"]["connect_args"] == {"read_only": True}
    assert druid_db["sqlalchemy_uri"] == "druid+https://druid.example.org:8888/druid/v2/sql/"
    assert druid_db["extra"]["engine_params"]["context"]["useApproximateCountDistinct"] is False
    duck_sql = bundle_files(DUCK)[f"datasets/{DUCK.database_name}/learner_course.yaml"]["sql"]
    druid_sql = bundle_files(DRUID)[f"datasets/{DRUID.database_name}/learner_course.yaml"]["sql"]
    assert 'FROM "enriched_events"' in duck_sql and 'FROM "lpa_enriched"' in druid_sql


def test_druid_bundle_is_a_superset_zip(tmp_path: Path) -> None:
    out = build_bundle(DRUID, tmp_path / "druid.zip")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        roots = {n.split("/")[0] for n in names}
        meta = json.loads(zf.read("lpa_dashboards_druid/metadata.yaml"))
        chart = json.loads(zf.read("lpa_dashboards_druid/charts/completion_by_course.yaml"))
    assert roots == {"lpa_dashboards_druid"}  # Superset needs exactly one root folder
    assert meta["type"] == "Dashboard" and meta["version"] == "1.0.0"
    assert json.loads(chart["query_context"])["queries"][0]["metrics"] == ["avg_percent", "completion_rate"]
    dashboards = [n for n in names if "/dashboards/" in n]
    assert len(dashboards) == len(DASHBOARDS) == 6


def test_every_dashboard_chart_node_has_its_chart_uuid() -> None:
    files = bundle_files(DUCK)
    for d in DASHBOARDS:
        nodes = [n for n in files[f"dashboards/{d.slug}.yaml"]["position"].values()
                 if isinstance(n, dict) and n.get("type") == "CHART"]
        assert sorted(n["meta"]["uuid"] for n in nodes) == sorted(DUCK.uuid("chart", c.name) for c in d.charts)


def test_rebuilding_gives_the_same_bytes(tmp_path: Path) -> None:
    a = build_bundle(DUCK, tmp_path / "a.zip").read_bytes()
    assert build_bundle(DUCK, tmp_path / "b.zip").read_bytes() == a


def test_dataset_sql_accepts_only_allow_listed_relations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dashboards.model.SQL_DIR", tmp_path)
    (tmp_path / "evil.sql").write_text("SELECT * FROM {{secrets}}")
    evil = Dataset(name="evil", description="x", columns=())
    with pytest.raises(BuildError, match="unknown relation"):
        dataset_sql(evil, DUCK)
    with pytest.raises(TargetError, match="unsafe"):
        DuckDBTarget(relation_names={**DUCK.relation_names, "enriched": 'x"; DROP TABLE y; --'}).relation("enriched")


@pytest.mark.parametrize(("url", "uri"), [
    ("http://router:8888", "druid://router:8888/druid/v2/sql/"),
    ("https://router", "druid+https://router:443/druid/v2/sql/"),
    ("druid://broker:8082/druid/v2/sql/", "druid://broker:8082/druid/v2/sql/"),
])
def test_druid_url_becomes_a_pydruid_uri(url: str, uri: str) -> None:
    assert druid_sqlalchemy_uri(url) == uri


def test_druid_url_must_be_http() -> None:
    with pytest.raises(TargetError):
        druid_sqlalchemy_uri("ftp://x")


def test_dimensions_leave_out_optional_units_and_leaves() -> None:
    rows = dimension_rows([parse_hierarchy(FRACTIONS)])
    assert rows["courses"] == [{"course_id": "do_course_1", "course_name": "Fractions", "leaf_count": 2,
                                "unit_count": 1}]
    assert [u["unit_label"] for u in rows["units"]] == ["01. Halves"]
    assert {(r["unit_id"], r["leaf_id"]) for r in rows["leaves"]} == {("do_unit_1", "do_leaf_1"),
                                                                     ("do_unit_1", "do_leaf_2")}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dash") / "demo.duckdb"
    report = fill_demo(path)
    assert report.rejected == 0 and report.rows > 5000
    return path


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_dataset_sql_returns_rows_on_the_demo_store(demo_store: Path, dataset: Dataset) -> None:
    conn = duckdb.connect(str(demo_store), read_only=True)
    try:
        sql = dataset_sql(dataset, DuckDBTarget(duckdb_path=demo_store))
        cursor = conn.execute(f"SELECT * FROM ({sql}) t LIMIT 5")
        names = [d[0] for d in cursor.description]
        assert cursor.fetchall(), dataset.name
        assert names == [c.name for c in dataset.columns]  # the declared columns are what the SQL gives
        for m in dataset.metrics:
            assert conn.execute(f"SELECT {m.expression} FROM ({sql}) t").fetchone()[0] is not None, m.name
    finally:
        conn.close()


def test_learners_at_risk_are_inactive_and_behind(demo_store: Path) -> None:
    conn = duckdb.connect(str(demo_store), read_only=True)
    sql = dataset_sql(next(d for d in DATASETS if d.name == "learner_course"), DUCK)
    at_risk = conn.execute(f"SELECT COUNT(DISTINCT user_id) FROM ({sql}) t "
                           "WHERE percent < 50 AND days_inactive >= 7").fetchone()[0]
    everyone = conn.execute(f"SELECT COUNT(DISTINCT user_id) FROM ({sql}) t").fetchone()[0]
    conn.close()
    assert 0 < at_risk < everyone
