"""Opening the embedded analytics store: one read-write DuckDB connection per process.

DuckDB lets one process hold a file read-write; inside it, every thread takes its own `conn.cursor()`
(the pipeline writes, API requests read) instead of sharing one cursor.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.sinks.duckdb_schema import all_ddl, migrate_hash_keys
from ingestion.sinks.duckdb_state import ensure_completion


def open_duckdb(path: str | Path = ":memory:", *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the store and make sure every table exists."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {"threads": threads} if threads else {}
    # Checkpoints rewrite the indexes; at the default 16 MB of WAL they ran every few pipeline batches and
    # cost more than the writes. The WAL is replayed on open, so a crash still loses nothing committed.
    config["checkpoint_threshold"] = "256MB"
    conn = duckdb.connect(str(path), config=config)
    migrate_hash_keys(conn)  # a store from before content_state / course_activity had hash keys: rebuilt once
    for ddl in all_ddl():
        conn.execute(ddl)
    ensure_completion(conn)  # a store from before course_completion existed gets its counts once
    return conn
