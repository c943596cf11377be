"""DLHubFuture: a concurrent.futures.Future fed by polling."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from dlhub_sdk.utils.futures import DLHubFuture


def test_future_polls_until_the_task_ends() -> None:
    polls: list[str] = []

    def poll(task_id: str):
        polls.append(task_id)
        return (lambda: 42) if len(polls) >= 3 else None

    future = DLHubFuture("t1", poll, async_wait=0.01)
    assert isinstance(future, Future)
    assert future.result(timeout=5) == 42
    assert polls == ["t1", "t1", "t1"] and future.done()


def test_future_carries_the_servable_error() -> None:
    def poll(task_id: str):
        def fail():
            raise RuntimeError("servable failed")

        return fail

    future = DLHubFuture("t2", poll, async_wait=0.01)
    with pytest.raises(RuntimeError, match="servable failed"):
        future.result(timeout=5)


def test_future_reports_a_failing_poll() -> None:
    def poll(task_id: str):
        raise ConnectionError("hub gone")

    with pytest.raises(ConnectionError, match="hub gone"):
        DLHubFuture("t3", poll, async_wait=0.01).result(timeout=5)


def test_first_poll_waits_and_cancel_sends_nothing_more() -> None:
    polls: list[str] = []
    future = DLHubFuture("t4", lambda task_id: polls.append(task_id), async_wait=0.5)
    assert future.cancel() is False  # the run itself cannot be called back
    assert polls == [] and not future.done()


def test_cancel_returns_once_a_poll_in_flight_has_ended() -> None:
    import threading
    import time

    started, release = threading.Event(), threading.Event()
    polls: list[float] = []

    def poll(task_id: str):
        started.set()
        release.wait(5)
        polls.append(time.monotonic())

    future = DLHubFuture("t5", poll, async_wait=0.01)
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    future.cancel()
    assert len(polls) == 1  # the request on its way finished before cancel() returned
    time.sleep(0.1)
    assert len(polls) == 1  # and none followed
