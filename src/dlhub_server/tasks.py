"""Task records: long-running work a caller follows with ``get_task_status``.

A task is a list of named steps, each with a state (``pending``, ``running``,
``succeeded``, ``failed``, ``skipped``), a log and its start and end times. The
task's own state follows from its steps: failed if one failed, else running if
one runs, else pending if one waits, else succeeded.

A publication is the task ``publish`` with the steps ``validate``, ``store``,
``record`` and ``build environment``; the first three finish in the request, the
last is left pending for the executor, which updates it with :func:`update_step`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from dlhub_server.db import utcnow
from dlhub_server.tables import Task

__all__ = [
    "STEP_STATES",
    "Step",
    "new_task",
    "overall_state",
    "task_view",
    "update_step",
]

STEP_STATES = ("pending", "running", "succeeded", "failed", "skipped")


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


class Step:
    """Builds the record of one step while it runs (times it, collects its log)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = "pending"
        self.log: list[str] = []
        self.started_at: dt.datetime | None = None
        self.finished_at: dt.datetime | None = None

    def start(self) -> Step:
        """Mark the step as running from now."""
        self.state, self.started_at = "running", utcnow()
        return self

    def note(self, line: str) -> None:
        """Add a line to the step's log."""
        self.log.append(line)

    def succeed(self, line: str | None = None) -> None:
        """Mark the step as done (with an optional last log line)."""
        if line:
            self.note(line)
        self.state, self.finished_at = "succeeded", utcnow()

    def record(self) -> dict[str, Any]:
        """The step as stored in ``tasks.steps``."""
        return {
            "name": self.name,
            "state": self.state,
            "log": "\n".join(self.log),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }


def overall_state(steps: list[dict[str, Any]]) -> str:
    """The task's state from its steps' states."""
    states = {s.get("state") for s in steps}
    for state in ("failed", "running", "pending"):
        if state in states:
            return state
    return "succeeded"


def new_task(kind: str, owner_id: int | None, steps: list[Step]) -> Task:
    """A task row (not yet added to a session) with a fresh id."""
    records = [s.record() for s in steps]
    now = utcnow()
    return Task(
        id=str(uuid.uuid4()),
        kind=kind,
        owner_id=owner_id,
        state=overall_state(records),
        steps=records,
        created_at=now,
        updated_at=now,
    )


def update_step(task: Task, name: str, *, state: str | None = None, log: str | None = None) -> None:
    """Change one step of a task: its state and/or more log text.

    Moving a step to ``running`` stamps its start, to a final state its end.

    Raises:
        KeyError: The task has no step by that name.
        ValueError: ``state`` is not one of :data:`STEP_STATES`.
    """
    if state is not None and state not in STEP_STATES:
        raise ValueError(f"unknown step state {state!r}; use one of {STEP_STATES}")
    steps = [dict(s) for s in task.steps]
    for step in steps:
        if step["name"] == name:
            break
    else:
        raise KeyError(f"task {task.id} has no step {name!r}; steps: {[s['name'] for s in steps]}")
    now = utcnow().isoformat()
    if log:
        step["log"] = f"{step['log']}\n{log}" if step.get("log") else log
    if state is not None:
        step["state"] = state
        if state == "running" and not step.get("started_at"):
            step["started_at"] = now
        if state in ("succeeded", "failed", "skipped"):
            step["finished_at"] = now
    # A new list, so the JSON column sees the change.
    task.steps = steps
    task.state = overall_state(steps)
    task.updated_at = utcnow()


def task_view(task: Task) -> dict[str, Any]:
    """The task as the API returns it."""
    return {
        "id": task.id,
        "kind": task.kind,
        "owner": task.owner.username if task.owner is not None else None,
        # "status" is the manual's name for it (get_task_status returns a block with "status").
        "status": task.state,
        "state": task.state,
        "steps": task.steps,
        "result": task.result,
        "created_at": _iso(task.created_at),
        "updated_at": _iso(task.updated_at),
    }
