"""The search engine's public functions, for the hub to call inside its own transactions.

Every function takes an open SQLAlchemy :class:`~sqlalchemy.Connection` and runs
in its transaction: a publication indexes its version in the same transaction
that records it, so the index never disagrees with the registry (no second store).

The index lives in the registry's database. SQLite (FTS5 with BM25) is
implemented; PostgreSQL (``tsvector`` full text and ``jsonb``/GIN for fields)
fits behind the same functions: the query is first read into a database-neutral
tree (:mod:`dlhub_server.search.query`), and only its translation is per database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from dlhub_server.search.errors import QuerySyntaxError
from dlhub_server.search.indexer import analyze_document
from dlhub_server.search.query import parse_query
from dlhub_server.search.schema import create_sqlite_schema, drop_sqlite_schema
from dlhub_server.search.sqlite.reader import facet_counts, find
from dlhub_server.search.sqlite.writer import remove_document, write_document

__all__ = [
    "FACET_FIELDS",
    "SearchPage",
    "create_search_schema",
    "drop_search_schema",
    "facets",
    "index_version",
    "optimize_search_index",
    "remove_version",
    "search",
]

#: The fields :func:`facets` counts by: servable type, domain, owner and author.
FACET_FIELDS: tuple[str, ...] = (
    "servable.type",
    "dlhub.domains",
    "dlhub.owner",
    "datacite.creators.creatorName",
)


@dataclass
class SearchPage:
    """One page of search results.

    Attributes:
        results: The documents, exactly as published (native JSON types), best first.
        scores: The relevance of each result (BM25 of the free text of the query,
            higher is better; ``0.0`` for queries without free text, which list
            the newest versions first).
        total: How many versions match in all (that the caller may see).
    """

    results: list[dict[str, Any]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    total: int = 0


def _check_database(connection: Connection) -> None:
    # the dialect switch: each database gets its own translation of the query tree
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return
    if dialect == "postgresql":
        raise NotImplementedError(
            "search on PostgreSQL (tsvector full text and jsonb/GIN field indexes) is not "
            "implemented yet; the registry's search index needs SQLite for now"
        )
    raise NotImplementedError(f"search is not implemented for the {dialect} database")


def create_search_schema(connection: Connection) -> None:
    """Create the search index's tables if they do not exist (safe to call at every start).

    Args:
        connection: A connection to the registry's database.

    Raises:
        NotImplementedError: The database is not SQLite.
        RuntimeError: The tables exist with another schema version.
    """
    _check_database(connection)
    create_sqlite_schema(connection)


def drop_search_schema(connection: Connection) -> None:
    """Remove the search index's tables (to rebuild the index from the registry)."""
    _check_database(connection)
    drop_sqlite_schema(connection)


def optimize_search_index(connection: Connection) -> None:
    """Merge the full-text index into one segment (after a bulk load; optional)."""
    _check_database(connection)
    connection.exec_driver_sql("INSERT INTO search_text (search_text) VALUES ('optimize')")


def index_version(connection: Connection, document: Mapping[str, Any]) -> None:
    """Index one published version; indexing the same ``dlhub.id`` again replaces it.

    Args:
        connection: A connection to the registry's database, in the publication's
            transaction.
        document: The published document, with the hub's fields in ``dlhub``:
            ``id`` (required), ``owner``, ``name``, ``servable_version``,
            ``publication_date`` (ms) and ``visible_to``.

    Raises:
        ValueError: The document has no ``dlhub.id`` or is not plain JSON.
    """
    _check_database(connection)
    write_document(connection, analyze_document(document))


def remove_version(connection: Connection, version_id: str) -> bool:
    """Remove a version from the index.

    Args:
        connection: A connection to the registry's database.
        version_id: The ``dlhub.id`` of the version.

    Returns:
        Whether the version was in the index.
    """
    _check_database(connection)
    return remove_document(connection, str(version_id))


@contextmanager
def _depth_guard(query: str) -> Iterator[None]:
    # a tree nested deeply enough to pass the parser can still be too deep to translate
    try:
        yield
    except RecursionError:
        raise QuerySyntaxError("the query is nested too deeply", query) from None


def _principals(principals: Iterable[str]) -> set[str]:
    if isinstance(principals, str):
        raise TypeError("principals is a set of strings such as {'public', 'user:alice'}")
    found = {str(p) for p in principals}
    found.add("public")  # whoever can ask sees what is public
    return found


def search(
    connection: Connection,
    query: str,
    *,
    advanced: bool = False,
    principals: Iterable[str] = ("public",),
    limit: int | None = None,
    offset: int = 0,
    only_latest: bool = True,
    sort: Sequence[Mapping[str, Any]] | None = None,
) -> SearchPage:
    """Search the published versions a caller may see.

    Args:
        connection: A connection to the registry's database.
        query: Free text (``advanced=False``: every word must appear, ranked by
            BM25), or a Lucene query string over the document's dotted paths
            (``advanced=True``; the rules are in :mod:`dlhub_server.search.query`).
        advanced: How to read ``query``.
        principals: Who the caller is: ``{"public"}`` when anonymous, plus
            ``"user:NAME"`` and ``"group:NAME"`` entries. A version is visible
            when one of its ``dlhub.visible_to`` entries is among them, and always
            to its owner (``user:OWNER``).
        limit: Page size; ``None`` returns every match.
        offset: How many matches to skip.
        only_latest: Keep only the newest version (highest
            ``dlhub.servable_version``) of each servable *among those the caller
            may see*.
        sort: ``[{"field_name": path, "order": "asc" | "desc"}, ...]``; the path
            ``_score`` is the relevance. Without it: relevance, then newest first.

    Returns:
        The page of documents, their scores, and the total number of matches.

    Raises:
        QuerySyntaxError: The query (or the sort) is malformed; the message
            names the position and fragment.
        ValueError: ``limit`` or ``offset`` is negative.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be None or a non-negative integer, not {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, not {offset!r}")
    _check_database(connection)
    node = parse_query(query, advanced)
    with _depth_guard(query):
        hits = find(
            connection,
            node,
            principals=_principals(principals),
            limit=limit,
            offset=offset,
            only_latest=only_latest,
            sort=sort,
        )
    return SearchPage(results=hits.documents, scores=hits.scores, total=hits.total)


def facets(
    connection: Connection,
    query: str,
    *,
    advanced: bool = False,
    principals: Iterable[str] = ("public",),
    only_latest: bool = True,
    fields: Sequence[str] = FACET_FIELDS,
    size: int = 20,
) -> dict[str, list[dict[str, Any]]]:
    """Count the matches of a query by servable type, domain, owner and author.

    Args:
        connection: A connection to the registry's database.
        query: As for :func:`search`.
        advanced: As for :func:`search`.
        principals: As for :func:`search`: only visible versions are counted.
        only_latest: As for :func:`search`.
        fields: The paths to count by (default :data:`FACET_FIELDS`).
        size: How many values to return per field (the most frequent).

    Returns:
        ``{path: [{"value": ..., "count": n}, ...]}``, most frequent first; values
        differing only in case or accents are counted together. Values longer
        than 256 characters are not counted.

    Raises:
        QuerySyntaxError: The query is malformed.
    """
    _check_database(connection)
    node = parse_query(query, advanced)
    with _depth_guard(query):
        return facet_counts(
            connection,
            node,
            principals=_principals(principals),
            only_latest=only_latest,
            paths=list(fields),
            size=size,
        )
