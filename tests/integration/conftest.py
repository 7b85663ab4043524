"""Shared integration fixtures: one real embedded Kafka broker (Tansu) for the whole session.

Tests isolate themselves by topic name (`lpa_settings` gives each test its own raw/enriched/dead-letter
topics and data dir), so they can share the broker without seeing each other's events.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.broker import EmbeddedBroker, ensure_topics
from lpa.settings import Settings, load_settings


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A running Tansu broker on a free port; `broker.bootstrap` is its "host:port"."""
    log_file = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_file=log_file) as running:
        yield running


@pytest.fixture
def lpa_settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings with a fresh data dir and this test's own topics (created, 2 partitions)."""
    suffix = uuid.uuid4().hex[:8]
    settings = load_settings(data_dir=tmp_path / "data", kafka_bootstrap=broker.bootstrap,
                             raw_topic=f"lpa.raw.{suffix}", enriched_topic=f"lpa.enriched.{suffix}",
                             deadletter_topic=f"lpa.deadletter.{suffix}", consumer_group=f"lpa-pipeline-{suffix}",
                             topic_partitions=2, log_format="text")
    ensure_topics(broker.bootstrap, settings)
    return settings
