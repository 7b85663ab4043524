"""Spark backfill: the platform's exported tables -> the stream's enriched rows + daily progress rollups.

Pure DataFrame transforms live in `transforms.py`, reading in `readers.py`, orchestration in `jobs.py`,
the CLI in `cli.py`, the DuckDB load in `load.py`. Importing this package never starts Spark.
"""
