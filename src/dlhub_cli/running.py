"""``dlhub run``: call a servable with inputs written as JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from dlhub_cli._context import CliContext, pass_cli
from dlhub_cli._errors import InvalidOption, RunFailed
from dlhub_cli._output import json_option, print_json, print_task_id

__all__ = ["coerce", "read_json_option", "run"]

#: numpy dtypes for the item types of an ``ndarray`` argument.
_DTYPES = {
    "float": "float64",
    "integer": "int64",
    "number": None,
    "complex": "complex128",
    "boolean": "bool",
    "string": "str",
}


def read_json_option(text: str, option: str) -> Any:
    """The value of an option that holds JSON.

    Raises:
        InvalidOption: The text is not JSON; the message names the option and where.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidOption(
            f"{option} is not valid JSON: {exc}; text goes in double quotes, "
            "e.g. --input '\"hello\"'"
        ) from None


def _complex(value: Any) -> Any:
    if isinstance(value, dict) and {"real", "imag"} <= value.keys():
        return complex(value["real"], value["imag"])
    if isinstance(value, list) and len(value) == 2:
        return complex(value[0], value[1])
    if isinstance(value, (str, int, float)):
        return complex(value)
    return value


def _ndarray(value: Any, block: dict[str, Any]) -> Any:
    try:
        import numpy as np
    except ImportError:  # the hub converts lists itself where it can
        return value
    item = block.get("item_type")
    dtype = _DTYPES.get(str(item.get("type"))) if isinstance(item, dict) else None
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidOption(
            f"--input cannot be made an array of {dtype or 'numbers'}: {exc}"
        ) from None


def coerce(value: Any, block: Any) -> Any:
    """JSON ``value`` made the Python type its argument-type ``block`` declares.

    JSON has no arrays, tuples, complex numbers or dates: nested lists become
    numpy arrays for ``ndarray``, lists become tuples for ``tuple``, ISO text
    becomes a datetime, seconds a timedelta. Anything else is left as it is (the
    hub checks it against the declared type).
    """
    if not isinstance(block, dict):
        return value
    kind = block.get("type")
    try:
        if kind == "ndarray" and isinstance(value, list):
            return _ndarray(value, block)
        if kind == "tuple" and isinstance(value, list):
            elements = block.get("element_types") or []
            if len(elements) == len(value):
                return tuple(coerce(v, e) for v, e in zip(value, elements))
            return tuple(value)
        if kind == "list" and isinstance(value, list):
            return [coerce(v, block.get("item_type")) for v in value]
        if kind == "dict" and isinstance(value, dict):
            properties = block.get("properties") or {}
            return {k: coerce(v, properties.get(k)) for k, v in value.items()}
        if kind == "complex":
            return _complex(value)
        if kind == "datetime" and isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if kind == "timedelta" and isinstance(value, (int, float)):
            return dt.timedelta(seconds=value)
    except (TypeError, ValueError) as exc:
        raise InvalidOption(f"--input does not fit the declared {kind}: {exc}") from None
    return value


def _declared_input(client: Any, name: str) -> Any:
    try:
        return client.describe_methods(name, "run").get("input")
    except KeyError:  # no method called run: nothing to convert by
        return None


def _print_debug(metadata: dict[str, Any]) -> None:
    """What the servable printed, its error with the traceback, and the timing (on stderr)."""
    sections = [
        ("stdout of the servable", metadata.get("stdout")),
        ("stderr of the servable", metadata.get("stderr")),
        ("error", metadata.get("error_message")),
    ]
    for title, text in sections:
        if text:
            click.echo(f"--- {title} ---", err=True)
            click.echo(str(text).rstrip("\n"), err=True)
    timing = metadata.get("timing")
    if isinstance(timing, dict) and timing:
        parts = []
        for step, seconds in timing.items():
            try:
                parts.append(f"{step} {float(seconds) * 1000:.1f} ms")
            except (TypeError, ValueError):
                parts.append(f"{step} {seconds}")
        click.echo(f"--- timing: {', '.join(parts)}", err=True)


@click.command()
@click.option("--servable", "name", required=True, help="owner/name or owner/name:VERSION.")
@click.option("--input", "input_text", metavar="JSON", help="The input, as JSON.")
@click.option(
    "--input-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file holding the input as JSON.",
)
@click.option("--parameters", metavar="JSON", help="Parameters of the method, a JSON object.")
@click.option(
    "--async", "asynchronous", is_flag=True, help="Print only the task id, and return at once."
)
@click.option("--debug", is_flag=True, help="Also print the servable's stdout, stderr and timing.")
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to wait for the output."
)
@click.option("--validate", is_flag=True, help="Check the input against the declared type first.")
@json_option
@pass_cli
def run(
    cli: CliContext,
    name: str,
    input_text: str | None,
    input_file: Path | None,
    parameters: str | None,
    asynchronous: bool,
    debug: bool,
    timeout: float | None,
    validate: bool,
    as_json: bool,
) -> None:
    """Run a servable and print its output as JSON.

    Arrays are nested lists; they become numpy arrays when the servable's input
    is an ndarray.

    \b
    Examples:
        dlhub run --servable alice/numpy_max --input '[[1, 2], [3, 4]]'
        dlhub run --servable alice/numpy_max --input-file x.json --parameters '{"axis": 1}'
        task=$(dlhub run --servable alice/numpy_max --input '[[1, 2]]' --async)
        dlhub result --task "$task" --wait
    """
    if (input_text is None) == (input_file is None):
        raise click.UsageError("give the input with either --input JSON or --input-file PATH")
    if input_file is not None:
        inputs = read_json_option(input_file.read_text(), f"--input-file {input_file}")
    else:
        inputs = read_json_option(str(input_text), "--input")
    options: dict[str, Any] = {}
    if parameters is not None:
        options = read_json_option(parameters, "--parameters")
        if not isinstance(options, dict):
            raise InvalidOption("--parameters must be a JSON object, e.g. '{\"axis\": 1}'")
    client = cli.client()
    inputs = coerce(inputs, _declared_input(client, name))
    answer = client.run(
        name,
        inputs,
        parameters=options or None,
        asynchronous=asynchronous,
        debug=debug,
        validate_input=validate,
        timeout=timeout,
    )
    if asynchronous:
        task_id = answer.task_id
        answer.cancel()  # stop its polling thread: the command only reports the id
        print_task_id(
            task_id, as_json, f"Get the output with `dlhub result --task {task_id} --wait`"
        )
        return
    if not debug:
        print_json(answer)
        return
    output, metadata = answer
    # "exc" holds the exception object itself: the other keys say all of it as text
    shown = {key: value for key, value in metadata.items() if key != "exc"}
    if as_json:
        print_json({"output": output, "metadata": shown})
    else:
        if metadata.get("success") is not False:
            print_json(output)
        _print_debug(shown)
    if metadata.get("success") is False:
        message = str(metadata.get("error_message") or "the servable failed")
        raise RunFailed(message.split("\n--- traceback", 1)[0])
