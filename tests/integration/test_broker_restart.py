"""Broker restarts mid-stream.

- A broker that keeps its log (an external Kafka cluster) and goes away for a while: the pipeline reconnects
  by itself and nothing is lost or doubled. The Tansu build shipped here has memory storage only (no
  PostgreSQL / S3 feature), so the outage is made with a TCP proxy in front of the broker: clients only know
  the proxy's address (the advertised listener), and the proxy is shut down -- every connection cut, the
  port refusing -- then started again, while the log stays.
- The embedded memory-only broker restarting: the new broker holds an empty log. The pipeline must stop with
  BrokerLogLost (offsets went backwards, or the cluster id changed), never read the new log as if nothing
  happened; `lpa up` logs an ERROR and /readyz turns red when its broker dies.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ingestion.broker import ensure_topics, free_port, tansu_binary, wait_for_kafka
from ingestion.catalog_memory import MemoryBatches, MemoryCatalog
from ingestion.kafka_io import make_producer
from ingestion.pipeline import BrokerLogLost, Pipeline, PipelineConfig
from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.runtime import Stack
from lpa.settings import Settings, load_settings
from tests.fixtures import events as ev
from tests.fixtures.courses import FRACTIONS

pytestmark = [pytest.mark.integration, pytest.mark.chaos]


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `down()` closes the listener and cuts every connection."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> TcpProxy:
        deadline = time.monotonic() + 15
        while True:  # the old listener's fd may linger briefly after down()
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                server.bind(("127.0.0.1", self.port))
                break
            except OSError:
                server.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in the proxy's thread
            except OSError:
                pass
            server.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _settings(bootstrap: str, tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", kafka_bootstrap=bootstrap, raw_topic="r.raw",
                         enriched_topic="r.enriched", deadletter_topic="r.deadletter", consumer_group="r-pipeline",
                         topic_partitions=2, log_format="text")


def _pipeline(settings: Settings, db: Path) -> Pipeline:
    batches = MemoryBatches({"b_1": None})
    config = PipelineConfig.from_settings(settings, str(settings.kafka_bootstrap), max_poll_records=500)
    return Pipeline(config, open_duckdb(db).cursor(), MemoryCatalog([FRACTIONS]), batches,
                    on_metadata_event=batches.apply)


def _events(start: int, count: int) -> list[bytes]:
    return [ev.line(ev.content_state(f"u_{i % 50}", "b_1", "do_course_1", [("do_leaf_1", i % 3)],
                                     ets=1732500000000 + i, mid=f"m{i}")) for i in range(start, start + count)]


def _produce(bootstrap: str, topic: str, lines: list[bytes]) -> None:
    producer = make_producer(bootstrap)
    for i, raw in enumerate(lines):
        producer.send(topic, key=f"k{i % 7}".encode(), value=raw)
    producer.flush()
    producer.close()


def _run(pipeline: Pipeline) -> tuple[threading.Event, threading.Thread, list[BaseException]]:
    stop, errors = threading.Event(), []

    def target() -> None:
        try:
            pipeline.run(stop)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return stop, thread, errors


def _wait(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_pipeline_reconnects_by_itself_after_a_broker_outage(tmp_path: Path) -> None:
    listen, proxy_port = free_port(), free_port()
    url = f"tcp://127.0.0.1:{listen}"
    broker = subprocess.Popen([str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url",
                               f"tcp://127.0.0.1:{proxy_port}", "--storage-engine", "memory://tansu/"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proxy = TcpProxy(listen, proxy_port).up()
    try:
        bootstrap = f"127.0.0.1:{proxy_port}"
        wait_for_kafka(bootstrap)
        settings = _settings(bootstrap, tmp_path)
        ensure_topics(bootstrap, settings)
        first, second = _events(0, 20000), _events(20000, 3000)
        _produce(bootstrap, settings.raw_topic, first)
        db = tmp_path / "a.duckdb"
        pipeline = _pipeline(settings, db)
        stop, thread, errors = _run(pipeline)
        _wait(lambda: pipeline.stats.messages > 0, 60, "the first batches")
        proxy.down()  # mid-stream: the broker is unreachable, connections cut
        time.sleep(3)
        proxy.up()
        _wait(lambda: pipeline.stats.messages >= len(first) or errors, 120, "the pipeline to catch up")
        _produce(bootstrap, settings.raw_topic, second)
        proxy.down()  # and once more while idle
        time.sleep(2)
        proxy.up()
        _produce(bootstrap, settings.raw_topic, _events(23000, 1000))
        _wait(lambda: pipeline.stats.messages >= 24000 or errors, 120, "the pipeline to take the rest")
        stop.set()
        thread.join(timeout=60)
        assert not errors, errors
        conn = open_duckdb(db)
        assert conn.execute('SELECT count(*), count(DISTINCT (partition, "offset")) FROM raw_log').fetchone() == (
            24000, 24000)
        assert conn.execute("SELECT count(*) FROM enriched_events").fetchone()[0] == 24000
        assert conn.execute("SELECT sum(next_offset) FROM pipeline_offsets").fetchone()[0] == 24000
    finally:
        proxy.down()
        broker.kill()
        broker.wait()


def _tansu(listen: int, advertised: int, cluster_id: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(tansu_binary()), "broker", "--cluster-id", cluster_id,
                             "--listener-url", f"tcp://127.0.0.1:{listen}",
                             "--advertised-listener-url", f"tcp://127.0.0.1:{advertised}",
                             "--storage-engine", "memory://tansu/"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.parametrize(("same_cluster_id", "new_events"), [(True, 20), (False, 20), (False, 600)],
                         ids=["same-cluster-id", "new-cluster-id", "new-cluster-id-longer-log"])
def test_a_restarted_memory_broker_stops_the_pipeline_loudly(tmp_path: Path, same_cluster_id: bool, new_events: int,
                                                             caplog: pytest.LogCaptureFixture,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # With a longer new log the offsets do not go back: only the cluster id, confirmed after every poll that
    # returned messages, tells the logs apart (the idle check is pushed out of the test's reach).
    monkeypatch.setattr("ingestion.pipeline.CLUSTER_CHECK_S", 3600.0)
    # Clients know only the proxy's address, so the restarted broker (on a fresh port: the old one lingers in
    # TIME_WAIT) is the same address to them, like a broker restarted in place.
    proxy_port, first_port = free_port(), free_port()
    broker = _tansu(first_port, proxy_port, "lpa-restart-test")
    proxy = TcpProxy(first_port, proxy_port).up()
    bootstrap = f"127.0.0.1:{proxy_port}"
    stop = threading.Event()
    try:
        wait_for_kafka(bootstrap)
        settings = _settings(bootstrap, tmp_path)
        ensure_topics(bootstrap, settings)
        _produce(bootstrap, settings.raw_topic, _events(0, 300))
        pipeline = _pipeline(settings, tmp_path / "a.duckdb")
        stop, thread, errors = _run(pipeline)
        _wait(lambda: pipeline.stats.messages >= 300, 60, "the first events")
        proxy.down()
        broker.kill()
        broker.wait()
        second_port = free_port()
        broker = _tansu(second_port, proxy_port, "lpa-restart-test" if same_cluster_id else "lpa-other")
        proxy.target_port = second_port
        proxy.up()
        wait_for_kafka(bootstrap)
        ensure_topics(bootstrap, settings)
        _produce(bootstrap, settings.raw_topic, _events(300, new_events))
        with caplog.at_level(logging.ERROR):
            thread.join(timeout=90)
        assert not thread.is_alive(), "the pipeline went on reading the new, empty log"
        assert len(errors) == 1 and isinstance(errors[0], BrokerLogLost), errors
        assert pipeline.stats.last_error and "BrokerLogLost" in pipeline.stats.last_error
        if new_events > 300:
            assert "cluster id changed" in pipeline.stats.last_error
        assert any(r.levelno == logging.ERROR and r.name == "ingestion.pipeline" for r in caplog.records)
        conn = open_duckdb(tmp_path / "a.duckdb")
        assert conn.execute("SELECT count(*) FROM raw_log").fetchone()[0] == 300  # nothing of the new log mixed in
    finally:
        stop.set()
        proxy.down()
        broker.kill()
        broker.wait()


def test_lpa_up_reports_its_dead_embedded_broker(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(data_dir=tmp_path / "data", api_port=0, log_format="text", topic_partitions=1)
    stack = Stack(settings)
    stack.start(on_progress=lambda _: None)
    try:
        stack.wait_ready(60)
        assert stack.broker is not None
        pid = stack.broker.pid
        with caplog.at_level(logging.ERROR, logger="lpa.runtime"):
            stack.broker._process.kill()  # type: ignore[union-attr]  # the broker crashes
            # This stack's record (its broker's pid): a watcher left by an earlier test may log the same words.
            _wait(lambda: any("embedded Kafka broker" in r.getMessage() and f"(pid {pid})" in r.getMessage()
                              for r in caplog.records), 30, "the ERROR log")
        broker = {name: (ok, detail) for name, ok, detail in stack.readiness()}["broker"]
        assert broker[0] is False and "memory" in broker[1]
    finally:
        stack.stop()
