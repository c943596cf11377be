"""`dlhub servables`, `search`, `describe`, `methods`, `versions`: finding and reading servables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import yaml
from click.testing import Result
from clitools import Hub, hub_in_process, one_error_line, publish, write_numpy_max, write_servable

from dlhub_sdk.client import DLHubClient


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub (shared by this module's tests, which only read) with alice's three public
    servables, one of them in two versions, and bob's private one.

    The tests run the commands anonymously, as anyone finding servables would.
    """
    folder = tmp_path_factory.mktemp("library")
    with pytest.MonkeyPatch.context() as patch, hub_in_process(folder / "hub") as hub:
        patch.setenv("HOME", str(folder))  # the publishers' logins stay in here
        hub.register("alice")
        write_servable(folder / "a", "doubler", title="Doubles a number", domains=["maths"])
        publish(hub, folder / "a")
        write_servable(
            folder / "a",
            "doubler",
            title="Doubles a number, again",
            domains=["maths"],
            doi="10.1000/xyz123",
        )
        publish(hub, folder / "a")
        write_servable(
            folder / "b",
            "band_gap",
            title="Band gap predictor",
            author="Chard, Ryan",
            domains=["materials science", "chemistry"],
        )
        publish(hub, folder / "b")
        publish(hub, write_numpy_max(folder / "c"))
        hub.register("bob")
        write_servable(folder / "d", "secret", title="Bob's secret")
        document = json.loads((folder / "d" / "dlhub.json").read_text())
        document["dlhub"]["visible_to"] = ["user:bob"]
        (folder / "d" / "dlhub.json").write_text(json.dumps(document))
        publish(hub, folder / "d")
        patch.undo()
        yield hub


@pytest.fixture
def cli(library: Hub) -> Callable[..., Result]:
    """``dlhub`` against the library, with no login (this test's HOME is empty)."""
    return library.run


@pytest.fixture
def reader(library: Hub) -> DLHubClient:
    """An anonymous client of the library."""
    return DLHubClient(anonymous=True, http_client=library.http)


def test_servables_lists_what_you_can_see(library, cli) -> None:
    answer = cli("servables")
    assert answer.exit_code == 0, answer.output
    assert answer.output.split() == ["alice/band_gap", "alice/doubler", "alice/numpy_max"]
    assert json.loads(cli("servables", "--json").output) == answer.output.split()


def test_servables_on_an_empty_hub(hub) -> None:
    answer = hub.run("servables")
    assert answer.exit_code == 0 and answer.stdout == ""
    assert "No servables yet" in answer.stderr


def test_describe_prints_the_document_as_yaml(reader, cli) -> None:
    answer = cli("describe", "alice/doubler")
    assert answer.exit_code == 0, answer.output
    assert yaml.safe_load(answer.output) == reader.describe_servable("alice/doubler")
    assert answer.output.startswith("datacite:")
    first = yaml.safe_load(cli("describe", "alice/doubler:1").output)
    assert first["datacite"]["titles"] == [{"title": "Doubles a number"}]
    as_json = json.loads(cli("describe", "alice/doubler", "--json").output)
    assert as_json["dlhub"]["servable_version"] == 2


def test_describe_unknown_and_private_servables(library, cli) -> None:
    for name in ("alice/nothing", "bob/secret", "alice/doubler:9"):
        line = one_error_line(cli("describe", name))
        assert line.endswith(
            "(check the name with `dlhub servables` or `dlhub search`; names are "
            "owner/name[:VERSION])"
        ), line
        assert "list_servables()" not in line  # the SDK's advice for Python is replaced


def test_a_malformed_name(library, cli) -> None:
    line = one_error_line(cli("describe", "no_owner"))
    assert "is not a servable name" in line and "(check the command's arguments: " in line
    assert "`dlhub describe --help`" in line


def test_methods(library, cli) -> None:
    answer = cli("methods", "alice/numpy_max")
    assert answer.exit_code == 0, answer.output
    methods = yaml.safe_load(answer.output)
    assert methods["run"]["input"] == {
        "type": "ndarray",
        "description": "Matrix",
        "shape": [None, None],
    }
    assert methods["run"]["parameters"] == {"axis": 0}
    assert "method_details" not in methods["run"]
    one = json.loads(cli("methods", "alice/numpy_max", "run", "--json").output)
    assert one["output"]["shape"] == [None]
    line = one_error_line(cli("methods", "alice/numpy_max", "predict"))
    assert line == (
        "Error: no method 'predict'; the methods are: run "
        "(see the servable's methods with `dlhub methods NAME`)"
    )


def test_versions(library, cli) -> None:
    answer = cli("versions", "alice/doubler")
    assert answer.exit_code == 0, answer.output
    header, *rows = answer.output.splitlines()
    assert header.split() == ["owner", "name", "version", "type", "published", "title"]
    assert [row.split()[:3] for row in rows] == [
        ["alice", "doubler", "2"],
        ["alice", "doubler", "1"],
    ]
    assert rows[0].endswith("Doubles a number, again")
    as_json = json.loads(cli("versions", "alice/doubler", "--json").output)
    assert [d["dlhub"]["servable_version"] for d in as_json] == [2, 1]
    assert "give the servable without a version" in one_error_line(
        cli("versions", "alice/doubler:1")
    )


def test_search_free_text_shows_a_table(library, cli) -> None:
    answer = cli("search", "band", "gap")
    assert answer.exit_code == 0, answer.output
    header, *rows = answer.output.splitlines()
    assert header.split() == ["owner", "name", "version", "type", "published", "title"]
    assert len(rows) == 1
    assert rows[0].split()[:6] == ["alice", "band_gap", "1", "Python", "static", "method"]
    assert rows[0].endswith("Band gap predictor")


def test_search_options_match_fields(library, cli) -> None:
    def names(*args: str) -> list[str]:
        answer = cli("search", *args, "--json")
        assert answer.exit_code == 0, answer.output
        return sorted(d["dlhub"]["shorthand_name"] for d in json.loads(answer.output))

    assert names("--owner", "alice") == ["alice/band_gap", "alice/doubler", "alice/numpy_max"]
    assert names("--name", "doubler") == ["alice/doubler"]
    assert names("--name", "alice/numpy_max") == ["alice/numpy_max"]
    assert names("--author", "Chard, Ryan") == ["alice/band_gap"]
    assert names("--domain", "chemistry", "--domain", "materials science") == ["alice/band_gap"]
    assert names("--domain", "chemistry", "--domain", "maths") == []
    assert names("--doi", "https://doi.org/10.1000/xyz123") == ["alice/doubler"]
    # Words and options together: every word, and every option, must match.
    assert names("--owner", "alice", "again") == ["alice/doubler"]
    assert names("--owner", "alice", "predict*") == ["alice/band_gap"]
    assert names("--owner", "alice", "band", "gap") == ["alice/band_gap"]
    assert names("--owner", "alice", "band", "nothing") == []
    assert names("--owner", "bob") == []  # private to bob
    # --all keeps every version
    all_versions = json.loads(cli("search", "--name", "doubler", "--all", "--json").output)
    assert sorted(d["dlhub"]["servable_version"] for d in all_versions) == [1, 2]


def test_search_advanced_syntax(library, cli) -> None:
    answer = cli(
        "search",
        "--advanced",
        'dlhub.domains:"chemistry" AND servable.type:"Python static method"',
        "--json",
    )
    assert answer.exit_code == 0, answer.output
    assert [d["dlhub"]["name"] for d in json.loads(answer.output)] == ["band_gap"]
    line = one_error_line(cli("search", "--advanced", "dlhub.name:(unclosed"))
    assert line.startswith("Error: the query cannot be parsed")
    assert line.endswith("(check the command's arguments: `dlhub search --help`)")


def test_search_with_no_match_and_limit(library, cli) -> None:
    answer = cli("search", "nothing-like-this")
    assert answer.exit_code == 0 and answer.stdout == ""
    assert "No servables match" in answer.stderr
    assert len(json.loads(cli("search", "--owner", "alice", "--limit", "1", "--json").output)) == 1


def test_search_needs_something_to_look_for(library, cli) -> None:
    answer = cli("search")
    assert answer.exit_code == 2 and "give words to search for" in answer.output
