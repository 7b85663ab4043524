"""Opening the embedded analytics store: one read-write DuckDB connection per process.

DuckDB lets one process hold a file read-write; inside it, every thread takes its own `conn.cursor()`
(the pipeline writes, API requests read) instead of sharing one cursor.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.sinks.duckdb_schema import all_ddl


def open_duckdb(path: str | Path = ":memory:", *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the store and make sure every table exists."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = {"threads": threads} if threads else {}
    conn = duckdb.connect(str(path), config=config)
    for ddl in all_ddl():
        conn.execute(ddl)
    return conn
