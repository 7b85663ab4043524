"""One SparkSession for every backfill test module (`pytest_plugins = ["tests.spark_fixtures"]`).

Starting the JVM takes seconds, so the session is shared; local[2] with 4 shuffle partitions keeps the tiny
test jobs quick on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from rollup_jobs.session import build_session


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = build_session("local[2]", app_name="lpa-tests", shuffle_partitions=4, driver_memory="1g")
    yield session
    session.stop()
