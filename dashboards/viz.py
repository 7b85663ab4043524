"""Chart source -> Superset's chart `params` (what the browser renders from) and the saved `query_context`
(what /api/v1/chart/<id>/data/ runs). One function per chart kind; the shapes are Superset 6.1's.
"""

from __future__ import annotations

from typing import Any

from dashboards.model import Bar, BigNumber, Dataset, Filter, Line, Table, _Chart

NO_FILTER = "No filter"


def _adhoc_filters(filters: tuple[Filter, ...]) -> list[dict[str, Any]]:
    return [{"expressionType": "SIMPLE", "subject": f.column, "operator": f.op, "comparator": f.value,
             "clause": "WHERE", "isExtra": False, "filterOptionName": f"filter_{i}_{f.column}"}
            for i, f in enumerate(filters)]


def _query_filters(filters: tuple[Filter, ...]) -> list[dict[str, Any]]:
    return [{"col": f.column, "op": f.op, **({} if f.value is None else {"val": f.value})} for f in filters]


def _check_refs(chart: _Chart, dataset: Dataset, columns: tuple[str | None, ...], metrics: tuple[str, ...]) -> None:
    """Fail the build, not the dashboard: every name a chart uses must exist in its dataset."""
    for column in columns:
        if column is not None:
            dataset.column(column)
    for metric in metrics:
        dataset.metric(metric)
    for f in chart.filters:
        dataset.column(f.column)


def _query(chart: _Chart, *, columns: list[Any], metrics: list[str], orderby: list[list[Any]],
           row_limit: int = 10_000, extras: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"filters": _query_filters(chart.filters), "extras": {"having": "", "where": "", **(extras or {})},
            "applied_time_extras": {}, "columns": columns, "metrics": metrics, "orderby": orderby,
            "annotation_layers": [], "row_limit": row_limit, "series_limit": 0, "order_desc": True,
            "url_params": {}, "custom_params": {}, "custom_form_data": {}, "time_range": NO_FILTER}


def _common(chart: _Chart, viz_type: str) -> dict[str, Any]:
    return {"viz_type": viz_type, "adhoc_filters": _adhoc_filters(chart.filters), "time_range": NO_FILTER,
            "extra_form_data": {}, "dashboards": []}


def big_number(chart: BigNumber, dataset: Dataset) -> tuple[dict[str, Any], dict[str, Any]]:
    _check_refs(chart, dataset, (), (chart.metric,))
    metric = dataset.metric(chart.metric)
    params = _common(chart, "big_number_total") | {
        "metric": chart.metric, "subheader": chart.subheader, "header_font_size": 0.4,
        "subheader_font_size": 0.15, "y_axis_format": metric.d3format or "SMART_NUMBER"}
    return params, _query(chart, columns=[], metrics=[chart.metric], orderby=[])


def bar(chart: Bar, dataset: Dataset) -> tuple[dict[str, Any], dict[str, Any]]:
    _check_refs(chart, dataset, (chart.x, chart.series), chart.metrics)
    groupby = [chart.series] if chart.series else []
    params = _common(chart, "echarts_timeseries_bar") | {
        "x_axis": chart.x, "x_axis_sort": chart.x, "x_axis_sort_asc": True, "metrics": list(chart.metrics),
        "groupby": groupby, "row_limit": 10_000, "orientation": "horizontal" if chart.horizontal else "vertical",
        "stack": "Stack" if chart.stacked else None, "show_legend": True, "legendType": "scroll",
        "legendOrientation": "top", "show_value": not chart.stacked and not groupby, "rich_tooltip": True,
        "x_axis_title": chart.x_title, "x_axis_title_margin": 30 if chart.x_title else 15,
        "y_axis_title": chart.y_title, "y_axis_title_margin": 30 if chart.y_title else 15,
        "y_axis_format": "SMART_NUMBER", "truncate_metric": True, "color_scheme": "supersetColors",
        "xAxisLabelRotation": chart.label_rotation, "xAxisLabelInterval": "0", "only_total": True,
        "sort_series_type": "name"}
    columns: list[Any] = [{"columnType": "BASE_AXIS", "sqlExpression": chart.x, "label": chart.x,
                           "expressionType": "SQL"}, *groupby]
    return params, _query(chart, columns=columns, metrics=list(chart.metrics),
                          orderby=[[chart.metrics[0], False]])


def line(chart: Line, dataset: Dataset) -> tuple[dict[str, Any], dict[str, Any]]:
    _check_refs(chart, dataset, (chart.x, chart.series), chart.metrics)
    if not dataset.column(chart.x).is_dttm:
        raise ValueError(f"chart {chart.name!r}: x {chart.x!r} is not a TIMESTAMP column")
    groupby = [chart.series] if chart.series else []
    params = _common(chart, "echarts_timeseries_line") | {
        "x_axis": chart.x, "time_grain_sqla": chart.time_grain, "x_axis_sort_asc": True,
        "metrics": list(chart.metrics), "groupby": groupby, "row_limit": 10_000, "show_legend": True,
        "legendType": "scroll", "legendOrientation": "top", "rich_tooltip": True, "markerEnabled": True,
        "markerSize": 4, "y_axis_title": chart.y_title, "y_axis_title_margin": 30 if chart.y_title else 15,
        "y_axis_format": "SMART_NUMBER", "x_axis_time_format": "smart_date", "truncate_metric": True,
        "color_scheme": "supersetColors", "sort_series_type": "name"}
    columns: list[Any] = [{"timeGrain": chart.time_grain, "columnType": "BASE_AXIS", "sqlExpression": chart.x,
                           "label": chart.x, "expressionType": "SQL"}, *groupby]
    return params, _query(chart, columns=columns, metrics=list(chart.metrics), orderby=[[chart.metrics[0], False]],
                          extras={"time_grain_sqla": chart.time_grain})


def table(chart: Table, dataset: Dataset) -> tuple[dict[str, Any], dict[str, Any]]:
    _check_refs(chart, dataset, (*chart.columns, None), chart.metrics)
    common = _common(chart, "table") | {"row_limit": chart.row_limit, "server_page_length": 20,
                                        "table_timestamp_format": "%Y-%m-%d", "show_cell_bars": True,
                                        "color_pn": False, "include_search": True}
    asc = not chart.descending
    if chart.metrics:  # aggregate mode
        order_metric = chart.order_by or chart.metrics[0]
        if order_metric not in chart.metrics:
            raise ValueError(f"chart {chart.name!r}: order_by {order_metric!r} is not one of its metrics")
        params = common | {"query_mode": "aggregate", "groupby": list(chart.columns), "metrics": list(chart.metrics),
                           "all_columns": [], "timeseries_limit_metric": order_metric, "order_desc": chart.descending}
        query = _query(chart, columns=list(chart.columns), metrics=list(chart.metrics),
                       orderby=[[order_metric, asc]], row_limit=chart.row_limit)
    else:  # raw rows
        order_column = chart.order_by or chart.columns[0]
        dataset.column(order_column)
        params = common | {"query_mode": "raw", "all_columns": list(chart.columns), "groupby": [], "metrics": [],
                           "order_by_cols": [f'["{order_column}", {"true" if asc else "false"}]']}
        query = _query(chart, columns=list(chart.columns), metrics=[], orderby=[[order_column, asc]],
                       row_limit=chart.row_limit)
    return params, query


def render(chart: _Chart, dataset: Dataset) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, one query of the query context) for any chart kind."""
    match chart:
        case BigNumber():
            return big_number(chart, dataset)
        case Bar():
            return bar(chart, dataset)
        case Line():
            return line(chart, dataset)
        case Table():
            return table(chart, dataset)
    raise TypeError(f"unknown chart kind {type(chart).__name__}")
