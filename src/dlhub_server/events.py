"""Registry events other parts of the hub subscribe to.

The executor (to build an environment and warm a worker) and the search index
(to index a document) learn about versions here. Subscribers are called inside
the transaction that records the change, with its session: what they write
commits or rolls back together with the version, and an exception from one of
them cancels the whole change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dlhub_server.tables import ServableVersion, Task

__all__ = ["RegistryEvents"]

#: ``callback(session, version, task)``; ``task`` is the publication task (None for edits).
VersionCallback = Callable[[Session, ServableVersion, "Task | None"], None]


@dataclass
class RegistryEvents:
    """Lists of subscribers, one per kind of change."""

    published: list[VersionCallback] = field(default_factory=list)
    edited: list[VersionCallback] = field(default_factory=list)
    deleted: list[VersionCallback] = field(default_factory=list)

    def on_published(self, callback: VersionCallback) -> VersionCallback:
        """Call ``callback`` when a version is published (usable as a decorator)."""
        self.published.append(callback)
        return callback

    def on_edited(self, callback: VersionCallback) -> VersionCallback:
        """Call ``callback`` when the metadata of a version is edited."""
        self.edited.append(callback)
        return callback

    def on_deleted(self, callback: VersionCallback) -> VersionCallback:
        """Call ``callback`` just before a version is deleted."""
        self.deleted.append(callback)
        return callback

    @staticmethod
    def emit(
        callbacks: list[VersionCallback],
        session: Session,
        version: ServableVersion,
        task: Task | None = None,
    ) -> None:
        """Call each subscriber in order."""
        for callback in callbacks:
            callback(session, version, task)
