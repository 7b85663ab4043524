"""The embedded sink: one DuckDB transaction per poll batch, with the Kafka offsets it accounts for.

Everything a batch of raw messages changes -- new enriched rows, the content_state, course_activity and
course_completion materialisations (ingestion/sinks/duckdb_state.py), one raw_log outcome per message, dead
letters, replay marks and the next offset per partition -- commits together or not at all. A process killed
at any moment therefore restarts from the offsets of the last committed batch with exactly the rows of the
batches before it: nothing lost, nothing doubled. Rows also carry content-derived ids (unique row_id),
so even a replay of the same bytes under new offsets adds nothing twice.

Bulk writes go through Arrow tables registered on the connection (`INSERT ... SELECT`), ~50x faster than
executemany here. Accepted content-state events arrive as canonical JSON and DuckDB makes their rows
(ingestion/sinks/fast_rows.py); other events arrive as row tuples built in Python. Both meet in one temp
table, where a row_id repeated in the batch keeps its first occurrence and stored row_ids are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from ingestion.fast_enrich import FastMessage
from ingestion.hierarchy import CourseHierarchy
from ingestion.schema import COLUMNS, EnrichedRow, druid_type
from ingestion.sinks.duckdb_schema import insert_enriched_rows, stored_row_ids_among
from ingestion.sinks.duckdb_state import STATE_WRITE_LOCK, materialise
from ingestion.sinks.fast_rows import (
    EVENTS_TABLE,
    FAST_RELATION,
    FAST_SCHEMA,
    NODES_RELATION,
    NodeTables,
    create_events_sql,
    fast_rows_sql,
)

_ARROW_TYPES: dict[str, pa.DataType] = {
    "timestamp": pa.int64(), "string": pa.string(), "long": pa.int64(), "double": pa.float64(),
    "multi": pa.list_(pa.string()),
}
ROW_SCHEMA = pa.schema([(name, _ARROW_TYPES[druid_type(name)]) for name in COLUMNS])
_TUPLES_SCHEMA = pa.schema([*ROW_SCHEMA, ("msg", pa.int32()), ("item", pa.int64())])
_ROW_ID_AT = COLUMNS.index("row_id")
_TUPLES_RELATION = "lpa_batch_tuples"
_ROWS_TABLE = "lpa_batch_rows"  # temp: the batch's rows (COLUMNS + msg, item); after _DROP_STORED the new ones
_FAST_PART = fast_rows_sql()
_CREATE_EVENTS = create_events_sql()
_TUPLES_PART = f"SELECT * FROM {_TUPLES_RELATION}"  # noqa: S608 - internal name
_DROP_STORED = f"DELETE FROM {_ROWS_TABLE} WHERE row_id IN ({stored_row_ids_among(_ROWS_TABLE)})"  # noqa: S608
_INSERT_NEW = insert_enriched_rows(_ROWS_TABLE)
_LOG_SCHEMA = pa.schema([("msg", pa.int32()), ("partition", pa.int32()), ("offset", pa.int64()),
                         ("event_id", pa.string()), ("deadletter", pa.bool_())])


def _batch_rows_sql(parts: list[str]) -> str:
    """The batch's rows, repeats included (`_DROP_REPEATS` removes them when there are any)."""
    union = " UNION ALL BY NAME ".join(f"({part})" for part in parts)
    return f"CREATE OR REPLACE TEMP TABLE {_ROWS_TABLE} AS {union}"  # noqa: S608 - internal SQL


# A row_id repeated in the batch keeps its first occurrence (message order, then item). Usually there is none:
# counting distinct row_ids costs a tenth of ranking every row, so the ranking only runs when needed.
_REPEATS = f"SELECT count(*) - count(DISTINCT row_id) FROM {_ROWS_TABLE}"  # noqa: S608 - internal name
_DROP_REPEATS = (f"DELETE FROM {_ROWS_TABLE} WHERE rowid IN (SELECT rowid FROM {_ROWS_TABLE} "  # noqa: S608
                 "QUALIFY row_number() OVER (PARTITION BY row_id ORDER BY msg, item) > 1)")


def _raw_log_sql(with_rows: bool, with_events: bool) -> str:
    """One raw_log row per message of lpa_batch_log: stored if one of its rows is new."""
    stored = f"m.msg IN (SELECT msg FROM {_ROWS_TABLE})" if with_rows else "false"
    event_id = "COALESCE(m.event_id, e.event_id)" if with_events else "m.event_id"
    join = f"LEFT JOIN {EVENTS_TABLE} e ON e.msg = m.msg" if with_events else ""
    return (f"INSERT INTO raw_log SELECT ?, m.partition, m.\"offset\", CASE WHEN m.deadletter THEN 'deadlettered' "
            f"WHEN {stored} THEN 'stored' ELSE 'duplicate' END, {event_id}, ? FROM lpa_batch_log m {join}")


@dataclass(frozen=True)
class DeadLetter:
    dl_id: str
    partition: int
    offset: int
    reason: str
    detail: str
    raw: bytes


@dataclass
class SinkBatch:
    """What one poll batch produced. `row_owner[i]` is the index in `messages` of the message of row i.

    Rows are tuples in `COLUMNS` order; they are turned into columns poll by poll (`convert_pending`, in the
    pipeline's polling thread) or at write time, which costs a fraction of appending to one list per column.
    Accepted content-state events are kept as `fast_*` columns (message index, canonical JSON, program id, id
    of the hierarchy) for DuckDB to make their rows; `courses` holds those hierarchies."""

    source: str
    rows: list[tuple[object, ...]] = field(default_factory=list)
    row_owner: list[int] = field(default_factory=list)
    messages: list[tuple[int, int, str | None]] = field(default_factory=list)  # (partition, offset, event_id)
    deadletters: dict[int, DeadLetter] = field(default_factory=dict)  # message index -> letter
    replayed: list[str] = field(default_factory=list)  # dl_ids of dead letters replayed by these messages
    next_offsets: dict[int, int] = field(default_factory=dict)
    fast_msg: list[int] = field(default_factory=list)
    fast_canonical: list[bytes] = field(default_factory=list)
    fast_program: list[str | None] = field(default_factory=list)
    fast_course: list[int] = field(default_factory=list)
    courses: dict[int, CourseHierarchy] = field(default_factory=dict)
    _row_ids: set[object] = field(default_factory=set, repr=False)
    # Arrow pieces of what `convert_pending` turned into columns so far, and how far it got in each list.
    _log_parts: list[pa.Table] = field(default_factory=list, repr=False)
    _fast_parts: list[pa.Table] = field(default_factory=list, repr=False)
    _tuple_parts: list[pa.Table] = field(default_factory=list, repr=False)
    _converted: tuple[int, int, int] = (0, 0, 0)  # messages, fast events, rows

    def add_message(self, partition: int, offset: int, event_id: str | None, rows: list[EnrichedRow]) -> int:
        # pydantic v2 keeps field values in __dict__, in field order; model_dump is ~5x slower
        return self.add_row_tuples(partition, offset, event_id,
                                   [tuple(row.__dict__[name] for name in COLUMNS) for row in rows])

    def add_row_tuples(self, partition: int, offset: int, event_id: str | None,
                       rows: list[tuple[object, ...]]) -> int:
        """Adds a message and its rows; a row whose row_id the batch's row tuples hold already is dropped (the
        first occurrence wins: the same bytes twice in one poll, or one fact in two messages). Repeats between
        these rows and the rows DuckDB makes for `add_fast` events are left out at write time."""
        index = self._add_record(partition, offset, event_id)
        if rows:
            seen = self._row_ids
            for row in rows:
                row_id = row[_ROW_ID_AT]
                if row_id not in seen:
                    seen.add(row_id)
                    self.rows.append(row)
                    self.row_owner.append(index)
        return index

    def add_fast(self, partition: int, offset: int, message: FastMessage) -> int:
        """Adds an accepted content-state event; DuckDB makes its rows and ids at write time."""
        index = self.add_fast_unordered(partition, offset, message)
        self.advance(partition, offset + 1)
        return index

    def add_fast_unordered(self, partition: int, offset: int, message: FastMessage) -> int:
        """`add_fast` without moving `next_offsets`: for a loop over one partition's records, in offset order,
        which calls `advance` with the last one (one dict update per poll instead of one per message)."""
        index = len(self.messages)
        self.messages.append((partition, offset, None))
        canonical, program_id, course = message
        key = id(course)
        self.fast_msg.append(index)
        self.fast_canonical.append(canonical)
        self.fast_program.append(program_id)
        self.fast_course.append(key)
        if key not in self.courses:
            self.courses[key] = course
        return index

    def advance(self, partition: int, next_offset: int) -> None:
        """The partition's next offset moved to at least `next_offset`."""
        if next_offset > self.next_offsets.get(partition, 0):
            self.next_offsets[partition] = next_offset

    def _add_record(self, partition: int, offset: int, event_id: str | None) -> int:
        """Every message, whatever its kind: its index, and the partition's next offset moved past it."""
        index = len(self.messages)
        self.messages.append((partition, offset, event_id))
        self.advance(partition, offset + 1)
        return index

    def convert_pending(self) -> None:
        """Turns what was added since the last call into Arrow columns. The pipeline calls it after every poll,
        in its polling thread, while the writer thread is busy in DuckDB: the conversion (~3 us per message)
        is then off the writer's path. The tables below are made of these pieces (and convert the rest)."""
        messages, fast, rows = self._converted
        if len(self.messages) > messages:
            part = self.messages[messages:]
            deadletters = self.deadletters
            self._log_parts.append(pa.Table.from_arrays([
                pa.array(range(messages, len(self.messages)), pa.int32()), pa.array([m[0] for m in part], pa.int32()),
                pa.array([m[1] for m in part], pa.int64()), pa.array([m[2] for m in part], pa.string()),
                pa.array([i in deadletters for i in range(messages, len(self.messages))], pa.bool_())],
                schema=_LOG_SCHEMA))
        if len(self.fast_msg) > fast:
            self._fast_parts.append(pa.Table.from_arrays([
                pa.array(self.fast_msg[fast:], pa.int32()), pa.array(self.fast_canonical[fast:], pa.string()),
                pa.array(self.fast_program[fast:], pa.string()), pa.array(self.fast_course[fast:], pa.int64())],
                schema=FAST_SCHEMA))
        if len(self.rows) > rows:
            columns = [pa.array(values, type=ROW_SCHEMA.field(i).type)
                       for i, values in enumerate(zip(*self.rows[rows:], strict=True))]
            owners = pa.array(self.row_owner[rows:], pa.int32())
            items = pa.array(range(rows, len(self.rows)), pa.int64())
            self._tuple_parts.append(pa.Table.from_arrays([*columns, owners, items], schema=_TUPLES_SCHEMA))
        self._converted = (len(self.messages), len(self.fast_msg), len(self.rows))

    def arrow_table(self) -> pa.Table:
        """The row tuples as columns, with the message index and a running item number (the dedupe order)."""
        self.convert_pending()
        return pa.concat_tables(self._tuple_parts) if self._tuple_parts else _TUPLES_SCHEMA.empty_table()

    def fast_table(self) -> pa.Table:
        """The `add_fast` events as FAST_SCHEMA columns."""
        self.convert_pending()
        return pa.concat_tables(self._fast_parts) if self._fast_parts else FAST_SCHEMA.empty_table()

    def log_table(self) -> pa.Table:
        """One row per message (msg, partition, offset, event_id or NULL, dead letter?) for raw_log."""
        self.convert_pending()
        return pa.concat_tables(self._log_parts) if self._log_parts else _LOG_SCHEMA.empty_table()

    def add_deadletter(self, letter: DeadLetter, replay_of: str | None = None) -> None:
        index = self.add_message(letter.partition, letter.offset, None, [])
        self.deadletters[index] = letter
        if replay_of:
            self.replayed.append(replay_of)

    def __len__(self) -> int:
        return len(self.messages)


@dataclass(frozen=True)
class SinkResult:
    stored: int
    duplicates: int
    deadlettered: int
    rows_inserted: int


@dataclass(frozen=True)
class BatchTables:
    """A SinkBatch as the Arrow tables the writer registers, and the little else it needs: plain data, which
    benchmarks/ingest_writer.py keeps from a pipeline run to write again. `fast` and `nodes` come together:
    the nodes table holds the hierarchies the `fast` events refer to, keyed by `id()` of the hierarchy objects,
    so one BatchTables' `fast` and `nodes` are only meaningful together."""

    source: str
    messages: int
    log: pa.Table
    fast: pa.Table | None = None
    nodes: pa.Table | None = None
    tuples: pa.Table | None = None
    deadletters: pa.Table | None = None
    replayed: tuple[str, ...] = ()
    next_offsets: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if (self.fast is None) != (self.nodes is None):
            raise ValueError("BatchTables needs both `fast` and `nodes`, or neither")

    @property
    def deadlettered(self) -> int:
        return 0 if self.deadletters is None else self.deadletters.num_rows


def batch_tables(batch: SinkBatch, node_tables: NodeTables) -> BatchTables:
    """Everything `DuckDBSink.write_tables` needs from a batch (Python lists turned into columns once)."""
    return BatchTables(
        source=batch.source, messages=len(batch), log=batch.log_table(),
        fast=batch.fast_table() if batch.fast_msg else None,
        nodes=node_tables.table(batch.courses) if batch.fast_msg else None,
        tuples=batch.arrow_table() if batch.row_owner else None,
        deadletters=_deadletters_table(list(batch.deadletters.values())) if batch.deadletters else None,
        replayed=tuple(sorted(set(batch.replayed))), next_offsets=tuple(sorted(batch.next_offsets.items())))


def _deadletters_table(letters: list[DeadLetter]) -> pa.Table:
    return pa.table({
        "dl_id": pa.array([x.dl_id for x in letters], pa.string()),
        "partition": pa.array([x.partition for x in letters], pa.int32()),
        "offset": pa.array([x.offset for x in letters], pa.int64()),
        "reason": pa.array([x.reason for x in letters], pa.string()),
        "detail": pa.array([x.detail for x in letters], pa.string()),
        "raw": pa.array([x.raw for x in letters], pa.binary()),
    })


@contextmanager
def _registered(conn: duckdb.DuckDBPyConnection, relations: dict[str, pa.Table | None]) -> Iterator[None]:
    """The tables given (None: left out) registered under their names for the block; each one registered is
    unregistered after it, whatever fails."""
    registered: list[str] = []
    try:
        for name, table in relations.items():
            if table is not None:
                conn.register(name, table)
                registered.append(name)
        yield
    finally:
        for name in registered:
            conn.unregister(name)


class DuckDBSink:
    """Writes SinkBatches into the analytics store. Owns its cursor: one writer per store."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self.node_tables = NodeTables()

    def load_offsets(self, source: str) -> dict[int, int]:
        rows = self.conn.execute("SELECT partition, next_offset FROM pipeline_offsets WHERE topic = ?",
                                 [source]).fetchall()
        return {int(p): int(o) for p, o in rows}

    def write(self, batch: SinkBatch) -> SinkResult:
        return self.write_tables(batch_tables(batch, self.node_tables))

    def write_tables(self, tables: BatchTables) -> SinkResult:
        with STATE_WRITE_LOCK:  # see ingestion.sinks.duckdb_state: writers of the state tables take turns
            return self._write(tables)

    def _write(self, tables: BatchTables) -> SinkResult:
        now = datetime.now(UTC).replace(tzinfo=None)
        conn = self.conn
        conn.execute("BEGIN TRANSACTION")
        try:
            rows_inserted, stored = self._insert_rows(tables)
            self._insert_raw_log(tables, now)
            self._insert_deadletters(tables, now)
            if tables.replayed:
                conn.execute("UPDATE deadletters SET replayed_at = ? "
                             "WHERE replayed_at IS NULL AND list_contains(?, dl_id)",
                             [now, list(tables.replayed)])
            for partition, next_offset in tables.next_offsets:
                conn.execute("INSERT INTO pipeline_offsets VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
                             "next_offset = greatest(pipeline_offsets.next_offset, excluded.next_offset)",
                             [tables.source, partition, next_offset])
            conn.execute(f"DROP TABLE IF EXISTS {_ROWS_TABLE}; DROP TABLE IF EXISTS {EVENTS_TABLE}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        deadlettered = tables.deadlettered
        return SinkResult(stored=stored, duplicates=tables.messages - stored - deadlettered,
                          deadlettered=deadlettered, rows_inserted=rows_inserted)

    def _insert_rows(self, tables: BatchTables) -> tuple[int, int]:
        """Folds the batch's rows into the state tables and inserts those not stored yet (usually all).
        Returns (rows inserted, messages with an inserted row); the new rows stay in the temp table
        _ROWS_TABLE for the raw log."""
        if tables.fast is None and tables.tuples is None:
            return 0, 0
        conn = self.conn
        parts: list[str] = []
        with _registered(conn, {FAST_RELATION: tables.fast, NODES_RELATION: tables.nodes,
                                _TUPLES_RELATION: tables.tuples}):
            if tables.fast is not None:
                conn.execute(_CREATE_EVENTS)
                parts.append(_FAST_PART)
            if tables.tuples is not None:
                parts.append(_TUPLES_PART)
            conn.execute(_batch_rows_sql(parts))
        repeats = conn.execute(_REPEATS).fetchone()
        if repeats and repeats[0]:
            conn.execute(_DROP_REPEATS)
        # Folded before the stored rows are left out, as rows that were stored already: idempotent, and a replay
        # still fills what the first time lacked (e.g. course_activity's program_id, once the batch is known).
        materialise(conn, _ROWS_TABLE)
        conn.execute(_DROP_STORED)
        conn.execute(_INSERT_NEW)
        counts = conn.execute(f"SELECT count(*), count(DISTINCT msg) FROM {_ROWS_TABLE}").fetchone()  # noqa: S608
        assert counts is not None
        return int(counts[0]), int(counts[1])

    def _insert_raw_log(self, tables: BatchTables, now: datetime) -> None:
        with _registered(self.conn, {"lpa_batch_log": tables.log}):
            self.conn.execute(_raw_log_sql(with_rows=tables.fast is not None or tables.tuples is not None,
                                           with_events=tables.fast is not None), [tables.source, now])

    def _insert_deadletters(self, tables: BatchTables, now: datetime) -> None:
        if tables.deadletters is None:
            return
        with _registered(self.conn, {"lpa_batch_letters": tables.deadletters}):
            self.conn.execute('INSERT INTO deadletters SELECT dl_id, ?, partition, "offset", reason, detail, raw, ?, '
                              "NULL FROM lpa_batch_letters ON CONFLICT DO NOTHING", [tables.source, now])
