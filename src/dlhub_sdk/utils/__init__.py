"""Helpers around DLHub documents."""

from __future__ import annotations

from typing import Any

__all__ = ["unserialize_object"]


def unserialize_object(data: dict[str, Any]) -> Any:
    """Given a metadata dictionary, form the matching metadata model object.

    Args:
        data: A DLHub document (``{"datacite": ..., "dlhub": ..., "servable": ...}``).

    Returns:
        (BaseMetadataModel) The model described by the document.

    Raises:
        InvalidMetadata: The document is malformed (the message names the field).
        UnknownServableType: The servable type is not one this SDK knows.
    """
    from dlhub_sdk.models._registry import model_from_dict

    return model_from_dict(data)
