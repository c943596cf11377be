"""Changing your servables: ``dlhub edit`` and ``dlhub delete``."""

from __future__ import annotations

import json
from typing import Any

import click

from dlhub_cli._context import CliContext, pass_cli
from dlhub_cli._errors import InvalidOption
from dlhub_cli._output import json_option, print_json
from dlhub_sdk.client import parse_name

__all__ = ["delete", "edit", "parse_assignment"]


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``dotted.path=JSON`` as (path segments, value).

    Raises:
        InvalidOption: No ``=``, an empty path segment, or a value that is not JSON.
    """
    path, equals, raw = text.partition("=")
    segments = path.strip().split(".")
    if not equals or not all(s.strip() for s in segments):
        raise InvalidOption(f"--set {text!r} is not dotted.path=JSON")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidOption(
            f"--set {text!r}: the value is not JSON ({exc}); write text in double quotes, "
            f"--set '{path.strip()}=\"some text\"'"
        ) from None
    return [s.strip() for s in segments], value


def _merge(changes: dict[str, Any], segments: list[str], value: Any, origin: str) -> None:
    target = changes
    for position, segment in enumerate(segments[:-1]):
        nested = target.setdefault(segment, {})
        if not isinstance(nested, dict):
            clash = ".".join(segments[: position + 1])
            raise InvalidOption(f"{origin} clashes with the value given to {clash}")
        target = nested
    if segments[-1] in target:
        raise InvalidOption(f"{origin} clashes with another change of {'.'.join(segments)}")
    target[segments[-1]] = value


def _abstract_change(client: Any, name: str, abstract: str) -> list[dict[str, Any]]:
    """The descriptions with the abstract replaced (the other descriptions are kept)."""
    current = client.describe_servable(name)
    descriptions = (current.get("datacite") or {}).get("descriptions") or []
    kept = [
        d
        for d in descriptions
        if not (isinstance(d, dict) and d.get("descriptionType") == "Abstract")
    ]
    return [{"description": abstract, "descriptionType": "Abstract"}, *kept]


@click.command()
@click.argument("name")
@click.option("--title", help="A new title.")
@click.option("--abstract", help="A new abstract (the other descriptions stay).")
@click.option(
    "--domain", "domains", multiple=True, help="Fields of science; replace the list. Repeatable."
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="PATH=JSON",
    help="Set any field by its dotted path to a JSON value (null removes it). Repeatable.",
)
@json_option
@pass_cli
def edit(
    cli: CliContext,
    name: str,
    title: str | None,
    abstract: str | None,
    domains: tuple[str, ...],
    assignments: tuple[str, ...],
    as_json: bool,
) -> None:
    """Change the metadata of one of your servables (the newest version, or NAME:VERSION).

    \b
    Examples:
        dlhub edit alice/numpy_max --title "Maximum of each column"
        dlhub edit alice/numpy_max:2 --domain chemistry --domain materials
        dlhub edit alice/numpy_max --set 'dlhub.visible_to=["public"]'
    """
    parse_name(name)
    changes: dict[str, Any] = {}
    for assignment in assignments:
        segments, value = parse_assignment(assignment)
        _merge(changes, segments, value, f"--set {assignment}")
    client = cli.client()
    if title is not None:
        _merge(changes, ["datacite", "titles"], [{"title": title}], "--title")
    if domains:
        _merge(changes, ["dlhub", "domains"], list(domains), "--domain")
    if abstract is not None:
        _merge(
            changes,
            ["datacite", "descriptions"],
            _abstract_change(client, name, abstract),
            "--abstract",
        )
    if not changes:
        raise click.UsageError("nothing to change: give --title, --abstract, --domain or --set")
    document = client.edit_servable(name, changes)
    if as_json:
        print_json(document)
        return
    dlhub = document.get("dlhub") or {}
    shorthand = dlhub.get("shorthand_name") or name.partition(":")[0]
    click.echo(f"Updated {shorthand} version {dlhub.get('servable_version', '?')}")


@click.command()
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_cli
def delete(cli: CliContext, name: str, yes: bool, as_json: bool) -> None:
    """Delete one of your servables: every version, or only NAME:VERSION.

    Version numbers are never reused: the next publication continues the count.

    \b
    Examples:
        dlhub delete alice/numpy_max:1
        dlhub delete alice/numpy_max --yes        # every version
    """
    owner, short, version = parse_name(name)
    what = f"version {version} of {owner}/{short}" if version else f"every version of {name}"
    client = cli.client()
    if not yes:
        click.confirm(f"Delete {what}?", abort=True)
    deleted = client.delete_servable(name)
    if as_json:
        print_json({"name": f"{owner}/{short}", "deleted_versions": deleted})
        return
    numbers = ", ".join(str(n) for n in deleted)
    noun = "version" if len(deleted) == 1 else "versions"
    click.echo(f"Deleted {owner}/{short} {noun} {numbers}")
