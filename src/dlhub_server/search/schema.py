"""The tables of the search index (SQLite), created next to the registry's own.

All names start with ``search_`` (FTS5 adds its shadow tables ``search_text_*``),
so the registry's migrations can leave them alone.

- ``search_documents``: one row per indexed version: the document (compressed),
  its servable (owner, name, version), who may see it (``public``; the other
  principals in ``search_access``) and ``latest_state``. Every table refers to a
  version by the same key ``doc`` (see :mod:`dlhub_server.search.sqlite.keys`),
  which orders versions newest first and groups them by latest-version class.
- ``search_text``: the FTS5 index (BM25 ranking), contentless (the words are
  made again from the stored document to remove a row): the full-text columns, a
  ``fields`` column of path-qualified words, numbers and path markers (so a query
  mixing text and fields is one FTS5 expression), and a ``meta`` column of
  visibility markers (on restricted versions only).
- ``search_paths``: the dotted paths seen, numbered (the numbers qualify words in
  ``fields``); ``multivalued`` once a version had several values there (queries
  on the others need no de-duplication).
- ``search_strings`` / ``search_numbers``: typed values per path for ranges,
  whole-value wildcards, sorting and facets (strings folded, up to 256 characters).
- ``search_meta``: the schema version. The words in the index depend on
  :mod:`~dlhub_server.search.analysis` and :mod:`~dlhub_server.search.indexer`: a
  change there that changes words needs a new ``SCHEMA_VERSION`` (and a rebuild).
"""

from __future__ import annotations

from sqlalchemy import Connection

from dlhub_server.search.indexer import TEXT_COLUMNS

__all__ = ["FTS_COLUMNS", "SCHEMA_VERSION", "create_sqlite_schema", "drop_sqlite_schema"]

SCHEMA_VERSION = "1"

#: Columns of ``search_text`` in order: the full text, then ``fields`` and ``meta``.
FTS_COLUMNS: tuple[str, ...] = (*TEXT_COLUMNS, "fields", "meta")

# Words are made by dlhub_server.search.analysis; the tokenizer only has to keep
# them whole: letters, digits, marks, and "_" (which joins qualified words).
_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*' tokenchars '_'"

_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS search_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS search_paths (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        multivalued INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS search_documents (
        doc INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        version_id TEXT NOT NULL UNIQUE,
        owner TEXT,
        name TEXT NOT NULL,
        servable_version INTEGER,
        publication_date INTEGER,
        public INTEGER NOT NULL,
        latest_state INTEGER NOT NULL,
        document BLOB NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS search_documents_servable
        ON search_documents (owner, name, servable_version)""",
    """CREATE TABLE IF NOT EXISTS search_access (
        doc INTEGER NOT NULL,
        principal TEXT NOT NULL,
        PRIMARY KEY (doc, principal)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS search_strings (
        doc INTEGER NOT NULL,
        path_id INTEGER NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (doc, path_id, value)
    ) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS search_strings_value ON search_strings (path_id, value)""",
    """CREATE TABLE IF NOT EXISTS search_numbers (
        doc INTEGER NOT NULL,
        path_id INTEGER NOT NULL,
        number REAL NOT NULL,
        PRIMARY KEY (doc, path_id, number)
    ) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS search_numbers_value ON search_numbers (path_id, number)""",
    # contentless: the words are made again from the stored document to delete a row
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5 (
        {", ".join(FTS_COLUMNS)},
        content = '',
        tokenize = "{_TOKENIZER}"
    )""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_vocabulary USING fts5vocab (search_text, row)""",
)

_TABLES = (
    "search_vocabulary",
    "search_text",
    "search_numbers",
    "search_strings",
    "search_access",
    "search_documents",
    "search_paths",
    "search_meta",
)


def create_sqlite_schema(connection: Connection) -> None:
    """Create the tables if they do not exist; refuse a schema of another version."""
    for statement in _STATEMENTS:
        connection.exec_driver_sql(statement)
    found = connection.exec_driver_sql(
        "SELECT value FROM search_meta WHERE key = 'schema_version'"
    ).scalar()
    if found is None:
        connection.exec_driver_sql(
            "INSERT INTO search_meta (key, value) VALUES ('schema_version', :v)",
            {"v": SCHEMA_VERSION},
        )
    elif found != SCHEMA_VERSION:
        raise RuntimeError(
            f"the search index has schema version {found}, this hub needs {SCHEMA_VERSION}: "
            "drop it with drop_search_schema() and index the published versions again"
        )


def drop_sqlite_schema(connection: Connection) -> None:
    """Remove the search tables (the registry keeps the documents; index them again)."""
    for table in _TABLES:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
