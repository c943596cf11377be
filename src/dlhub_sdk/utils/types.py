"""Utilities for generating descriptions of data types (argument-type blocks)."""

from __future__ import annotations

from typing import Any

from dlhub_sdk.models._argument_types import ARGUMENT_TYPES, make_argument_type

__all__ = ["ARGUMENT_TYPES", "compose_argument_block", "simplify_numpy_dtype"]


def compose_argument_block(
    data_type: str,
    description: str,
    shape: list[int | None] | tuple[int | None, ...] | None = None,
    item_type: str | dict[str, Any] | None = None,
    python_type: str | None = None,
    properties: dict[str, Any] | None = None,
    element_types: list[str | dict[str, Any]] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Compile the description of an argument into an argument-type block.

    Args:
        data_type: Type of the data (``"ndarray"``, ``"list"``, ``"file"``, ...).
        description: Human-friendly description of the data.
        shape: Required for ``ndarray``; ``None`` marks a dimension of any size.
        item_type: Required for ``list``: a type name or a block (also allowed for ``ndarray``).
        python_type: Required for ``python object``: full path of the class.
        properties: Required for ``dict``: the type of each key.
        element_types: Required for ``tuple``: the type of each member, in order.
        **kwargs: Other details particular to the type (e.g. ``file_types``).

    Returns:
        The block, as a dictionary.

    Raises:
        InvalidArgumentType: The block breaks a rule of the manual (e.g. an ndarray without a shape).
    """
    block: dict[str, Any] = {"type": data_type, "description": description, **kwargs}
    for key, value in (
        ("shape", shape),
        ("item_type", item_type),
        ("python_type", python_type),
        ("properties", properties),
        ("element_types", element_types),
    ):
        if value is not None:
            block[key] = list(value) if key == "shape" else value
    return make_argument_type(block).to_dict()


def simplify_numpy_dtype(dtype: Any) -> str:
    """Given a numpy dtype, write out the type as an argument-type name.

    Args:
        dtype (numpy.dtype): Type

    Returns:
        One of ``integer``, ``float``, ``complex``, ``boolean``, ``string``,
        ``datetime``, ``timedelta`` or ``python object``.
    """
    import numpy as np

    kind = np.dtype(dtype).kind
    names = {
        "i": "integer",
        "u": "integer",
        "f": "float",
        "c": "complex",
        "b": "boolean",
        "U": "string",
        "S": "string",
        "M": "datetime",
        "m": "timedelta",
        "O": "python object",
    }
    if kind not in names:
        raise ValueError(f"dtype {np.dtype(dtype)} has no DLHub argument type")
    return names[kind]
