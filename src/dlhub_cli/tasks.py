"""``dlhub status`` and ``dlhub result``, and following a task's steps live."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import click

from dlhub_cli._context import CliContext, pass_cli
from dlhub_cli._errors import TaskNotFinished
from dlhub_cli._output import console, json_option, print_json

__all__ = ["BUILD_STEP", "FINISHED", "follow_task", "render_task", "result", "status"]

#: The publication step the executor runs after the request (see dlhub_server.publishing).
BUILD_STEP = "build environment"
#: Task states after which nothing changes any more.
FINISHED = ("succeeded", "failed", "skipped")

_MARKS = {
    "pending": "[dim]·[/dim]",
    "running": "",  # a spinner instead
    "succeeded": "[green]✓[/green]",
    "failed": "[red]✗[/red]",
    "skipped": "[dim]-[/dim]",
}


def task_state(task: dict[str, Any]) -> str:
    """The task's state (``status`` in the manual's name, ``state`` in the hub's)."""
    return str(task.get("status") or task.get("state") or "unknown")


def only_build_pending(task: dict[str, Any]) -> bool:
    """Every step is done except the environment build, which has not started."""
    steps = task.get("steps") or []
    waiting = [s for s in steps if s.get("state") not in ("succeeded", "skipped")]
    return (
        len(waiting) == 1
        and waiting[0].get("name") == BUILD_STEP
        and (waiting[0].get("state") == "pending")
    )


def _seconds(step: dict[str, Any]) -> str:
    def moment(key: str) -> dt.datetime | None:
        value = step.get(key)
        try:
            parsed = dt.datetime.fromisoformat(str(value)) if value else None
        except ValueError:
            return None
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed

    start, end = moment("started_at"), moment("finished_at")
    if start is None:
        return ""
    end = end or dt.datetime.now(dt.timezone.utc)
    return f"{max((end - start).total_seconds(), 0.0):.1f} s"


def _last_line(log: Any) -> str:
    lines = [line for line in str(log or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def render_task(task: dict[str, Any]) -> Any:
    """A rich table of the task: one row per step with its state, time and last log line."""
    from rich.console import Group
    from rich.spinner import Spinner
    from rich.table import Table
    from rich.text import Text

    # Text, not markup: a step's log may hold brackets ("[numpy]") that rich would parse.
    kind = task.get("kind") or "task"
    heading = Text(f"{kind} {task.get('id', '')}: {task_state(task)}")
    table = Table(box=None, show_header=False, pad_edge=False)
    steps = task.get("steps") or []
    longest = max((len(str(step.get("name", ""))) for step in steps), default=4)
    table.add_column(width=2)
    # Names, states and times keep their width; the log line gives way on a narrow terminal.
    table.add_column(no_wrap=True, min_width=longest)
    table.add_column(no_wrap=True, min_width=len("succeeded"))
    table.add_column(justify="right", no_wrap=True, min_width=6)
    table.add_column(overflow="ellipsis", no_wrap=True)
    for step in steps:
        state = str(step.get("state", ""))
        mark: Any = Spinner("dots") if state == "running" else _MARKS.get(state, "?")
        table.add_row(
            mark,
            Text(str(step.get("name", ""))),
            Text(state),
            _seconds(step),
            Text(_last_line(step.get("log"))),
        )
    return Group(heading, table)


def follow_task(
    get_status: Callable[[], dict[str, Any]],
    timeout: float | None,
    *,
    show: bool = True,
    pending_grace: float = 3.0,
    interval: float = 0.5,
) -> dict[str, Any]:
    """Follow a task until it ends, its build stays unstarted, or time runs out.

    Args:
        get_status: Fetches the task (``client.get_task_status(task_id)``).
        timeout: Give up following after this many seconds (``None``: never).
        show: Show the steps live (a terminal redraws them; a pipe gets the last state).
        pending_grace: How long an unstarted environment build is waited for: a hub
            without an executor leaves it pending for good.
        interval: Longest wait between two polls (the first ones come sooner: most
            publications end within a second).

    Returns:
        The last state of the task.
    """
    from rich.live import Live

    start = time.monotonic()
    build_waiting_since: float | None = None
    polls = 0
    task = get_status()
    screen = console() if show else None
    # A terminal redraws the steps as they change; a pipe or file gets the last state once.
    live = None
    if screen is not None and screen.is_terminal:
        live = Live(render_task(task), console=screen, refresh_per_second=8, transient=True)
        live.start()
    try:
        while task_state(task) not in FINISHED:
            now = time.monotonic()
            if timeout is not None and now - start >= timeout:
                break
            if only_build_pending(task):
                build_waiting_since = build_waiting_since or now
                if now - build_waiting_since >= pending_grace:
                    break
            else:
                build_waiting_since = None
            time.sleep(min(interval, 0.05 * 2**polls))
            polls += 1
            task = get_status()
            if live is not None:
                live.update(render_task(task))
    finally:
        if live is not None:
            live.stop()
    if screen is not None:
        screen.print(render_task(task))
    return task


def _print_result(task: dict[str, Any]) -> None:
    outcome = task.get("result")
    if outcome is None:
        return
    if isinstance(outcome, dict) and {"name", "version"} <= outcome.keys():
        click.echo(f"result: {outcome['name']} version {outcome['version']}")
    else:
        click.echo("result:")
        print_json(outcome)


@click.command()
@click.option("--task", "task_id", required=True, help="The task's id (printed when it started).")
@json_option
@pass_cli
def status(cli: CliContext, task_id: str, as_json: bool) -> None:
    """Show the state of a task: each step with its state, time and log.

    \b
    Example:
        dlhub status --task 0b7e6a3c-...
    """
    task = cli.client().get_task_status(task_id)
    if as_json:
        print_json(task)
        return
    console().print(render_task(task))
    _print_result(task)


@click.command()
@click.option("--task", "task_id", required=True, help="The id of a run task.")
@click.option("--wait", is_flag=True, help="Wait for the run to end (else: fail if it has not).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=300,
    show_default=True,
    help="With --wait: seconds to wait at most.",
)
@json_option
@pass_cli
def result(cli: CliContext, task_id: str, wait: bool, timeout: float, as_json: bool) -> None:
    """Print the output of a run started with `dlhub run --async` (as JSON).

    \b
    Example:
        task=$(dlhub run --servable alice/numpy_max --input '[[1, 2]]' --async)
        dlhub result --task "$task" --wait
    """
    del as_json  # the output is JSON either way; the flag is accepted for symmetry
    client = cli.client()
    deadline = time.monotonic() + timeout
    polls = 0
    while True:
        try:
            output = client.get_result(task_id)
            break
        except TaskNotFinished:
            if not wait or time.monotonic() >= deadline:
                raise
        time.sleep(min(0.5, 0.05 * 2**polls))
        polls += 1
    print_json(output)
