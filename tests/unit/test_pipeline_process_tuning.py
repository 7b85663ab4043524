"""The standalone pipeline process's tuning (ingestion/pipeline_main.py): what it sets, and on which machines.

The speed each setting buys is measured by benchmarks/ingest_throughput.py, not here."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from ingestion.pipeline import hand_the_gil_over_sooner, tune_gc_for_streaming
from ingestion.pipeline_main import writer_threads


@pytest.fixture
def restored_interpreter() -> Iterator[None]:
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    yield
    sys.setswitchinterval(interval)
    gc.set_threshold(*thresholds)


def test_the_gil_is_handed_over_every_tenth_of_a_millisecond(restored_interpreter: None) -> None:
    hand_the_gil_over_sooner()
    assert sys.getswitchinterval() == pytest.approx(0.0001)


def test_young_objects_are_collected_every_50000_allocations(restored_interpreter: None) -> None:
    tune_gc_for_streaming()
    assert gc.get_threshold() == (50_000, 50, 1000)


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (4, None), (None, None)])
def test_duckdb_gets_one_thread_on_two_cores_or_fewer(cores: int | None, threads: int | None) -> None:
    assert writer_threads(cores) == threads
