"""Futures for asynchronous servable runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["DLHubFuture"]

#: Most seconds ``cancel()`` waits for a status request already sent.
_STOP_WAIT = 30.0


class DLHubFuture(Future):  # type: ignore[type-arg]
    """The result of a servable run that is still going on.

    A :class:`concurrent.futures.Future`: ``result(timeout)`` waits for the
    output (raising the servable's error if it failed), ``done()`` asks without
    waiting. A background thread asks the hub every ``async_wait`` seconds, the
    first time ``async_wait`` seconds after the run was submitted.

    Args:
        task_id: The run's task id at the hub.
        poll: Called with the task id; returns ``None`` while the task runs, or a
            callable that produces the result (or raises the task's error) when it ended.
        async_wait: Seconds between two polls.
    """

    def __init__(
        self, task_id: str, poll: Callable[[str], Callable[[], Any] | None], async_wait: float = 5
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self._poll = poll
        self._async_wait = max(float(async_wait), 0.01)
        self._stop = threading.Event()
        self.set_running_or_notify_cancel()
        self._thread = threading.Thread(
            target=self._watch, name=f"dlhub-future-{task_id}", daemon=True
        )
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self._async_wait):
            try:
                outcome = self._poll(self.task_id)
            except Exception as exc:  # the hub could not be asked: that is the future's error
                self.set_exception(exc)
                return
            if outcome is not None:
                try:
                    self.set_result(outcome())
                except Exception as exc:  # the servable's own error
                    self.set_exception(exc)
                return

    def cancel(self) -> bool:
        """Stop watching the task; the run itself goes on at the hub.

        Returns once the watching thread has stopped (waiting for a status request
        already on its way), so no request to the hub is left in flight.
        Returns ``False``: a run cannot be called back.
        """
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=_STOP_WAIT)
        return False

    def __repr__(self) -> str:
        state = "done" if self.done() else "running"
        return f"<DLHubFuture task={self.task_id} {state}>"
