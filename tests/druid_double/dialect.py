"""The little Druid SQL the double understands on DuckDB, and nothing more.

The double runs the query text it receives on DuckDB. What Druid SQL spells differently is bridged here,
in the open, so a test that passes on the double only relies on these few, listed equivalences:

- datasources live in the DuckDB schema `druid` (Druid's default schema: `druid.x` and `x` both work);
- Druid functions the project's queries and the analysts' examples use are DuckDB macros of the same name
  (TIMESTAMP_TO_MILLIS, MILLIS_TO_TIMESTAMP, TIME_FLOOR for the common ISO periods);
- `INFORMATION_SCHEMA.TABLES / COLUMNS / SCHEMATA` (what pydruid's SQLAlchemy dialect reads) are views with
  Druid's column names (JDBC_TYPE...), reached by rewriting the schema name.

Anything else Druid-only (APPROX_*, LOOKUP, MV_*) fails here with Druid's 400, which is the point: the
project's SQL must stay in the subset both engines run.
"""

from __future__ import annotations

import re

import duckdb

DATASOURCE_SCHEMA = "druid"
_INFO_SCHEMA = "lpa_druid_info"

MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE MACRO TIMESTAMP_TO_MILLIS(t) AS epoch_ms(t)",
    "CREATE OR REPLACE MACRO MILLIS_TO_TIMESTAMP(m) AS epoch_ms(CAST(m AS BIGINT))",
    """CREATE OR REPLACE MACRO TIME_FLOOR(t, p) AS CASE p
        WHEN 'PT1M' THEN date_trunc('minute', t) WHEN 'PT1H' THEN date_trunc('hour', t)
        WHEN 'P1D' THEN date_trunc('day', t) WHEN 'P1W' THEN date_trunc('week', t)
        WHEN 'P1M' THEN date_trunc('month', t) WHEN 'P3M' THEN date_trunc('quarter', t)
        WHEN 'P1Y' THEN date_trunc('year', t) END""",
)

# java.sql.Types codes, as Druid's INFORMATION_SCHEMA.COLUMNS.JDBC_TYPE reports them.
# A multi-value string dimension (VARCHAR[] here) is a VARCHAR column in Druid SQL.
_JDBC_TYPES = """CASE WHEN data_type LIKE '%[]' OR data_type = 'VARCHAR' THEN 12
    WHEN data_type IN ('BIGINT', 'INTEGER', 'HUGEINT') THEN -5 WHEN data_type IN ('DOUBLE', 'DECIMAL') THEN 8
    WHEN data_type = 'FLOAT' THEN 6 WHEN data_type LIKE 'TIMESTAMP%' THEN 93 WHEN data_type = 'BOOLEAN' THEN 16
    ELSE 1111 END"""

INFO_VIEWS: tuple[str, ...] = (
    f"CREATE SCHEMA IF NOT EXISTS {_INFO_SCHEMA}",
    f"""CREATE OR REPLACE VIEW {_INFO_SCHEMA}.SCHEMATA AS
        SELECT 'druid' AS CATALOG_NAME, s AS SCHEMA_NAME, NULL AS SCHEMA_OWNER
        FROM (VALUES ('druid'), ('INFORMATION_SCHEMA'), ('sys'), ('lookup')) v(s)""",
    f"""CREATE OR REPLACE VIEW {_INFO_SCHEMA}.TABLES AS
        SELECT 'druid' AS TABLE_CATALOG, table_schema AS TABLE_SCHEMA, table_name AS TABLE_NAME,
               'TABLE' AS TABLE_TYPE, 'NO' AS IS_JOINABLE, 'NO' AS IS_BROADCAST
        FROM information_schema.tables WHERE table_schema = '{DATASOURCE_SCHEMA}'""",
    f"""CREATE OR REPLACE VIEW {_INFO_SCHEMA}.COLUMNS AS
        SELECT 'druid' AS TABLE_CATALOG, table_schema AS TABLE_SCHEMA, table_name AS TABLE_NAME,
               column_name AS COLUMN_NAME, CAST(ordinal_position AS BIGINT) AS ORDINAL_POSITION,
               '' AS COLUMN_DEFAULT, CASE WHEN column_name = '__time' THEN 'NO' ELSE 'YES' END AS IS_NULLABLE,
               CASE WHEN data_type LIKE '%[]' THEN 'VARCHAR' ELSE data_type END AS DATA_TYPE, {_JDBC_TYPES} AS JDBC_TYPE
        FROM information_schema.columns WHERE table_schema = '{DATASOURCE_SCHEMA}'""",
)

_INFO_REF = re.compile(r'"?\bINFORMATION_SCHEMA\b"?\s*\.', re.IGNORECASE)


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the datasource schema, the macros and the INFORMATION_SCHEMA views once per database."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASOURCE_SCHEMA}")
    for statement in (*MACROS, *INFO_VIEWS):
        conn.execute(statement)


def use_druid_schema(cursor: duckdb.DuckDBPyConnection) -> None:
    cursor.execute(f"SET search_path = '{DATASOURCE_SCHEMA},main'")


def translate(sql: str) -> str:
    """Druid SQL text -> DuckDB text: only the INFORMATION_SCHEMA rename (see the module docstring)."""
    return _INFO_REF.sub(f"{_INFO_SCHEMA}.", sql)
