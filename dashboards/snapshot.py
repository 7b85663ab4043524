"""The DuckDB file Superset serves: a copy of the analytics store plus the catalog dimensions.

Superset must read a file no other process holds read-write (DuckDB locks it), and the dimensions have to be
written next to the events, so Superset never reads the live store: it reads this snapshot, opened
read-only. The snapshot is taken
- cold (the stack is stopped, or --snapshot names a file): the source is opened read-only and copied
  table by table, consistent by construction;
- hot (a running `lpa up` holds the file): the file and its WAL are copied as bytes and the copy is opened
  and checked; DuckDB checksums its blocks, so a copy torn by a concurrent checkpoint fails to open and is
  retried. It reflects the store as of the copy; run `serve` again for fresher data.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from dashboards import dims
from dashboards.sample_store import DAILY_PROGRESS_DDL
from dashboards.targets import DuckDBTarget
from ingestion.hierarchy import CourseHierarchy

COPIED_TABLES = ("enriched_events", "daily_progress")


class SnapshotError(RuntimeError):
    """The analytics store cannot be read (missing, not a DuckDB file, or locked and not copyable)."""


def _open_source(source: Path, scratch: Path, attempts: int = 3) -> tuple[Path, str]:
    """A path that can be opened read-only now, and how it was obtained ("cold" or "hot")."""
    if not source.exists():
        raise SnapshotError(f"no analytics store at {source} (start the stack, or pass --snapshot/--sample)")
    try:
        duckdb.connect(str(source), read_only=True).close()
        return source, "cold"
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise SnapshotError(f"cannot open {source}: {error}") from error
    last: Exception | None = None
    for attempt in range(attempts):
        copy = scratch / f"hot-copy-{attempt}.duckdb"
        shutil.copyfile(source, copy)
        wal = source.with_name(source.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        try:
            conn = duckdb.connect(str(copy))  # read-write: replays the copied WAL
            conn.execute("SELECT COUNT(*) FROM enriched_events").fetchone()
            conn.execute("CHECKPOINT")
            conn.close()
            return copy, "hot"
        except duckdb.Error as error:
            last = error
            time.sleep(0.5)
    raise SnapshotError(f"{source} is held by a running process and {attempts} copies failed to open "
                        f"(last: {last}); stop the stack or pass --snapshot FILE") from last


def _has_column(conn: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return conn.execute("SELECT COUNT(*) FROM duckdb_columns() WHERE database_name = current_database() "
                        "AND table_name = ? AND column_name = ?", [table, column]).fetchone() != (0,)


def make_snapshot(source: Path, out: Path, courses: list[CourseHierarchy]) -> dict[str, object]:
    """Write `out` (replacing it) from `source` and the catalog; returns what was copied, for the CLI."""
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in (out, out.with_name(out.name + ".wal")):
        stale.unlink(missing_ok=True)
    names = DuckDBTarget().relation_names
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".snapshot-") as scratch:
        readable, mode = _open_source(Path(source).resolve(), Path(scratch))
        conn = duckdb.connect(str(out))
        try:
            literal = str(readable).replace("'", "''")  # ATTACH takes no parameters: quote the path
            conn.execute(f"ATTACH '{literal}' AS src (READ_ONLY)")
            present = {row[0] for row in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()}
            if "enriched_events" not in present:
                raise SnapshotError(f"{source} has no enriched_events table: not an lpa analytics store")
            counts: dict[str, int] = {}
            for table in COPIED_TABLES:
                if table in present:
                    conn.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}")
                    if table == "daily_progress" and not _has_column(conn, table, "__time"):
                        # rollup_jobs/load.py stores day_ms; Druid names the row time __time: add it, so
                        # the dataset SQL reads the same on both
                        conn.execute('ALTER TABLE daily_progress ADD COLUMN "__time" TIMESTAMP')
                        conn.execute('UPDATE daily_progress SET "__time" = epoch_ms(day_ms)')
                elif table == "daily_progress":  # no rollups yet: the trend dashboard is empty, not broken
                    conn.execute(DAILY_PROGRESS_DDL)
                counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            conn.execute("DETACH src")
            counts |= dims.write_duckdb(conn, courses, names)
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
    return {"mode": mode, "tables": counts}
