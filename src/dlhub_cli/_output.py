"""Printing: JSON for scripts, YAML and tables for people."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "console",
    "format_date",
    "json_option",
    "print_json",
    "print_table",
    "print_yaml",
    "to_plain",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Width of tables written to a pipe or file (a terminal uses its own width).
_PIPE_WIDTH = 160


def json_option(command: F) -> F:
    """The ``--json`` flag: print the data as JSON, for scripts."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts)."
    )(command)


def _plain_scalar(value: Any) -> Any:
    """One value JSON cannot hold as is (numpy arrays and numbers, bytes, dates...)."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy arrays and numpy scalars
        return tolist()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, complex):
        return {"real": value.real, "imag": value.imag}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def to_plain(value: Any) -> Any:
    """``value`` as plain JSON types: numpy arrays become lists, tuples lists, bytes base64."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return to_plain(_plain_scalar(value))


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(to_plain(data), indent=2, ensure_ascii=False))


def print_task_id(task_id: str, as_json: bool, next_step: str) -> None:
    """Report a task left running in the background.

    With ``--json``: ``{"task_id": ...}``. Otherwise the id alone on stdout, so that
    ``task=$(dlhub ...)`` works, and ``next_step`` (what to run later) on stderr.
    """
    if as_json:
        print_json({"task_id": task_id})
    else:
        click.echo(task_id)
        click.echo(next_step, err=True)


def print_yaml(data: Any) -> None:
    """Print ``data`` as YAML, keys in their order."""
    import yaml

    click.echo(
        yaml.safe_dump(to_plain(data), sort_keys=False, allow_unicode=True, width=100).rstrip()
    )


def console(stderr: bool = False) -> Any:
    """A rich console on click's current output (so a test runner captures it)."""
    from rich.console import Console

    stream = click.get_text_stream("stderr" if stderr else "stdout")
    terminal = stream.isatty()
    return Console(
        file=stream,
        width=None if terminal else _PIPE_WIDTH,
        force_terminal=None if terminal else False,
        highlight=False,
    )


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows under the column headings (a rich table)."""
    from rich.table import Table

    table = Table(*columns, box=None, header_style="bold", pad_edge=False)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(table)


def format_date(milliseconds: Any) -> str:
    """A publication date (milliseconds since the epoch) as ``YYYY-MM-DD HH:MM`` in UTC."""
    try:
        moment = dt.datetime.fromtimestamp(float(milliseconds) / 1000, dt.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return str(milliseconds or "")
    return moment.strftime("%Y-%m-%d %H:%M")
