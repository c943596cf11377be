"""Writing versions into the SQLite index, and keeping "newest version" classes right.

``latest_state`` of a version, recomputed for every version of a servable each
time one of them is indexed or removed (versions ordered by
``servable_version``, then by the order they were indexed):

- ``0``: the newest version: the newest one anybody may see, if they see it;
- ``1``: newer versions exist but none is public: it is the newest *for* a caller
  who sees none of them (checked at query time, for these few rows only);
- ``2``: a newer version is public: never the newest for anyone.

The state is part of the version's key (:mod:`.keys`): when it changes, the
version's rows move to the new key.

``search_text`` is contentless, so removing a row means giving FTS5 the words it
was indexed with: they are made again from the stored document (the analysis is
deterministic; :data:`~dlhub_server.search.schema.SCHEMA_VERSION` changes when it
does).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from dlhub_server.search.analysis import fold
from dlhub_server.search.indexer import (
    KEYWORD_LIMIT,
    TEXT_COLUMNS,
    IndexedDocument,
    analyze_document,
)
from dlhub_server.search.schema import FTS_COLUMNS
from dlhub_server.search.sqlite import tokens
from dlhub_server.search.sqlite.keys import make_key

__all__ = ["decode_document", "encode_document", "remove_document", "write_document"]

_COLUMNS = ", ".join(FTS_COLUMNS)
_VALUES = ", ".join(":" + c for c in FTS_COLUMNS)
_INSERT_TEXT = f"INSERT INTO search_text (rowid, {_COLUMNS}) VALUES (:doc, {_VALUES})"
_DELETE_TEXT = (
    f"INSERT INTO search_text (search_text, rowid, {_COLUMNS}) VALUES ('delete', :doc, {_VALUES})"
)


def encode_document(document_json: str) -> bytes:
    """The stored form of a document: its JSON, compressed."""
    return zlib.compress(document_json.encode("utf-8"), 6)


def decode_document(stored: bytes) -> Any:
    """The document from its stored form."""
    return json.loads(zlib.decompress(stored))


def _path_ids(connection: Connection, paths: Iterable[str], create: bool) -> dict[str, int]:
    found: dict[str, int] = {}
    wanted = sorted(set(paths))
    # SQLite allows 32766 parameters; documents stay far below in practice
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join(f":p{i}" for i in range(len(chunk)))
        params = {f"p{i}": path for i, path in enumerate(chunk)}
        select = f"SELECT id, path FROM search_paths WHERE path IN ({marks})"
        found.update({row.path: row.id for row in connection.exec_driver_sql(select, params)})
        missing = [path for path in chunk if path not in found]
        if missing and create:
            connection.exec_driver_sql(
                "INSERT INTO search_paths (path) VALUES (:path)",
                [{"path": path} for path in missing],
            )
            found.update({row.path: row.id for row in connection.exec_driver_sql(select, params)})
    return found


def _mark_multivalued(connection: Connection, *path_ids: list[int]) -> None:
    repeated = {p for ids in path_ids for p in ids if ids.count(p) > 1}
    if repeated:
        listed = ", ".join(str(int(p)) for p in sorted(repeated))
        connection.exec_driver_sql(
            f"UPDATE search_paths SET multivalued = 1 WHERE id IN ({listed}) AND multivalued = 0"
        )


def _joined(values: Iterable[tuple[str, str]]) -> str:
    """Join the words of values; a boundary separates two values of the same path."""
    parts: list[str] = []
    last = None
    for path, words in values:
        if path == last:
            parts.append(tokens.BOUNDARY)
        parts.append(words)
        last = path
    return " ".join(parts)


def _fields_text(indexed: IndexedDocument, ids: dict[str, int]) -> str:
    values: list[tuple[str, str]] = []
    for value in indexed.strings:
        path_id = ids[value.path]
        if value.words:
            values.append(
                (value.path, " ".join(tokens.field_word(path_id, w) for w in value.words))
            )
        else:
            values.append((value.path, tokens.exact_word(path_id, fold(value.text))))
    for path, flag in indexed.booleans:
        values.append((path, tokens.field_word(ids[path], "true" if flag else "false")))
    # numbers and markers are single words: no phrase can span them
    single = [tokens.number_word(ids[path], number) for path, number in indexed.numbers]
    single.extend(tokens.path_word(ids[path]) for path in sorted(indexed.paths))
    return " ".join([_joined(values), *single])


def _meta_text(indexed: IndexedDocument) -> str:
    if indexed.is_public:
        return ""
    return " ".join([tokens.RESTRICTED, *(tokens.principal_word(p) for p in indexed.principals())])


def _text_row(doc: int, indexed: IndexedDocument, ids: dict[str, int]) -> dict[str, Any]:
    row: dict[str, Any] = {
        column: _joined((column, " ".join(words)) for words in indexed.text[column])
        for column in TEXT_COLUMNS
    }
    row.update(doc=doc, fields=_fields_text(indexed, ids), meta=_meta_text(indexed))
    return row


def write_document(connection: Connection, indexed: IndexedDocument) -> int:
    """Index a version, replacing an earlier indexing of the same ``version_id``.

    Returns:
        The key of the version in the index.
    """
    previous = connection.exec_driver_sql(
        "SELECT doc, seq, owner, name FROM search_documents WHERE version_id = :v",
        {"v": indexed.version_id},
    ).first()
    if previous is not None:
        _delete_rows(connection, previous.doc)
        seq = int(previous.seq)
    else:
        last = connection.exec_driver_sql("SELECT max(seq) FROM search_documents").scalar()
        seq = 1 if last is None else int(last) + 1
    ids = _path_ids(connection, indexed.paths, create=True)
    restricted = not indexed.is_public
    # the newest until _latest_states says otherwise: then every row moves to its key
    doc = make_key(seq, 0, restricted)
    connection.exec_driver_sql(
        "INSERT INTO search_documents (doc, seq, version_id, owner, name, servable_version, "
        "publication_date, public, latest_state, document) VALUES "
        "(:doc, :seq, :version_id, :owner, :name, :servable_version, :publication_date, "
        ":public, 0, :document)",
        {
            "doc": doc,
            "seq": seq,
            "version_id": indexed.version_id,
            "owner": indexed.owner,
            "name": indexed.name,
            "servable_version": indexed.servable_version,
            "publication_date": indexed.publication_date,
            "public": int(indexed.is_public),
            "document": encode_document(indexed.document_json),
        },
    )
    principals = indexed.principals()
    if restricted and principals:
        connection.exec_driver_sql(
            "INSERT OR IGNORE INTO search_access (doc, principal) VALUES (:doc, :p)",
            [{"doc": doc, "p": p} for p in principals],
        )
    strings = {(ids[v.path], fold(v.text)) for v in indexed.strings if len(v.text) <= KEYWORD_LIMIT}
    if strings:
        connection.exec_driver_sql(
            "INSERT INTO search_strings (doc, path_id, value) VALUES (:doc, :path_id, :value)",
            [{"doc": doc, "path_id": p, "value": v} for p, v in sorted(strings)],
        )
    numbers = {(ids[path], number) for path, number in indexed.numbers}
    if numbers:
        connection.exec_driver_sql(
            "INSERT INTO search_numbers (doc, path_id, number) VALUES (:doc, :path_id, :n)",
            [{"doc": doc, "path_id": p, "n": n} for p, n in sorted(numbers)],
        )
    _mark_multivalued(connection, [p for p, _ in strings], [p for p, _ in numbers])
    connection.exec_driver_sql(_INSERT_TEXT, _text_row(doc, indexed, ids))
    _update_states(connection, indexed.owner, indexed.name)
    if previous is not None and (previous.owner, previous.name) != (indexed.owner, indexed.name):
        _update_states(connection, previous.owner, previous.name)
    return doc


def _stored_row(connection: Connection, doc: int) -> dict[str, Any]:
    """The words row ``doc`` was indexed with, made again from the stored document."""
    stored = connection.exec_driver_sql(
        "SELECT document FROM search_documents WHERE doc = :doc", {"doc": doc}
    ).one()
    indexed = analyze_document(decode_document(stored.document))
    ids = _path_ids(connection, indexed.paths, create=False)
    return _text_row(doc, indexed, ids)


def _delete_rows(connection: Connection, doc: int) -> None:
    connection.exec_driver_sql(_DELETE_TEXT, _stored_row(connection, doc))
    for table in ("search_strings", "search_numbers", "search_access", "search_documents"):
        connection.exec_driver_sql(f"DELETE FROM {table} WHERE doc = :doc", {"doc": doc})


def remove_document(connection: Connection, version_id: str) -> bool:
    """Remove a version from the index; returns whether it was there."""
    previous = connection.exec_driver_sql(
        "SELECT doc, owner, name FROM search_documents WHERE version_id = :v",
        {"v": version_id},
    ).first()
    if previous is None:
        return False
    _delete_rows(connection, previous.doc)
    _update_states(connection, previous.owner, previous.name)
    return True


def _update_states(connection: Connection, owner: str | None, name: str) -> None:
    """Give each version of a servable its ``latest_state``, moving rows to new keys."""
    rows = connection.exec_driver_sql(
        "SELECT doc, seq, public, latest_state FROM search_documents "
        "WHERE owner IS :owner AND name = :name "
        "ORDER BY servable_version DESC, seq DESC",
        {"owner": owner, "name": name},
    ).all()
    newer_public = False
    for position, row in enumerate(rows):
        state = 0 if position == 0 else 2 if newer_public else 1
        newer_public = newer_public or bool(row.public)
        if state != row.latest_state:
            _move(connection, row.doc, make_key(row.seq, state, not row.public), state)


def _move(connection: Connection, old: int, new: int, state: int) -> None:
    words = _stored_row(connection, old)
    connection.exec_driver_sql(_DELETE_TEXT, words)
    connection.exec_driver_sql(
        "UPDATE search_documents SET doc = :new, latest_state = :state WHERE doc = :old",
        {"new": new, "old": old, "state": state},
    )
    for table in ("search_strings", "search_numbers", "search_access"):
        connection.exec_driver_sql(
            f"UPDATE {table} SET doc = :new WHERE doc = :old", {"new": new, "old": old}
        )
    connection.exec_driver_sql(_INSERT_TEXT, dict(words, doc=new))
