"""One thread that fires callbacks at deadlines: query timeouts without a thread per query.

`threading.Timer` starts a thread for every query (~150 us, more under load, and a scheduling hiccup in the
request's tail). Here `watch(seconds, callback)` pushes a deadline on a heap that a single daemon thread
sleeps on; `cancel(token)` drops it (lazily: cancelled entries are skipped when they reach the top) and
returns only once the callback can no longer run: if it is running, cancel waits for it, so the caller may
close what the callback touches (a cursor) right after. Callbacks run on the watchdog's thread and must be
quick (a cursor's interrupt).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
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
        self._firing: int | None = None  # the token whose callback runs now
        # A process forked after a query (gunicorn --preload) must not inherit the parent's deadlines or lock.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._heap, self._pending, self._thread, self._firing = [], {}, None, None

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
            while self._firing == token and threading.current_thread() is not self._thread:
                self._cond.wait()  # (a callback cancelling its own token must not wait for itself)

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
                        self._firing = token
                        break
                    self._cond.wait(min(wait, threading.TIMEOUT_MAX))
            try:
                callback()
            except Exception:  # a failing callback must not stop the timeouts of every other query
                log.exception("a watchdog callback failed")
            finally:
                with self._cond:
                    self._firing = None
                    self._cond.notify_all()


QUERY_WATCHDOG = Watchdog()
