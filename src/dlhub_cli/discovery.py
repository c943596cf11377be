"""Finding and reading servables: ``servables``, ``search``, ``describe``, ``methods``, ``versions``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from dlhub_cli._context import CliContext, pass_cli
from dlhub_cli._output import format_date, json_option, print_json, print_table, print_yaml

__all__ = ["describe", "methods", "search", "servables", "summary_rows", "versions"]

SUMMARY_COLUMNS = ("owner", "name", "version", "type", "published", "title")


def _title(document: dict[str, Any]) -> str:
    titles = (document.get("datacite") or {}).get("titles") or []
    first = titles[0] if titles else {}
    return str(first.get("title", "")) if isinstance(first, dict) else str(first)


def summary_rows(documents: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row per document: owner, name, version, type, publication date, title."""
    rows: list[tuple[str, ...]] = []
    for document in documents:
        dlhub = document.get("dlhub") or {}
        servable = document.get("servable") or {}
        rows.append(
            (
                str(dlhub.get("owner", "")),
                str(dlhub.get("name", "")),
                str(dlhub.get("servable_version", "")),
                str(servable.get("type") or dlhub.get("type") or ""),
                format_date(dlhub.get("publication_date")),
                _title(document),
            )
        )
    return rows


def _print_documents(documents: list[dict[str, Any]], as_json: bool, empty: str) -> None:
    if as_json:
        print_json(documents)
    elif not documents:
        click.echo(empty, err=True)
    else:
        print_table(SUMMARY_COLUMNS, summary_rows(documents))


@click.command()
@json_option
@pass_cli
def servables(cli: CliContext, as_json: bool) -> None:
    """List the names of the servables you can see (owner/name).

    \b
    Example:
        dlhub servables
    """
    names = cli.client(login=False).list_servables()
    if as_json:
        print_json(names)
    elif not names:
        click.echo("No servables yet: publish one with `dlhub publish --local`", err=True)
    else:
        click.echo("\n".join(names))


def _free_text(words: tuple[str, ...]) -> str:
    """Plain search words as an advanced clause with the same meaning (each word must appear)."""
    from dlhub_sdk.utils.search import escape_term, quote_phrase

    clauses = []
    for word in " ".join(words).split():
        if word.endswith("*") and len(word) > 1:
            clauses.append(escape_term(word, wildcard=True))
        else:
            clauses.append(quote_phrase(word))
    return " AND ".join(clauses)


@click.command()
@click.argument("query", nargs=-1)
@click.option("--owner", help="Only servables this user published.")
@click.option("--name", help="Only servables with this name (or owner/name).")
@click.option("--author", "authors", multiple=True, help="An author, 'Family, Given'; repeatable.")
@click.option("--domain", "domains", multiple=True, help="A field of science; repeatable.")
@click.option("--doi", help="Only servables with this DOI, or related to it.")
@click.option("--all", "all_versions", is_flag=True, help="Every version, not only the newest.")
@click.option(
    "--advanced",
    is_flag=True,
    help='QUERY is in the Lucene syntax: servable.type:"Keras Model" AND dlhub.domains:chemistry',
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many results.")
@json_option
@pass_cli
def search(
    cli: CliContext,
    query: tuple[str, ...],
    owner: str | None,
    name: str | None,
    authors: tuple[str, ...],
    domains: tuple[str, ...],
    doi: str | None,
    all_versions: bool,
    advanced: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """Search the servables' metadata: free text, fields, or both.

    Every option must match (authors and domains: every one given).

    \b
    Examples:
        dlhub search deep learning
        dlhub search --author "Ward, Logan" --domain chemistry
        dlhub search --advanced 'servable.type:"Keras Model" AND dlhub.domains:"chemistry"'
    """
    from dlhub_sdk.utils.search import DLHubSearchHelper

    text = " ".join(query).strip()
    filtered = any((owner, name, authors, domains, doi))
    if not text and not filtered:
        raise click.UsageError("give words to search for, or an option such as --owner")
    # Any: search() and the helper's backend come with the search issue's client methods.
    client: Any = cli.client(login=False)
    if not filtered:
        documents = client.search(
            text, advanced=advanced, limit=limit, only_latest=not all_versions
        )
    else:
        start = (text if advanced else _free_text(query)) if text else None
        helper = DLHubSearchHelper(client, query=f"({start})" if start else None)
        helper.match_servable(name, owner)
        helper.match_authors(list(authors))
        helper.match_domains(list(domains))
        helper.match_doi(doi)
        documents = helper.search(limit=limit, only_latest=not all_versions)
    _print_documents(list(documents), as_json, "No servables match")


@click.command()
@click.argument("name")
@json_option
@pass_cli
def describe(cli: CliContext, name: str, as_json: bool) -> None:
    """Print a servable's whole description (YAML; --json for JSON).

    NAME is owner/name (the newest version) or owner/name:VERSION.

    \b
    Example:
        dlhub describe alice/numpy_max
    """
    document = cli.client(login=False).describe_servable(name)
    if as_json:
        print_json(document)
    else:
        print_yaml(document)


@click.command()
@click.argument("name")
@click.argument("method", required=False)
@json_option
@pass_cli
def methods(cli: CliContext, name: str, method: str | None, as_json: bool) -> None:
    """Show how to call a servable: its methods' inputs, outputs and parameters.

    \b
    Examples:
        dlhub methods alice/numpy_max
        dlhub methods alice/numpy_max run
    """
    described = cli.client(login=False).describe_methods(name, method)
    if as_json:
        print_json(described)
    else:
        print_yaml(described)


@click.command()
@click.argument("name")
@json_option
@pass_cli
def versions(cli: CliContext, name: str, as_json: bool) -> None:
    """List every version of a servable, newest first.

    \b
    Example:
        dlhub versions alice/numpy_max
    """
    _print_documents(cli.client(login=False).get_versions(name), as_json, f"{name} has no versions")
