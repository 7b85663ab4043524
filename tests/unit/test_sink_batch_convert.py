"""SinkBatch.convert_pending: the pipeline turns each poll's part of a batch into Arrow columns as it goes.
The tables a batch gives must be the same whether it was converted in pieces, at any points, or at once."""

from __future__ import annotations

from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.enrich import row_id_for
from ingestion.fast_enrich import content_state_message
from ingestion.sinks.duckdb_sink import DeadLetter, SinkBatch
from tests.fixtures import events as ev
from tests.fixtures.courses import FRACTIONS

CATALOG = MemoryCatalog([FRACTIONS])
BATCHES = MemoryBatches({"b_1": None})


def _fill(batch: SinkBatch, polls: list[range], convert: bool) -> None:
    """Messages of every kind, poll by poll: fast events, row tuples (one repeated), empty messages, letters."""
    for poll in polls:
        for offset in poll:
            kind = offset % 4
            if kind == 0:
                raw = ev.line(ev.content_state(f"u_{offset}", "b_1", FRACTIONS["identifier"], [("do_leaf_1", 2)],
                                               ets=1732500000000 + offset, mid=f"m{offset}"))
                message = content_state_message(raw, CATALOG, BATCHES)
                assert message is not None
                batch.add_fast(offset % 2, offset, message)
            elif kind == 1:
                event_id = f"e{offset // 8}"  # two messages share an event id: the second row is a repeat
                row = (1732500000000, row_id_for(event_id, 0), event_id, "LPA_ENROLMENT", "enrol", f"m{offset}",
                       "u_1", "b_1", None, None, None, [], None, None, None, None, None, None)
                batch.add_row_tuples(offset % 2, offset, event_id, [row])
            elif kind == 2:
                batch.add_row_tuples(offset % 2, offset, None, [])
            else:
                batch.add_deadletter(DeadLetter(dl_id=f"dl-{offset}", partition=offset % 2, offset=offset,
                                                reason="invalid_json", detail="x", raw=b"{"))
        if convert:
            batch.convert_pending()


def test_a_batch_converted_poll_by_poll_gives_the_tables_of_one_conversion() -> None:
    polls = [range(0, 7), range(7, 8), range(8, 8), range(8, 21), range(21, 40)]
    whole, pieces = SinkBatch(source="s"), SinkBatch(source="s")
    _fill(whole, polls, convert=False)
    _fill(pieces, polls, convert=True)
    pieces.convert_pending()  # nothing new: no empty piece, nothing twice
    for make in (SinkBatch.log_table, SinkBatch.fast_table, SinkBatch.arrow_table):
        assert make(pieces).equals(make(whole)), make.__name__
    # And what they hold, spelled out (not only "equal to the other conversion"):
    log = pieces.log_table().to_pydict()
    assert log["msg"] == list(range(40)) and log["offset"] == list(range(40))
    assert log["partition"] == [offset % 2 for offset in range(40)]
    assert log["deadletter"] == [offset % 4 == 3 for offset in range(40)]
    assert log["event_id"] == [f"e{o // 8}" if o % 4 == 1 else None for o in range(40)]
    fast = pieces.fast_table().to_pydict()
    assert fast["msg"] == list(range(0, 40, 4))
    assert fast["canonical"] == [canonical.decode() for canonical in whole.fast_canonical]
    tuples = pieces.arrow_table().to_pydict()
    assert tuples["msg"] == [1, 9, 17, 25, 33] and tuples["item"] == list(range(5))  # one row per event id
    assert tuples["event_id"] == ["e0", "e1", "e2", "e3", "e4"]


def test_an_empty_batch_gives_empty_tables_of_the_right_schema() -> None:
    batch = SinkBatch(source="s")
    batch.convert_pending()
    assert batch.log_table().num_rows == 0 and batch.fast_table().num_rows == 0 and batch.arrow_table().num_rows == 0
    assert batch.log_table().schema.names == ["msg", "partition", "offset", "event_id", "deadletter"]
