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
