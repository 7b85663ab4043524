"""The embedded stack in one process: broker (Tansu, unless LPA_KAFKA_BOOTSTRAP names a cluster), the
pipeline in a thread, and the API on a threaded WSGI server. `lpa up` and `lpa demo` drive it; other
subcommands find it through the data dir's run.json.

One process on purpose: DuckDB allows a single read-write opener per file, so the pipeline (writer) and the
API (readers, one cursor per request) share it here. Production splits them: gunicorn serves the API over
Druid, and the pipeline's enriched topic feeds Druid's Kafka supervisor.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from ingestion.broker import EmbeddedBroker, ensure_topics
from ingestion.pipeline import Pipeline, PipelineConfig, tune_gc_for_streaming
from ingestion.runtime_info import NoRunningStack, RuntimeInfo, read_runtime, write_runtime
from ingestion.sinks.duckdb_conn import open_duckdb
from lpa.settings import Settings
from query_api.app import create_app
from query_api.db import session_scope
from query_api.pipeline_bridge import SqlBatchLookup, SqlCatalogLookup, apply_metadata_event
from query_api.services.catalog import sync_analytics_leaves
from query_api.store.base import AnalyticsStore
from query_api.store.factory import analytics_readiness_check, build_analytics_store

log = logging.getLogger(__name__)

WEB_BLUEPRINTS = ["query_api.web:bp"]


class StackError(RuntimeError):
    """The stack cannot start; the message says why and what to do."""


@dataclass
class Stack:
    settings: Settings
    broker: EmbeddedBroker | None = None
    bootstrap: str = ""
    conn: duckdb.DuckDBPyConnection | None = None
    app: Flask | None = None
    pipeline: Pipeline | None = None
    server: BaseWSGIServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    pipeline_error: str | None = None

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return f"http://{self.settings.api_host}:{self.server.server_port}"

    # -- start ------------------------------------------------------------------------------------------------
    def start(self, on_progress: Callable[[str], None] = log.info) -> Stack:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            running = read_runtime(settings.runtime_file)
        except NoRunningStack:
            running = None
        if running is not None:
            raise StackError(f"`lpa up` is already running for {settings.data_dir} (pid {running.pid}, "
                             f"API {running.api_url}); stop it first or use another --data-dir")
        try:
            self._start_broker(on_progress)
            on_progress("opening the analytics store")
            self.conn = open_duckdb(settings.analytics_path)
            analytics = build_analytics_store(settings, self.conn)
            checks = [analytics_readiness_check(analytics), self._pipeline_check]
            if self.broker is not None:
                checks.append(self._broker_check)
            self.app = create_app(settings, analytics=analytics,
                                  test_config={"READINESS_CHECKS": checks, "EXTRA_BLUEPRINTS": WEB_BLUEPRINTS})
            self._sync_course_leaves(analytics, on_progress)
            self._start_pipeline(on_progress)
            self._start_api(on_progress)
            if self.broker is not None:
                self._spawn("lpa-broker-watch", self._watch_broker)
            write_runtime(settings.runtime_file, RuntimeInfo(pid=os.getpid(), kafka_bootstrap=self.bootstrap,
                                                             api_url=self.api_url,
                                                             data_dir=str(settings.data_dir.resolve())))
        except Exception:
            self.stop()
            raise
        return self

    def _sync_course_leaves(self, analytics: AnalyticsStore, on_progress: Callable[[str], None]) -> None:
        """Before events flow: the analytics store must count against the catalog's current leaves."""
        assert self.app is not None
        on_progress("checking the analytics store's course leaves against the catalog")
        with session_scope(self.app.extensions["lpa.db"].session_factory) as session:
            synced, failed = sync_analytics_leaves(session, analytics)
        if synced:
            on_progress(f"brought the leaves of {len(synced)} course(s) up to date in the analytics store")
        for course_id, reason in sorted(failed.items()):
            log.error("course %s: the analytics store could not take its leaves (%s)", course_id, reason)
            on_progress(f"warning: course {course_id} could not be brought up to date in the analytics store "
                        f"({reason}); its progress counts may lag until `lpa catalog load` sends it again")

    def _start_broker(self, on_progress: Callable[[str], None]) -> None:
        if self.settings.kafka_bootstrap:
            self.bootstrap = self.settings.kafka_bootstrap
            on_progress(f"using the Kafka cluster at {self.bootstrap}")
        else:
            on_progress("starting the embedded Kafka-protocol broker (Tansu)")
            self.broker = EmbeddedBroker(log_file=self.settings.data_dir / "broker.log").start()
            self.bootstrap = self.broker.bootstrap
        ensure_topics(self.bootstrap, self.settings)

    def _start_pipeline(self, on_progress: Callable[[str], None]) -> None:
        assert self.app is not None and self.conn is not None
        on_progress("starting the pipeline")
        session_factory = self.app.extensions["lpa.db"].session_factory
        tune_gc_for_streaming()
        self.pipeline = Pipeline(
            PipelineConfig.from_settings(self.settings, self.bootstrap), self.conn.cursor(),
            SqlCatalogLookup(session_factory), SqlBatchLookup(session_factory),
            on_metadata_event=lambda event: apply_metadata_event(session_factory, event))
        self._spawn("lpa-pipeline", self._run_pipeline)

    def _run_pipeline(self) -> None:
        assert self.pipeline is not None
        try:
            self.pipeline.run(self._stop)
        except Exception as error:  # logged by the pipeline; /readyz turns red and says why
            self.pipeline_error = f"{type(error).__name__}: {error}"

    def _start_api(self, on_progress: Callable[[str], None]) -> None:
        assert self.app is not None
        self.server = make_server(self.settings.api_host, self.settings.api_port, self.app, threaded=True)
        on_progress(f"API listening on {self.api_url}")
        self._spawn("lpa-api", self.server.serve_forever)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch_broker(self) -> None:
        """The embedded broker keeps topics in memory: if it dies, say so loudly once (readiness is red too).
        It is not restarted behind the user's back: a new broker is an empty log, and events published to the
        old one and not yet stored are gone; the pipeline would refuse the new log anyway (BrokerLogLost)."""
        assert self.broker is not None
        while not self._stop.wait(1.0):
            if not self.broker.is_running():
                log.error("the embedded Kafka broker (pid %s) stopped: it keeps topics in memory, so events "
                          "published to it and not yet stored are lost; the pipeline cannot go on. Restart "
                          "`lpa up` (stored data is kept in %s) and re-ingest what was published since the last "
                          "`lpa ingest --wait`", self.broker.pid, self.settings.data_dir)
                return

    # -- readiness ----------------------------------------------------------------------------------------------
    def _pipeline_check(self) -> tuple[str, bool, str]:
        if self.pipeline_error:
            return "pipeline", False, f"stopped: {self.pipeline_error}"
        if self.pipeline is None or not self.pipeline.ready.is_set():
            return "pipeline", False, "starting"
        stats = self.pipeline.stats
        return "pipeline", True, f"{stats.messages} messages handled, {stats.deadlettered} dead-lettered"

    def _broker_check(self) -> tuple[str, bool, str]:
        assert self.broker is not None
        if self.broker.is_running():
            return "broker", True, f"embedded Tansu at {self.bootstrap}"
        return "broker", False, ("the embedded broker stopped: it keeps topics in memory, so events published "
                                 "since its start are gone unless stored; restart `lpa up`")

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            failing = [(name, detail) for name, ok, detail in self.readiness() if not ok]
            if not failing:
                return
            if self.pipeline_error:
                raise StackError(f"the pipeline stopped: {self.pipeline_error}")
            time.sleep(0.1)
        raise StackError(f"not ready after {timeout_s:.0f}s: {failing}")

    def readiness(self) -> list[tuple[str, bool, str]]:
        assert self.app is not None
        return [check() for check in self.app.config["READINESS_CHECKS"]]

    # -- stop -----------------------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.shutdown()
        for thread in self._threads:
            thread.join(timeout=15)
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.broker is not None:
            self.broker.stop()
        try:
            info = read_runtime(self.settings.runtime_file)
            if info.pid == os.getpid():
                self.settings.runtime_file.unlink(missing_ok=True)
        except NoRunningStack:
            pass

    def wait(self) -> None:
        """Block until stopped (a signal handler calls stop()) or the API thread ends."""
        while not self._stop.is_set():
            self._stop.wait(0.5)

    def request_stop(self, *_: Any) -> None:
        self._stop.set()
