"""One thread that fires callbacks at deadlines: query timeouts without a thread per query.

`threading.Timer` starts a thread for every query (~150 us, more under load, and a scheduling hiccup in the
request's tail). Here `watch(seconds, callback)` pushes a deadline on a heap that a single daemon thread
sleeps on; `cancel(token)` drops it (lazily: cancelled entries are skipped when they reach the top).
Callbacks run on the watchdog's thread and must be quick (a cursor's interrupt).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, name: str = "lpa-query-watchdog") -> None:
        self._name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._pending: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float, callback: Callable[[], None]) -> int:
        """Call `callback` in `seconds` unless cancelled; returns the token for `cancel`."""
        token = next(self._ids)
        with self._cond:
            self._pending[token] = callback
            heapq.heappush(self._heap, (time.monotonic() + seconds, token))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._heap[0][1] == token:
                self._cond.notify()  # the new deadline is the nearest: wake the thread to sleep less
        return token

    def cancel(self, token: int) -> None:
        with self._cond:
            self._pending.pop(token, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][1] not in self._pending:
                        heapq.heappop(self._heap)  # cancelled
                    if not self._heap:
                        self._cond.wait()
                        continue
                    deadline, token = self._heap[0]
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        callback = self._pending.pop(token)
                        break
                    self._cond.wait(wait)
            try:
                callback()
            except Exception:  # a failing callback must not stop the timeouts of every other query
                log.exception("a watchdog callback failed")


QUERY_WATCHDOG = Watchdog()
