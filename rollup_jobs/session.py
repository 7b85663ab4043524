"""Building the SparkSession: local defaults that suit one machine, nothing forced on a cluster."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")


def build_session(master: str | None = "local[*]", *, app_name: str = "lpa-backfill",
                  shuffle_partitions: int | None = None, driver_memory: str = "2g") -> SparkSession:
    """A session for the backfill. `master=None` leaves the master to spark-submit (a cluster run)."""
    builder = SparkSession.builder.appName(app_name)
    # Days and ISO times without an offset are UTC, whatever the machine's zone.
    builder = builder.config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        # The Python workers must be this interpreter (pandas UDFs need its packages).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.driver.memory", driver_memory)
                   .config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
        if LOG4J_CONFIG.is_file():  # quiet JVM start-up: Spark's WARN lines would drown the CLI's progress
            builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={LOG4J_CONFIG}")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
