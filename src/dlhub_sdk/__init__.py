"""The DLHub SDK: describe, publish, find and run servables on a DLHub hub.

Importing this package loads only pydantic and the standard library; each
servable type imports its ML framework when it is used, and ``DLHubClient``
(with httpx) is imported on first use of ``dlhub_sdk.DLHubClient``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlhub_sdk.version import __version__

if TYPE_CHECKING:
    from dlhub_sdk.client import DLHubClient

__all__ = ["DLHubClient", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "DLHubClient":
        from dlhub_sdk.client import DLHubClient

        return DLHubClient
    raise AttributeError(f"module 'dlhub_sdk' has no attribute {name!r}")
