"""The search index on SQLite: FTS5 (BM25) plus typed value tables.

- :mod:`.keys`: version keys: newest-first order, newest-version ranges, restricted bit;
- :mod:`.tokens`: the made-up words that put fields and visibility in FTS5;
- :mod:`.writer`: indexing and removing versions;
- :mod:`.compiler`: conditions to FTS5 expressions and SQL;
- :mod:`.reader`: running queries, counting, facets.
"""

from __future__ import annotations

__all__: list[str] = []
