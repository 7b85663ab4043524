"""The query watchdog: callbacks fire at their deadlines, in order; cancelled ones never fire."""

from __future__ import annotations

import threading
import time

from query_api.store.watchdog import Watchdog


def test_callbacks_fire_in_deadline_order_and_cancelled_ones_do_not() -> None:
    dog = Watchdog(name="test-watchdog")
    fired: list[str] = []
    done = threading.Event()
    dog.watch(0.15, lambda: fired.append("late"))
    cancelled = dog.watch(0.05, lambda: fired.append("cancelled"))
    dog.watch(0.02, lambda: fired.append("early"))  # nearer than the others: wakes the sleeping thread
    dog.watch(0.2, done.set)
    dog.cancel(cancelled)
    assert done.wait(5)
    assert fired == ["early", "late"]


def test_a_failing_callback_does_not_stop_the_others() -> None:
    dog = Watchdog(name="test-watchdog")
    done = threading.Event()
    dog.watch(0.01, lambda: 1 / 0)
    dog.watch(0.03, done.set)
    assert done.wait(5)


def test_many_watches_cancelled_at_once_leave_nothing_behind() -> None:
    dog = Watchdog(name="test-watchdog")
    tokens = [dog.watch(0.05, lambda: None) for _ in range(1000)]
    for token in tokens:
        dog.cancel(token)
    time.sleep(0.1)
    assert dog._pending == {}


def test_cancel_waits_for_a_running_callback() -> None:
    """After cancel returns, the callback is not running: the caller may close what it touches."""
    dog = Watchdog(name="test-watchdog")
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def slow() -> None:
        started.set()
        release.wait(5)
        finished.append(True)

    token = dog.watch(0.0, slow)
    assert started.wait(5)
    threading.Timer(0.1, release.set).start()
    dog.cancel(token)
    assert finished == [True]


def test_an_endless_timeout_does_not_kill_the_thread() -> None:
    dog = Watchdog(name="test-watchdog")
    dog.watch(float("inf"), lambda: None)
    done = threading.Event()
    dog.watch(0.01, done.set)
    assert done.wait(5)
