"""Reading the exported tables: one folder per table, CSV (with a header) or Parquet, checked columns.

Listing goes through Hadoop's FileSystem API, so a local folder, HDFS or an object store path all work the
same way on a cluster. CSV is read as text (every column a string) with malformed lines kept in
`_corrupt_record`, so a bad line is rejected with a reason instead of failing the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from rollup_jobs.errors import InputNotFoundError, MissingColumnsError
from rollup_jobs.schema import TABLE_COLUMNS, TABLE_REQUIRED, Table

CORRUPT_COLUMN = "_corrupt_record"
SOURCE_COLUMN = "_source_file"


class InputFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True)
class TableInput:
    table: Table
    path: str
    fmt: InputFormat
    files: int
    frame: DataFrame  # the table's columns (absent optional ones as null), plus _corrupt_record and _source_file


def _data_files(spark: SparkSession, path: str) -> list[str] | None:
    """Names of the data files in a folder (recursively), or None when the folder does not exist."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # type: ignore[attr-defined]
    if not fs.exists(hpath):
        return None
    names: list[str] = []
    files = fs.listFiles(hpath, True)
    while files.hasNext():
        name = files.next().getPath().getName()
        if not name.startswith(("_", ".")):
            names.append(name)
    return names


def detect_format(names: list[str]) -> InputFormat | None:
    if any(n.endswith(".parquet") for n in names):
        return InputFormat.PARQUET
    if any(n.endswith((".csv", ".csv.gz", ".csv.bz2")) for n in names):
        return InputFormat.CSV
    return None


def _check_columns(table: Table, path: str, present: list[str]) -> None:
    missing = [c for c in TABLE_REQUIRED[table] if c not in present]
    if missing:
        raise MissingColumnsError(f"{path}: table {table.value} lacks column(s) {', '.join(missing)} "
                                  f"(found: {', '.join(present) or 'none'})")


def _conform(table: Table, frame: DataFrame) -> DataFrame:
    """The table's columns in contract order; optional ones that the export lacks become null text."""
    cols = [F.col(c) if c in frame.columns else F.lit(None).cast("string").alias(c) for c in TABLE_COLUMNS[table]]
    corrupt = F.col(CORRUPT_COLUMN) if CORRUPT_COLUMN in frame.columns else F.lit(None).cast("string")
    return frame.select(*cols, corrupt.alias(CORRUPT_COLUMN), F.input_file_name().alias(SOURCE_COLUMN))


def read_table(spark: SparkSession, root: str, table: Table) -> TableInput | None:
    """The table's folder under `root`, or None when the export has no such folder (the table is skipped)."""
    path = f"{root.rstrip('/')}/{table.value}"
    names = _data_files(spark, path)
    if names is None:
        return None
    fmt = detect_format(names)
    if fmt is None:
        raise InputNotFoundError(f"{path}: no .csv or .parquet files in the folder")
    if fmt is InputFormat.PARQUET:
        frame = spark.read.parquet(path)
        _check_columns(table, path, frame.columns)
    else:
        # The header names the columns (any order); every value is read as text and parsed strictly later.
        # With CSV column pruning on, a line with too many fields is only flagged when every column is read,
        # so a malformed line could pass as good in one action and be rejected in another: turn it off.
        spark.conf.set("spark.sql.csv.parser.columnPruning.enabled", "false")
        header = spark.read.option("header", True).option("inferSchema", False).csv(path).columns
        _check_columns(table, path, header)
        schema = T.StructType([T.StructField(c, T.StringType()) for c in header]
                              + [T.StructField(CORRUPT_COLUMN, T.StringType())])
        frame = (spark.read.option("header", True).option("mode", "PERMISSIVE")
                 .option("columnNameOfCorruptRecord", CORRUPT_COLUMN).option("multiLine", False)
                 .schema(schema).csv(path))
    files = sum(1 for n in names if n.endswith((".parquet", ".csv", ".csv.gz", ".csv.bz2")))
    return TableInput(table, path, fmt, files, _conform(table, frame))
