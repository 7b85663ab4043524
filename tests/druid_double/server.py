"""Run a DruidDouble on a free local port in a background thread (a context manager for fixtures)."""

from __future__ import annotations

import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.druid_double.app import DruidDouble


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # keep test output to the tests' own messages


class DruidDoubleServer:
    """`with DruidDoubleServer() as druid: druid.url` -> "http://127.0.0.1:PORT"."""

    def __init__(self, double: DruidDouble | None = None) -> None:
        self.double = double or DruidDouble()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        assert self._server is not None, "not started"
        return "127.0.0.1"

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> DruidDoubleServer:
        self._server = make_server("127.0.0.1", 0, self.double.app, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="druid-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DruidDoubleServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
