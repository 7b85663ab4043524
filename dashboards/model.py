"""The dashboards' source model: datasets (portable SQL), charts and dashboards, independent of any database.

The builder (dashboards/build.py) turns these into Superset import bundles, one per target database. A source
definition never names a physical table: dataset SQL refers to logical relations as `{{enriched}}`,
`{{courses}}`... and each target maps them (dashboards/targets.py), from an allow-list only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SQL_DIR = Path(__file__).resolve().parent / "sql"
RELATION_REF = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
ColumnType = Literal["VARCHAR", "BIGINT", "DOUBLE", "TIMESTAMP"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Model):
    name: Name | Literal["__time"]
    type: ColumnType
    label: str | None = None

    @property
    def is_dttm(self) -> bool:
        return self.type == "TIMESTAMP"


class Metric(_Model):
    """A saved metric: SQL in the portable subset (COUNT(DISTINCT ...) is exact on Druid, see targets.py)."""

    name: Name
    expression: str
    label: str
    d3format: str | None = None


class Dataset(_Model):
    """A Superset virtual dataset; its SQL lives in dashboards/sql/<name>.sql."""

    name: Name
    description: str
    columns: tuple[Column, ...]
    metrics: tuple[Metric, ...] = ()
    main_dttm_col: str | None = None

    @property
    def sql_template(self) -> str:
        return (SQL_DIR / f"{self.name}.sql").read_text()

    def relations(self) -> set[str]:
        return set(RELATION_REF.findall(self.sql_template))

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"dataset {self.name!r} has no column {name!r}")

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"dataset {self.name!r} has no metric {name!r}")

    @model_validator(mode="after")
    def _dttm_is_a_column(self) -> Dataset:
        if self.main_dttm_col is not None and not self.column(self.main_dttm_col).is_dttm:
            raise ValueError(f"{self.name}: main_dttm_col {self.main_dttm_col!r} is not a TIMESTAMP column")
        return self


class Filter(_Model):
    """A fixed chart filter (Superset adhoc filter); the value is data, never spliced into SQL by us."""

    column: str
    op: Literal["==", "!=", ">", ">=", "<", "<=", "IS NULL", "IS NOT NULL"]
    value: float | int | str | None = None


class _Chart(_Model):
    name: Name
    title: str
    dataset: Name
    description: str | None = None
    filters: tuple[Filter, ...] = ()
    width: Annotated[int, Field(ge=1, le=12)] = 6
    height: Annotated[int, Field(ge=20, le=200)] = 50


class BigNumber(_Chart):
    kind: Literal["big_number"] = "big_number"
    metric: str
    subheader: str = ""
    width: Annotated[int, Field(ge=1, le=12)] = 3
    height: Annotated[int, Field(ge=20, le=200)] = 30


class Bar(_Chart):
    """Categorical bars: x is a column, one series per metric (or per `series` value)."""

    kind: Literal["bar"] = "bar"
    x: str
    metrics: tuple[str, ...]
    series: str | None = None
    x_title: str = ""
    y_title: str = ""
    horizontal: bool = False
    stacked: bool = False
    label_rotation: Literal[0, 30, 45, 90] = 0


class Line(_Chart):
    """A time series: x is the dataset's TIMESTAMP column at `time_grain`."""

    kind: Literal["line"] = "line"
    x: str
    time_grain: Literal["P1D", "P1W", "P1M"] = "P1D"
    metrics: tuple[str, ...]
    series: str | None = None
    y_title: str = ""


class Table(_Chart):
    """Aggregated (group by `columns`, compute `metrics`) or, with no metrics, raw rows."""

    kind: Literal["table"] = "table"
    columns: tuple[str, ...]
    metrics: tuple[str, ...] = ()
    order_by: str | None = None
    descending: bool = True
    row_limit: Annotated[int, Field(ge=1, le=10_000)] = 1000


Chart = Annotated[BigNumber | Bar | Line | Table, Field(discriminator="kind")]


class Dashboard(_Model):
    """Charts laid out in rows (each row's widths sum to at most 12, Superset's grid)."""

    slug: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    title: str
    description: str
    rows: tuple[tuple[Chart, ...], ...]

    @property
    def charts(self) -> tuple[_Chart, ...]:
        return tuple(chart for row in self.rows for chart in row)

    @model_validator(mode="after")
    def _rows_fit(self) -> Dashboard:
        for index, row in enumerate(self.rows):
            if sum(chart.width for chart in row) > 12:
                raise ValueError(f"{self.slug}: row {index} is wider than 12 grid units")
        names = [chart.name for chart in self.charts]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.slug}: chart names repeat")
        return self
