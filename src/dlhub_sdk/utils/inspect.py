"""Describe a Python function's inputs and outputs from its type hints."""

from __future__ import annotations

import datetime
import inspect
import typing
from collections.abc import Callable
from typing import Any

from dlhub_sdk.exceptions import InvalidMetadata

__all__ = ["argument_block_from_hint", "describe_function"]

_SCALARS: dict[Any, str] = {
    bool: "boolean",
    int: "integer",
    float: "float",
    complex: "complex",
    str: "string",
    datetime.datetime: "datetime",
    datetime.timedelta: "timedelta",
}


def _qualified_name(tp: Any) -> str:
    module = getattr(tp, "__module__", "builtins")
    return f"{module}.{getattr(tp, '__qualname__', repr(tp))}"


def _ndarray_block(hint: Any, shape: Any, description: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "ndarray", "description": description}
    block["shape"] = [None] if shape is None else [None if d is None else int(d) for d in shape]
    args = typing.get_args(hint)
    if len(args) == 2:  # numpy.typing.NDArray[X] is ndarray[Any, dtype[X]]
        dtype_args = typing.get_args(args[1])
        if dtype_args and dtype_args[0] is not Any:
            from dlhub_sdk.utils.types import simplify_numpy_dtype

            try:
                block["item_type"] = {"type": simplify_numpy_dtype(dtype_args[0])}
            except (TypeError, ValueError):
                pass
    return block


def argument_block_from_hint(hint: Any, description: str = "") -> dict[str, Any]:
    """The argument-type block matching one type hint.

    ``numpy`` arrays take their shape from ``typing.Annotated[np.ndarray, (None, 3)]``;
    a bare array is described as one-dimensional of any length.
    """
    shape = None
    if typing.get_origin(hint) is typing.Annotated:
        hint, *extras = typing.get_args(hint)
        for extra in extras:
            if isinstance(extra, (tuple, list)):
                shape = extra
            elif isinstance(extra, str):
                description = extra
    if hint in _SCALARS:
        return {"type": _SCALARS[hint], "description": description}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is list or origin is list:
        item = (
            argument_block_from_hint(args[0])
            if args
            else {"type": "python object", "python_type": "builtins.object"}
        )
        return {"type": "list", "description": description, "item_type": _strip(item)}
    if origin is tuple and args and args[-1] is not Ellipsis:
        return {
            "type": "tuple",
            "description": description,
            "element_types": [_strip(argument_block_from_hint(a)) for a in args],
        }
    if origin is tuple:  # tuple[X, ...] is a variable-length sequence
        item = (
            argument_block_from_hint(args[0])
            if args
            else {"type": "python object", "python_type": "builtins.object"}
        )
        return {"type": "list", "description": description, "item_type": _strip(item)}
    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        return {
            "type": "dict",
            "description": description,
            "properties": {k: _strip(argument_block_from_hint(v)) for k, v in hints.items()},
        }
    module = getattr(origin or hint, "__module__", "")
    if module == "numpy" and getattr(origin or hint, "__name__", "") == "ndarray":
        return _ndarray_block(hint, shape, description)
    if hint is typing.Any or hint is inspect.Parameter.empty:
        raise InvalidMetadata("cannot describe an argument without a concrete type hint")
    return {
        "type": "python object",
        "description": description,
        "python_type": _qualified_name(origin or hint),
    }


def _strip(block: dict[str, Any]) -> dict[str, Any]:
    """Nested blocks carry no empty descriptions."""
    return {k: v for k, v in block.items() if not (k == "description" and not v)}


def describe_function(func: Callable[..., Any]) -> dict[str, Any]:
    """Inputs, outputs and unpacking of a function, read from its signature and hints.

    Parameters without defaults are the inputs: one becomes the input itself,
    several become a tuple that is unpacked into positional arguments.
    Parameters with defaults become the method's ``parameters``.

    Returns:
        ``{"input": block, "output": block, "unpack": bool, "parameters": {...}}``

    Raises:
        InvalidMetadata: A parameter or the return value has no usable type hint.
    """
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # unresolved forward references and the like
        raise InvalidMetadata(f"cannot read the type hints of {func!r}: {exc}") from exc
    signature = inspect.signature(func)
    inputs: list[dict[str, Any]] = []
    parameters: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is not param.empty:
            parameters[name] = param.default
            continue
        if name not in hints:
            raise InvalidMetadata(
                f"auto_inspect needs a type hint on parameter {name!r} of {func.__name__}"
            )
        inputs.append(argument_block_from_hint(hints[name], description=name))
    if "return" not in hints:
        raise InvalidMetadata(f"auto_inspect needs a return type hint on {func.__name__}")
    output = argument_block_from_hint(hints["return"], description="Output of " + func.__name__)
    if not inputs:
        raise InvalidMetadata(f"{func.__name__} takes no required argument to describe as input")
    if len(inputs) == 1:
        return {"input": inputs[0], "output": output, "unpack": False, "parameters": parameters}
    block = {
        "type": "tuple",
        "description": "Arguments of " + func.__name__,
        "element_types": inputs,
    }
    return {"input": block, "output": output, "unpack": True, "parameters": parameters}
