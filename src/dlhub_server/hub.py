"""The hub's parts, opened once per process and shared by every request.

:class:`Hub` holds the settings, the registry database (migrated when opened),
the blob store, the registry events and the login throttle. ``create_app`` opens
one; the administrator's commands open one without a web server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dlhub_server.auth import LoginThrottle
from dlhub_server.db import make_engine, make_session_factory, migrate, session_scope
from dlhub_server.events import RegistryEvents
from dlhub_server.settings import Settings
from dlhub_server.storage import BlobStore, open_blob_store

__all__ = ["Hub"]


@dataclass
class Hub:
    """Everything a request handler needs besides the request."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    storage: BlobStore
    events: RegistryEvents = field(default_factory=RegistryEvents)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @classmethod
    def open(cls, settings: Settings) -> Hub:
        """Create the data folder, migrate the database and open the blob store."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        migrate(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            storage=open_blob_store(settings.storage_url),
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on any error."""
        with session_scope(self.sessions) as session:
            yield session

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
