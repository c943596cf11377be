"""`dlhub run`, `status`, `result`: running servables with JSON inputs, and every failure."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from clitools import one_error_line, publish, write_numpy_max, write_servable

from dlhub_cli._errors import InvalidOption
from dlhub_cli.running import coerce


@pytest.fixture
def servables(hub, alice, tmp_path: Path):
    """alice's servables: a doubler that prints, a failing one, a slow one, numpy's max."""
    publish(hub, write_servable(tmp_path / "d", "doubler", "print('doubling', x); return 2 * x"))
    publish(hub, write_servable(tmp_path / "f", "failing", "raise ValueError('x must be odd')"))
    publish(hub, write_servable(tmp_path / "s", "sleepy", "import time; time.sleep(x); return x"))
    publish(hub, write_numpy_max(tmp_path / "m"))
    return alice


def test_run_prints_the_output_as_json(servables, cli) -> None:
    answer = cli("run", "--servable", "alice/doubler", "--input", "21")
    assert answer.exit_code == 0, answer.output
    assert answer.output == "42\n"
    assert cli("run", "--servable", "alice/doubler:1", "--input", "1.5", "--json").output == "3.0\n"


def test_nested_lists_become_arrays_for_ndarray_inputs(servables, cli) -> None:
    answer = cli("run", "--servable", "alice/numpy_max", "--input", "[[1, 5], [4, 2]]")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output) == [4, 5]  # an array travelled back, printed as a list
    rows = cli(
        "run",
        "--servable",
        "alice/numpy_max",
        "--input",
        "[[1, 5], [4, 2]]",
        "--parameters",
        '{"axis": 1}',
    )
    assert json.loads(rows.output) == [5, 4]


def test_input_from_a_file(servables, cli) -> None:
    Path("matrix.json").write_text(json.dumps([[1.5, -2.0], [0.5, 7.25]]))
    answer = cli("run", "--servable", "alice/numpy_max", "--input-file", "matrix.json")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output) == [1.5, 7.25]


def test_debug_shows_what_the_servable_printed(servables, cli) -> None:
    answer = cli("run", "--servable", "alice/doubler", "--input", "2", "--debug")
    assert answer.exit_code == 0, answer.output
    assert answer.stdout == "4\n"
    assert "--- stdout of the servable ---\ndoubling 2" in answer.stderr
    assert re.search(r"--- timing: .*total [0-9.]+ ms", answer.stderr)
    as_json = json.loads(
        cli("run", "--servable", "alice/doubler", "--input", "2", "--debug", "--json").output
    )
    assert as_json["output"] == 4 and as_json["metadata"]["success"] is True
    assert as_json["metadata"]["stdout"].strip() == "doubling 2"


def test_a_servable_that_raises(servables, cli) -> None:
    line = one_error_line(cli("run", "--servable", "alice/failing", "--input", "1"))
    assert line.startswith("Error: ValueError: x must be odd (the servable itself failed")
    assert "--- traceback" not in line

    answer = cli("run", "--servable", "alice/failing", "--input", "1", "--debug")
    assert answer.exit_code == 1
    assert "raise ValueError" in answer.stderr  # the servable's traceback, with --debug
    assert answer.stderr.splitlines()[-1] == (
        "Error: ValueError: x must be odd "
        "(the servable itself failed: its output and traceback are above)"
    )
    # The global --debug shows the command's own traceback instead of the one line.
    raw = cli("--debug", "run", "--servable", "alice/failing", "--input", "1")
    assert raw.exit_code == 1 and type(raw.exception).__name__ == "ServableError"


def test_a_run_past_its_timeout(servables, cli) -> None:
    line = one_error_line(
        cli("run", "--servable", "alice/sleepy", "--input", "5", "--timeout", "1")
    )
    assert "(it ran past its time limit" in line


def test_async_then_status_then_result(servables, cli) -> None:
    answer = cli("run", "--servable", "alice/sleepy", "--input", "0.5", "--async")
    assert answer.exit_code == 0, answer.output
    task_id = answer.stdout.strip()  # alone, for  task=$(dlhub run ... --async)
    assert f"`dlhub result --task {task_id} --wait`" in answer.stderr

    early = cli("result", "--task", task_id)
    if early.exit_code != 0:  # still running: the line says to ask again
        assert "(ask again later" in one_error_line(early)
    done = cli("result", "--task", task_id, "--wait", "--timeout", "60")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == 0.5
    status = json.loads(cli("status", "--task", task_id, "--json").output)
    assert status["status"] == "succeeded" and status["kind"] == "run", status
    human = cli("status", "--task", task_id)
    assert human.exit_code == 0, human.output
    assert human.output.splitlines()[0] == f"run {task_id}: succeeded"
    assert re.search(r"✓\s+run\s+succeeded", human.output)


def test_result_wait_gives_up_at_its_timeout(servables, cli) -> None:
    task_id = cli("run", "--servable", "alice/sleepy", "--input", "3", "--async").stdout.strip()
    line = one_error_line(cli("result", "--task", task_id, "--wait", "--timeout", "0.3"))
    assert line.endswith("(ask again later, or wait for it: `dlhub result --task ID --wait`)")


def test_async_json(servables, cli) -> None:
    as_json = cli("run", "--servable", "alice/doubler", "--input", "1", "--async", "--json")
    assert set(json.loads(as_json.output)) == {"task_id"}


def test_malformed_input_json(servables, cli) -> None:
    line = one_error_line(cli("run", "--servable", "alice/doubler", "--input", "[1, 2"))
    assert line.startswith("Error: --input is not valid JSON: ")
    assert line.endswith("(see the examples in `dlhub run --help`)")
    Path("bad.json").write_text("{")
    line = one_error_line(cli("run", "--servable", "alice/doubler", "--input-file", "bad.json"))
    assert line.startswith("Error: --input-file bad.json is not valid JSON")
    params = cli("run", "--servable", "alice/doubler", "--input", "1", "--parameters", "[1]")
    assert "--parameters must be a JSON object" in one_error_line(params)


def test_input_options(servables, cli) -> None:
    both = cli("run", "--servable", "alice/doubler", "--input", "1", "--input-file", "x.json")
    assert both.exit_code == 2 and "either --input JSON or --input-file PATH" in both.output
    assert cli("run", "--servable", "alice/doubler").exit_code == 2
    line = one_error_line(cli("run", "--servable", "alice/doubler", "--input-file", "nope.json"))
    assert "nope.json" in line and line.endswith("(check the path)")


def test_validate_checks_the_input_first(servables, cli) -> None:
    answer = cli("run", "--servable", "alice/doubler", "--input", '"text"', "--validate")
    line = one_error_line(answer)
    assert line.endswith(
        "(make the input match the servable's declared input (`dlhub methods NAME`))"
    )


def test_unknown_servable_and_task(servables, cli) -> None:
    line = one_error_line(cli("run", "--servable", "alice/nothing", "--input", "1"))
    assert line.startswith("Error: no servable alice/nothing")
    for command in ("status", "result"):
        line = one_error_line(cli(command, "--task", "0" * 8))
        assert "(use the id printed when the task started" in line


def test_running_needs_a_login(servables, cli) -> None:
    servables.logout()
    line = one_error_line(cli("run", "--servable", "alice/doubler", "--input", "1"))
    assert "not logged in" in line


def test_coerce_follows_the_declared_types() -> None:
    import numpy as np

    matrix = coerce([[1, 2]], {"type": "ndarray", "shape": [None, 2]})
    assert isinstance(matrix, np.ndarray) and matrix.shape == (1, 2)
    floats = coerce([1, 2], {"type": "ndarray", "shape": [2], "item_type": {"type": "float"}})
    assert floats.dtype == np.float64
    pair = coerce(
        [[1, 2], "x"],
        {
            "type": "tuple",
            "element_types": [{"type": "ndarray", "shape": [2]}, {"type": "string"}],
        },
    )
    assert isinstance(pair, tuple) and isinstance(pair[0], np.ndarray) and pair[1] == "x"
    assert coerce({"re": 1}, {"type": "dict", "properties": {"re": {"type": "complex"}}}) == {
        "re": 1 + 0j
    }
    assert coerce([1, 2], {"type": "complex"}) == 1 + 2j
    assert coerce("2024-01-02T03:04:05", {"type": "datetime"}) == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert coerce(90, {"type": "timedelta"}) == dt.timedelta(seconds=90)
    assert coerce([1, 2], {"type": "list", "item_type": {"type": "integer"}}) == [1, 2]
    assert coerce("anything", None) == "anything"
    with pytest.raises(InvalidOption, match="does not fit the declared datetime"):
        coerce("yesterday", {"type": "datetime"})
    with pytest.raises(InvalidOption, match="cannot be made an array"):
        coerce([[1, 2], [3]], {"type": "ndarray", "shape": [None, None]})
