"""Tasks: the state, steps and logs of long-running work (publications, and later runs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dlhub_server.errors import TaskNotFound
from dlhub_server.routes._deps import CurrentCaller, CurrentHub
from dlhub_server.tables import Task
from dlhub_server.tasks import task_view
from dlhub_server.visibility import can_see_task

__all__ = ["router"]

router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get("/{task_id}")
def get_task(task_id: str, caller: CurrentCaller, hub: CurrentHub) -> dict[str, Any]:
    """A task the caller started: its state, each step with its state, log and times, and its result."""
    with hub.transaction() as session:
        task = session.get(Task, task_id)
        if task is None or not can_see_task(caller.viewer, task):
            raise TaskNotFound(
                f"no task {task_id!r} that you started; check the id returned when it was "
                "created, and that you are logged in as the same user"
            )
        return task_view(task)
