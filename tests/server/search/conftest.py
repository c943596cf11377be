"""Fixtures: a registry database file indexed with the generated corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import search_corpus as corpus
from sqlalchemy import Connection, Engine, create_engine

from dlhub_server.search import create_search_schema, index_version


def _engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def documents() -> list[dict[str, Any]]:
    """The generated corpus (read-only: copy before changing a document)."""
    return corpus.generate()


@pytest.fixture(scope="session")
def corpus_engine(
    tmp_path_factory: pytest.TempPathFactory, documents: list[dict[str, Any]]
) -> Iterator[Engine]:
    """A SQLite registry file with every corpus document indexed (shared: do not write).

    Versions are indexed in the order of their publication, as a hub indexes them.
    """
    engine = _engine(tmp_path_factory.mktemp("search") / "registry.db")
    with engine.begin() as connection:
        create_search_schema(connection)
        for document in sorted(documents, key=lambda d: d["dlhub"]["publication_date"]):
            index_version(connection, document)
    yield engine
    engine.dispose()


@pytest.fixture
def db(corpus_engine: Engine) -> Iterator[Connection]:
    """A connection to the indexed corpus; whatever a test writes is rolled back."""
    with corpus_engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Connection]:
    """A connection to a new registry file with an empty search index (commit as you go)."""
    engine = _engine(tmp_path / "empty.db")
    with engine.connect() as connection:
        create_search_schema(connection)
        connection.commit()
        yield connection
    engine.dispose()
