"""Every `dlhub` command: help with an example, --json where it prints data, one-line errors,
shell completion, and the one table of advice."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from clitools import one_error_line

from dlhub_cli import _errors
from dlhub_cli._errors import HINTS, explain, friendly_errors
from dlhub_cli.main import main
from dlhub_sdk import exceptions as exc


def _commands(group: click.Group = main, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


ALL = list(_commands())
PRINTS_DATA = {
    "login", "logout", "whoami", "publish", "servables", "search", "describe", "methods",
    "versions", "edit", "delete", "run", "status", "result",
}  # fmt: skip


def test_every_command_of_the_issue_is_there() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert PRINTS_DATA | {"init", "serve", "users", "groups", "completion"} <= names


@pytest.mark.parametrize("path", [path for path, _ in ALL], ids=" ".join)
def test_help_shows_an_example(path: tuple[str, ...]) -> None:
    answer = CliRunner().invoke(main, [*path, "--help"])
    assert answer.exit_code == 0, answer.output
    assert "Example" in answer.output, answer.output
    assert f"dlhub {' '.join(path)}" in answer.output


@pytest.mark.parametrize("name", sorted(PRINTS_DATA))
def test_commands_that_print_data_take_json(name: str) -> None:
    options = {o for p in main.commands[name].params for o in getattr(p, "opts", [])}
    assert "--json" in options


def test_every_command_prints_errors_as_one_line() -> None:
    for path, command in ALL:
        if command.callback is not None and not isinstance(command, click.Group):
            assert getattr(command.callback, "__dlhub_friendly__", False), path


def test_main_help_and_version() -> None:
    answer = CliRunner().invoke(main, ["--help"])
    assert answer.exit_code == 0
    assert "dlhub login --register" in answer.output and "completion" in answer.output
    version = CliRunner().invoke(main, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("dlhub, version ")


def test_an_unknown_command_is_a_usage_error() -> None:
    answer = CliRunner().invoke(main, ["pubish"])
    assert answer.exit_code == 2 and "No such command 'pubish'" in answer.output


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    answer = CliRunner().invoke(main, ["completion", shell])
    assert answer.exit_code == 0, answer.output
    assert "_DLHUB_COMPLETE" in answer.output


def test_completion_completes_commands_and_options() -> None:
    runner = CliRunner()

    def complete(words: str) -> list[str]:
        environment = {
            "_DLHUB_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
        answer = runner.invoke(main, [], env=environment, prog_name="dlhub")
        assert answer.exit_code == 0, answer.output
        return [line.split(",", 1)[1] for line in answer.output.splitlines()]

    assert complete("dlhub pub") == ["publish"]
    assert {"servables", "search", "serve", "status"} <= set(complete("dlhub s"))
    assert "--no-wait" in complete("dlhub publish --no")
    assert complete("dlhub completion f") == ["fish"]


def _broken() -> click.Command:
    @click.command("broken")
    @friendly_errors
    def broken() -> None:
        raise RuntimeError("something nobody expected")

    group = click.Group("dlhub", params=[click.Option(["--debug"], is_flag=True)])
    group.add_command(broken)
    return group


def test_an_unexpected_error_says_it_is_a_bug_and_how_to_see_more() -> None:
    line = one_error_line(CliRunner().invoke(_broken(), ["broken"]))
    assert line == (
        "Error: RuntimeError: something nobody expected (this is a bug in dlhub: run the "
        "command again as `dlhub --debug ...` for the traceback, and report it)"
    )
    debug = CliRunner().invoke(_broken(), ["--debug", "broken"])
    assert isinstance(debug.exception, RuntimeError)  # the traceback is shown, not a line


def test_explain_takes_the_first_matching_row_and_prefers_the_command() -> None:
    wrong = exc.AuthenticationError("wrong user name or password; try DLHubClient.login(...)")
    assert explain(wrong, "login") == (
        "wrong user name or password (check the user name and password; new users add --register)"
    )
    assert explain(wrong, "publish").endswith("`dlhub login --register`)")
    down = exc.HubUnavailable("cannot reach the DLHub hub at http://x; start one")
    assert explain(down) == (
        "cannot reach the DLHub hub at http://x "
        "(start a hub with `dlhub serve`, or point DLHUB_URL / --url at one)"
    )


def test_explain_keeps_lists_of_problems_whole_on_one_line() -> None:
    rejected = exc.MetadataRejected(
        "the metadata document is not valid: a: bad; b: worse",
        details=[{"field": "a", "message": "bad"}, {"field": "b", "message": "worse"}],
    )
    assert explain(rejected, "publish").startswith(
        "the metadata document is not valid: a: bad; b: worse (fix describe_servable.py"
    )
    schema = exc.SchemaValidationError("servable", [("a.b", "is missing"), ("c", "is wrong")])
    line = explain(schema)
    assert "\n" not in line and "a.b: is missing; c: is wrong" in line
    servable = exc.ServableError("ValueError", "no", remote_traceback="Traceback...\n  line 1")
    assert explain(servable).startswith("ValueError: no (the servable itself failed")


def test_every_row_of_the_table_is_reachable() -> None:
    # A row hidden behind an earlier, more general row for the same command never shows.
    for position, row in enumerate(HINTS):
        kinds = row.error if isinstance(row.error, tuple) else (row.error,)
        for kind in kinds:
            for earlier in HINTS[:position]:
                earlier_kinds = (
                    earlier.error if isinstance(earlier.error, tuple) else (earlier.error,)
                )
                general = earlier.command is None or earlier.command == row.command
                shadowed = general and any(issubclass(kind, k) for k in earlier_kinds)
                assert not shadowed, (row, earlier)
        assert row.advice and not row.advice.endswith(".")


def test_the_local_errors_are_dlhub_errors() -> None:
    for name in ("InvalidOption", "PublicationFailed", "RunFailed", "ScriptExists", "ScriptFailed"):
        assert issubclass(getattr(_errors, name), exc.DLHubError)


def test_outputs_become_plain_json() -> None:
    import datetime as dt
    import json

    import numpy as np

    from dlhub_cli._output import format_date, to_plain

    value = {
        "array": np.arange(4).reshape(2, 2),
        "scalar": np.float32(1.5),
        "tuple": (1, "a"),
        "bytes": b"\x00\x01",
        "complex": 1 + 2j,
        "when": dt.datetime(2024, 5, 6, 7, 8, 9),
        "nan": float("nan"),
        3: None,
    }
    assert to_plain(value) == {
        "array": [[0, 1], [2, 3]],
        "scalar": 1.5,
        "tuple": [1, "a"],
        "bytes": "AAE=",
        "complex": {"real": 1.0, "imag": 2.0},
        "when": "2024-05-06T07:08:09",
        "nan": "nan",
        "3": None,
    }
    json.dumps(to_plain(value), allow_nan=False)
    assert format_date(1_700_000_000_000) == "2023-11-14 22:13"
    assert format_date(None) == "" and format_date("soon") == "soon"
