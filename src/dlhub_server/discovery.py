"""Keeps the search index in step with the registry: same transaction, no second store.

Every published, edited or deleted version is (re)indexed or removed through the
registry events, inside the transaction that changes it; if indexing fails, the
publication fails with it and nothing is half-written.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dlhub_server.events import RegistryEvents
from dlhub_server.search import index_version, remove_version
from dlhub_server.tables import ServableVersion, Task

__all__ = ["keep_index_current"]


def _index(session: Session, version: ServableVersion, task: Task | None) -> None:
    index_version(session.connection(), version.document)


def _remove(session: Session, version: ServableVersion, task: Task | None) -> None:
    remove_version(session.connection(), version.id)


def keep_index_current(events: RegistryEvents) -> None:
    """Subscribe the index to the registry's changes."""
    events.on_published(_index)
    events.on_edited(_index)
    events.on_deleted(_remove)
