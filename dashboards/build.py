"""Dashboard source -> a Superset import bundle (zip) for one target database.

Both targets are built from the same source; they differ only in the database entry, the relation names
substituted into the dataset SQL, and the UUIDs (derived from target + name, so rebuilding gives the same
bundle and both bundles can be told apart in one Superset).

Files are written as JSON, which is valid YAML: Superset reads them with yaml.safe_load, and the project needs
no YAML library. The layout follows Superset's export format (version 1.0.0): one root folder, metadata.yaml,
databases/, datasets/<database>/, charts/, dashboards/ (see dashboards/superset/README in docs/dashboards.md).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from dashboards.model import RELATION_REF, Dashboard, Dataset, _Chart
from dashboards.source.dashboards import DASHBOARDS
from dashboards.source.datasets import DATASETS
from dashboards.targets import Target
from dashboards.viz import render

EXPORT_VERSION = "1.0.0"
TIMESTAMP = "2026-01-01T00:00:00.000000+00:00"  # fixed: the same source gives the same bytes


class BuildError(ValueError):
    """The source is inconsistent (unknown dataset, column, metric or relation)."""


def dataset_sql(dataset: Dataset, target: Target) -> str:
    """The dataset's SQL with each `{{relation}}` replaced by the target's quoted name (allow-list only)."""
    def substitute(match: Any) -> str:
        try:
            return target.relation(match.group(1))
        except (ValueError, KeyError) as error:
            raise BuildError(f"dataset {dataset.name}: {error}") from error

    text = RELATION_REF.sub(substitute, dataset.sql_template)
    if "{{" in text or "}}" in text:
        raise BuildError(f"dataset {dataset.name}: malformed relation reference left in the SQL")
    return text.strip() + "\n"


def _database(target: Target) -> dict[str, Any]:
    return {"database_name": target.database_name, **target.database(), "cache_timeout": None,
            "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False, "allow_cvas": False,
            "allow_dml": False, "allow_file_upload": False, "uuid": target.uuid("database", target.database_name),
            "version": EXPORT_VERSION}


def _dataset(dataset: Dataset, target: Target) -> dict[str, Any]:
    columns = [{"column_name": c.name, "verbose_name": c.label, "is_dttm": c.is_dttm, "is_active": True,
                "type": c.type, "advanced_data_type": None, "groupby": True, "filterable": True,
                "expression": None, "description": None, "python_date_format": None, "extra": None}
               for c in dataset.columns]
    metrics = [{"metric_name": m.name, "verbose_name": m.label, "metric_type": None, "expression": m.expression,
                "description": None, "d3format": m.d3format, "currency": None, "extra": None,
                "warning_text": None} for m in dataset.metrics]
    return {"table_name": dataset.name, "main_dttm_col": dataset.main_dttm_col, "description": dataset.description,
            "default_endpoint": None, "offset": 0, "cache_timeout": None, "schema": None,
            "sql": dataset_sql(dataset, target), "params": None, "template_params": None,
            "filter_select_enabled": True, "fetch_values_predicate": None, "extra": None, "normalize_columns": False,
            "always_filter_main_dttm": False, "uuid": target.uuid("dataset", dataset.name), "metrics": metrics,
            "columns": columns, "version": EXPORT_VERSION,
            "database_uuid": target.uuid("database", target.database_name)}


def _chart(chart: _Chart, dataset: Dataset, target: Target) -> dict[str, Any]:
    try:
        params, query = render(chart, dataset)
    except (KeyError, ValueError) as error:
        raise BuildError(f"chart {chart.name}: {error}") from error
    params["datasource"] = "1__table"  # rewritten on import to the dataset's id
    query_context = {"datasource": {"id": 1, "type": "table"}, "force": False, "queries": [query],
                     "form_data": params, "result_format": "json", "result_type": "full"}
    return {"slice_name": chart.title, "description": chart.description, "certified_by": None,
            "certification_details": None, "viz_type": params["viz_type"], "params": params,
            "query_context": json.dumps(query_context, sort_keys=True), "cache_timeout": None,
            "uuid": target.uuid("chart", chart.name), "version": EXPORT_VERSION,
            "dataset_uuid": target.uuid("dataset", dataset.name)}


def _dashboard(dashboard: Dashboard, target: Target) -> dict[str, Any]:
    """Superset's v2 layout: ROOT -> GRID -> ROW -> CHART; CHART nodes need meta.uuid (else silently dropped)."""
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dashboard.title}},
    }
    chart_id = 0
    for r, row in enumerate(dashboard.rows):
        row_id = f"ROW-{r}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for chart in row:
            chart_id += 1
            node_id = f"CHART-{chart.name}"
            position[row_id]["children"].append(node_id)
            position[node_id] = {"type": "CHART", "id": node_id, "children": [],
                                 "parents": ["ROOT_ID", "GRID_ID", row_id],
                                 "meta": {"width": chart.width, "height": chart.height, "chartId": chart_id,
                                          "uuid": target.uuid("chart", chart.name), "sliceName": chart.title}}
    return {"dashboard_title": dashboard.title, "description": dashboard.description, "css": "",
            "slug": dashboard.slug, "certified_by": None, "certification_details": None, "published": True,
            "uuid": target.uuid("dashboard", dashboard.slug), "position": position,
            "metadata": {"color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                         "label_colors": {}, "timed_refresh_immune_slices": [], "cross_filters_enabled": False,
                         "native_filter_configuration": [], "shared_label_colors": [],
                         "color_scheme_domain": []},
            "version": EXPORT_VERSION}


def bundle_files(target: Target, dashboards: tuple[Dashboard, ...] = DASHBOARDS,
                 datasets: tuple[Dataset, ...] = DATASETS) -> dict[str, dict[str, Any]]:
    """Path inside the bundle (below its root folder) -> document. Pure, for the builder and the tests."""
    by_name = {d.name: d for d in datasets}
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": EXPORT_VERSION, "type": "Dashboard", "timestamp": TIMESTAMP},
        f"databases/{target.database_name}.yaml": _database(target),
    }
    used: set[str] = set()
    for dashboard in dashboards:
        for chart in dashboard.charts:
            dataset = by_name.get(chart.dataset)
            if dataset is None:
                raise BuildError(f"chart {chart.name}: unknown dataset {chart.dataset!r}")
            used.add(dataset.name)
            files[f"charts/{chart.name}.yaml"] = _chart(chart, dataset, target)
        files[f"dashboards/{dashboard.slug}.yaml"] = _dashboard(dashboard, target)
    for name in sorted(used):
        files[f"datasets/{target.database_name}/{name}.yaml"] = _dataset(by_name[name], target)
    return files


def build_bundle(target: Target, out: Path) -> Path:
    """Write the zip (every file under one root folder, as Superset requires) and return its path."""
    root = f"lpa_dashboards_{target.name}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, doc in sorted(bundle_files(target).items()):
            info = zipfile.ZipInfo(f"{root}/{path}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return out
