"""`dlhub edit` and `dlhub delete`: changing your servables, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitools import one_error_line, publish, write_servable

from dlhub_cli._errors import InvalidOption
from dlhub_cli.editing import parse_assignment


@pytest.fixture
def doubler(hub, alice, tmp_path: Path):
    """alice's servable alice/doubler, in two versions; returns alice's client."""
    folder = write_servable(tmp_path / "doubler", "doubler")
    publish(hub, folder)
    publish(hub, folder)
    return alice


def test_edit_title_abstract_and_domains(doubler, cli) -> None:
    answer = cli(
        "edit",
        "alice/doubler",
        "--title",
        "Twice a number",
        "--abstract",
        "Multiplies by two.",
        "--domain",
        "maths",
        "--domain",
        "teaching",
    )
    assert answer.exit_code == 0, answer.output
    assert answer.output.strip() == "Updated alice/doubler version 2"
    document = doubler.describe_servable("alice/doubler")
    assert document["datacite"]["titles"] == [{"title": "Twice a number"}]
    abstracts = [
        d for d in document["datacite"]["descriptions"] if d["descriptionType"] == "Abstract"
    ]
    assert abstracts == [{"description": "Multiplies by two.", "descriptionType": "Abstract"}]
    assert document["dlhub"]["domains"] == ["maths", "teaching"]
    # Version 1 is untouched.
    first = doubler.describe_servable("alice/doubler:1")
    assert first["datacite"]["titles"] == [{"title": "The doubler servable"}]


def test_edit_a_version_with_set(doubler, cli) -> None:
    answer = cli(
        "edit",
        "alice/doubler:1",
        "--set",
        'datacite.titles=[{"title": "Old doubler"}]',
        "--set",
        'dlhub.domains=["history"]',
        "--json",
    )
    assert answer.exit_code == 0, answer.output
    document = json.loads(answer.output)
    assert document["dlhub"]["servable_version"] == 1
    assert document["datacite"]["titles"] == [{"title": "Old doubler"}]
    assert doubler.describe_servable("alice/doubler:1")["dlhub"]["domains"] == ["history"]


def test_malformed_set(doubler, cli) -> None:
    line = one_error_line(cli("edit", "alice/doubler", "--set", "datacite.titles=[{oops"))
    assert line.startswith("Error: --set 'datacite.titles=[{oops': the value is not JSON")
    assert line.endswith("(see the examples in `dlhub edit --help`)")
    assert "is not dotted.path=JSON" in one_error_line(
        cli("edit", "alice/doubler", "--set", "no-equals-sign")
    )
    clash = cli("edit", "alice/doubler", "--set", "dlhub.domains=[]", "--domain", "x")
    assert "clashes" in one_error_line(clash)


def test_parse_assignment() -> None:
    assert parse_assignment('a.b.c={"x": [1, null]}') == (["a", "b", "c"], {"x": [1, None]})
    assert parse_assignment("a=null") == (["a"], None)
    assert parse_assignment('a="x=y"') == (["a"], "x=y")
    for bad in ("a", "=1", "a..b=1", "a=x"):
        with pytest.raises(InvalidOption):
            parse_assignment(bad)


def test_edit_needs_a_change(doubler, cli) -> None:
    answer = cli("edit", "alice/doubler")
    assert answer.exit_code == 2 and "nothing to change" in answer.output


def test_fields_that_cannot_change(doubler, cli) -> None:
    line = one_error_line(cli("edit", "alice/doubler", "--set", 'dlhub.name="renamed"'))
    assert "dlhub.name" in line and line.endswith("(see what `dlhub edit --help` can change)")


def test_another_users_servable(doubler, hub, cli) -> None:
    hub.register("bob")
    line = one_error_line(cli("edit", "alice/doubler", "--title", "Mine now"))
    assert line.endswith(
        "(only a servable's owner may change it; publish under your own account instead)"
    )
    line = one_error_line(cli("delete", "alice/doubler", "--yes"))
    assert "owner may change it" in line
    assert doubler.describe_servable("alice/doubler")["dlhub"]["servable_version"] == 2


def test_edit_and_delete_need_a_login(doubler, cli) -> None:
    doubler.logout()
    for args in (["edit", "alice/doubler", "--title", "t"], ["delete", "alice/doubler", "-y"]):
        assert "not logged in" in one_error_line(cli(*args))


def test_delete_asks_first(doubler, cli) -> None:
    refused = cli("delete", "alice/doubler:1", input="n\n")
    assert refused.exit_code == 1
    assert "Delete version 1 of alice/doubler? [y/N]" in refused.output
    assert [d["dlhub"]["servable_version"] for d in doubler.get_versions("alice/doubler")] == [2, 1]

    confirmed = cli("delete", "alice/doubler:1", input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert confirmed.output.splitlines()[-1] == "Deleted alice/doubler version 1"
    assert [d["dlhub"]["servable_version"] for d in doubler.get_versions("alice/doubler")] == [2]


def test_delete_everything_with_yes(doubler, cli) -> None:
    answer = cli("delete", "alice/doubler", "--yes", "--json")
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output) == {"name": "alice/doubler", "deleted_versions": [1, 2]}
    line = one_error_line(cli("delete", "alice/doubler", "--yes"))
    assert line.startswith("Error: no servable alice/doubler")
    assert "alice/doubler" not in cli("servables").output
