"""The DLHub hub: REST API, registry, storage and accounts (``dlhub serve``).

``create_app(settings)`` builds the FastAPI app; ``Settings.from_env()`` reads the
``DLHUB_*`` settings (see ``docs/settings.md``).
"""

from __future__ import annotations

# The system's SQLite (with FTS5, which search needs) must be loaded before any ML
# framework: TensorFlow carries its own SQLite without FTS5, and whichever library
# a process loads first is the one sqlite3 binds to.
import sqlite3  # noqa: F401
from typing import Any

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing one submodule (e.g. the settings table) stays light.
    if name == "create_app":
        from dlhub_server.app import create_app

        return create_app
    if name == "Settings":
        from dlhub_server.settings import Settings

        return Settings
    raise AttributeError(f"module 'dlhub_server' has no attribute {name!r}")
