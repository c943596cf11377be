"""Discovery: ranked free text and Lucene-syntax queries over every metadata field.

The index lives in the registry's own database and is written in the same
transaction as a publication. See :mod:`dlhub_server.search.engine` for the
functions, :mod:`dlhub_server.search.query` for what a query means.
"""

from __future__ import annotations

from dlhub_server.search.engine import (
    FACET_FIELDS,
    SearchPage,
    create_search_schema,
    drop_search_schema,
    facets,
    index_version,
    optimize_search_index,
    remove_version,
    search,
)
from dlhub_server.search.errors import QuerySyntaxError

__all__ = [
    "FACET_FIELDS",
    "QuerySyntaxError",
    "SearchPage",
    "create_search_schema",
    "drop_search_schema",
    "facets",
    "index_version",
    "optimize_search_index",
    "remove_version",
    "search",
]
