"""Indexing, re-indexing and removing versions, in the caller's transaction."""

from __future__ import annotations

import copy
import datetime as dt
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from search_corpus import ids
from sqlalchemy import Connection, create_engine

from dlhub_server.search import (
    create_search_schema,
    drop_search_schema,
    index_version,
    optimize_search_index,
    remove_version,
    search,
)
from dlhub_server.search.schema import SCHEMA_VERSION

TABLES = ["search_documents", "search_strings", "search_numbers", "search_access"]


def version(documents: list[dict[str, Any]], number: int = 1, **changes: Any) -> dict[str, Any]:
    """A copy of a corpus document as version ``number`` of ``owner/name`` (from changes)."""
    document = copy.deepcopy(documents[0])
    dlhub = document["dlhub"]
    dlhub.update(
        owner="olga",
        name="evolving",
        shorthand_name="olga/evolving",
        id=f"evolving-{number}",
        servable_version=number,
        visible_to=["public"],
        publication_date=1700000000000 + number,
    )
    dlhub.update(changes)
    return document


@contextmanager
def committed(connection: Connection) -> Iterator[None]:
    """Commit what the block wrote (the connection commits as it goes, as the hub's does)."""
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


def rows(connection: Connection, table: str) -> int:
    return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)


def names(connection: Connection, query: str, **options: Any) -> list[tuple[str, int]]:
    page = search(connection, query, advanced=True, limit=None, **options)
    return [(d["dlhub"]["name"], d["dlhub"]["servable_version"]) for d in page.results]


def test_schema_creation_is_idempotent(empty_db: Connection) -> None:
    with committed(empty_db):
        create_search_schema(empty_db)
        create_search_schema(empty_db)
    assert (
        empty_db.exec_driver_sql(
            "SELECT value FROM search_meta WHERE key = 'schema_version'"
        ).scalar()
        == SCHEMA_VERSION
    )


def test_another_schema_version_is_refused(empty_db: Connection) -> None:
    with committed(empty_db):
        empty_db.exec_driver_sql("UPDATE search_meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="schema version 0"), committed(empty_db):
        create_search_schema(empty_db)
    with committed(empty_db):
        drop_search_schema(empty_db)
        create_search_schema(empty_db)
    assert search(empty_db, "*").total == 0


def test_reindexing_a_version_replaces_it(
    empty_db: Connection, documents: list[dict[str, Any]]
) -> None:
    first = version(documents)
    first["datacite"]["titles"] = [{"title": "Original heading"}]
    with committed(empty_db):
        index_version(empty_db, first)
        counts = {table: rows(empty_db, table) for table in TABLES}
    edited = copy.deepcopy(first)
    edited["datacite"]["titles"] = [{"title": "Edited heading"}]
    with committed(empty_db):
        index_version(empty_db, edited)
    assert search(empty_db, "original").total == 0
    assert ids(search(empty_db, "edited").results) == ["evolving-1"]
    assert search(empty_db, "*").results == [edited]
    assert {table: rows(empty_db, table) for table in TABLES} == counts


def test_removing_every_version_leaves_an_empty_index(
    empty_db: Connection, documents: list[dict[str, Any]]
) -> None:
    """The full-text index is contentless: removal must give back exactly the words indexed."""
    with committed(empty_db):
        for document in documents:
            index_version(empty_db, document)
        for document in documents[::3]:  # re-indexed versions must leave no stale words
            index_version(empty_db, document)
    assert rows(empty_db, "search_vocabulary") > 1000
    with committed(empty_db):
        for document in documents:
            assert remove_version(empty_db, document["dlhub"]["id"])
        assert not remove_version(empty_db, documents[0]["dlhub"]["id"])
    assert rows(empty_db, "search_vocabulary") == 0
    assert all(rows(empty_db, table) == 0 for table in TABLES)
    with committed(empty_db):
        empty_db.exec_driver_sql("INSERT INTO search_text (search_text) VALUES ('integrity-check')")


def test_a_new_version_becomes_the_latest_and_removal_restores_the_previous(
    empty_db: Connection, documents: list[dict[str, Any]]
) -> None:
    with committed(empty_db):
        index_version(empty_db, version(documents, 1))
        index_version(empty_db, version(documents, 2))
    assert names(empty_db, "dlhub.owner:olga") == [("evolving", 2)]
    assert names(empty_db, "dlhub.owner:olga", only_latest=False) == [
        ("evolving", 2),
        ("evolving", 1),
    ]
    # a private third version: the newest for its audience only
    with committed(empty_db):
        index_version(empty_db, version(documents, 3, visible_to=["group:team"]))
    assert names(empty_db, "dlhub.owner:olga") == [("evolving", 2)]
    assert names(empty_db, "dlhub.owner:olga", principals={"group:team"}) == [("evolving", 3)]
    assert names(empty_db, "dlhub.owner:olga", principals={"user:olga"}) == [("evolving", 3)]
    # versions are ordered by number, whatever order they are indexed in
    with committed(empty_db):
        index_version(empty_db, version(documents, 0, id="evolving-0"))
    assert names(empty_db, "dlhub.owner:olga") == [("evolving", 2)]
    with committed(empty_db):
        assert remove_version(empty_db, "evolving-2")
    assert names(empty_db, "dlhub.owner:olga") == [("evolving", 1)]
    assert names(empty_db, "dlhub.owner:olga", principals={"group:team"}) == [("evolving", 3)]
    with committed(empty_db):
        index_version(empty_db, version(documents, 3, visible_to=["public"]))
    assert names(empty_db, "dlhub.owner:olga") == [("evolving", 3)]


def test_reindexing_under_another_name_updates_both_servables(
    empty_db: Connection, documents: list[dict[str, Any]]
) -> None:
    with committed(empty_db):
        index_version(empty_db, version(documents, 1))
        index_version(empty_db, version(documents, 2))
        moved = version(documents, 2, name="renamed", shorthand_name="olga/renamed")
        index_version(empty_db, moved)
    assert sorted(names(empty_db, "dlhub.owner:olga")) == [("evolving", 1), ("renamed", 2)]


def test_visibility_changes_take_effect_when_reindexed(
    empty_db: Connection, documents: list[dict[str, Any]]
) -> None:
    with committed(empty_db):
        index_version(empty_db, version(documents, 1))
    assert search(empty_db, "dlhub.owner:olga", advanced=True).total == 1
    with committed(empty_db):
        index_version(empty_db, version(documents, 1, visible_to=["user:zed"]))
    assert search(empty_db, "dlhub.owner:olga", advanced=True).total == 0
    assert search(empty_db, "dlhub.owner:olga", advanced=True, principals={"user:zed"}).total == 1


def test_indexing_joins_the_callers_transaction(
    empty_db: Connection, documents: list[dict[str, Any]]
) -> None:
    index_version(empty_db, version(documents, 1))
    assert search(empty_db, "dlhub.owner:olga", advanced=True).total == 1
    empty_db.rollback()
    assert search(empty_db, "dlhub.owner:olga", advanced=True).total == 0
    assert rows(empty_db, "search_vocabulary") == 0


def test_bad_documents_are_refused(empty_db: Connection, documents: list[dict[str, Any]]) -> None:
    without_id = copy.deepcopy(documents[0])
    del without_id["dlhub"]["id"]
    with pytest.raises(ValueError, match="dlhub.id"):
        index_version(empty_db, without_id)
    not_json = version(documents)
    not_json["servable"]["options"] = {"when": dt.datetime(2020, 1, 1)}
    with pytest.raises(ValueError, match="not plain JSON"):
        index_version(empty_db, not_json)
    with pytest.raises(ValueError, match="JSON object"):
        index_version(empty_db, ["not", "a", "document"])  # type: ignore[arg-type]


def test_optimize_keeps_every_answer(empty_db: Connection, documents: list[dict[str, Any]]) -> None:
    with committed(empty_db):
        for document in documents:
            index_version(empty_db, document)
    before = search(empty_db, "crystal OR galaxy", advanced=True, limit=None, only_latest=False)
    with committed(empty_db):
        optimize_search_index(empty_db)
    after = search(empty_db, "crystal OR galaxy", advanced=True, limit=None, only_latest=False)
    assert ids(after.results) == ids(before.results) and after.total > 0


def test_other_databases_are_refused_clearly(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        # the dialect is all the engine looks at before it writes anything
        connection.dialect = types.SimpleNamespace(name="postgresql")  # type: ignore[assignment]
        with pytest.raises(NotImplementedError, match="PostgreSQL"):
            create_search_schema(connection)
        with pytest.raises(NotImplementedError, match="PostgreSQL"):
            search(connection, "x")
        connection.dialect = types.SimpleNamespace(name="mysql")  # type: ignore[assignment]
        with pytest.raises(NotImplementedError, match="mysql"):
            index_version(connection, {"dlhub": {"id": "x"}})
    engine.dispose()
