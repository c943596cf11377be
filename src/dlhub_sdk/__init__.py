"""The DLHub SDK: describe, publish, find and run servables on a DLHub hub.

Importing this package loads only pydantic and the standard library; each
servable type imports its ML framework when it is used.
"""

from __future__ import annotations

from dlhub_sdk.version import __version__

__all__ = ["__version__"]
