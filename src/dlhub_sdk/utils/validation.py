"""Checking concrete values against argument types (chapter 5 of the manual).

``validate_value`` walks a value alongside its argument-type block and raises
:class:`~dlhub_sdk.exceptions.InputValidationError` at the first place they
differ, naming that place the way Python would index it::

    input[1]['x']: expected integer, got str ('a')
    input: expected shape [None, 3], got (2, 4) (dimension 1 is 4, must be 3)

numpy is never imported here: a numpy value can only exist once numpy has been
imported by its owner, so the module is looked up in ``sys.modules`` when needed.
"""

from __future__ import annotations

import builtins
import datetime as dt
import numbers
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from dlhub_sdk.exceptions import InputValidationError, InvalidMetadata
from dlhub_sdk.models._argument_types import ArgumentTypeMetadata, make_argument_type

__all__ = ["validate_inputs", "validate_value"]

# Kinds of numpy dtype (``dtype.kind``) whose items satisfy each scalar type; an
# ``O`` (object) array is checked item by item instead.
_DTYPE_KINDS = {
    "integer": "iu",
    "float": "iuf",
    "number": "iuf",
    "complex": "iufc",
    "boolean": "b",
    "string": "U",
    "datetime": "M",
    "timedelta": "m",
}

# Item types whose values are containers themselves: below them, nested lists are data,
# not further dimensions of the array.
_CONTAINER_TYPES = {"list", "tuple", "dict", "ndarray", "python object"}

_REPR_LIMIT = 40


def validate_value(
    value: Any, argument_type: ArgumentTypeMetadata | Mapping[str, Any] | str, path: str = "input"
) -> None:
    """Check that a value follows an argument type.

    Args:
        value: The concrete Python value (e.g. what would be sent to a servable).
        argument_type: An argument-type block (a dict as in chapter 5 of the manual,
            an :class:`ArgumentTypeMetadata`, or a bare type name such as ``"float"``).
        path: How the value is named in error messages; nested places are
            appended to it (``input[0]['x']``).

    Raises:
        InputValidationError: The value does not match; ``path`` says where and
            ``reason`` what is wrong.
        InvalidArgumentType: The block itself breaks a rule of the manual.
    """
    _check(value, make_argument_type(argument_type), path)


def validate_inputs(inputs: Any, method_metadata: Any) -> None:
    """Check the inputs of a servable call against the method's declared input type.

    ``method_details`` changes what ``inputs`` is: with ``autobatch`` it is a list of
    items, each of which follows the input type; with ``unpack`` it is the sequence
    of positional arguments (normally described by a ``tuple`` type). With both,
    each item of the batch is such a sequence.

    Args:
        inputs: The inputs as they would be passed to ``DLHubClient.run``.
        method_metadata: The method's metadata: a ``MethodMetadata`` or the dict of
            ``servable.methods.<name>`` (``{"input": ..., "method_details": ...}``).

    Raises:
        InputValidationError: The inputs do not match (the message says where).
        InvalidMetadata: The method declares no input type.
    """
    block = _read(method_metadata, "input")
    if block is None:
        raise InvalidMetadata("the method declares no input type", field="input")
    input_type = make_argument_type(block)
    details = _read(method_metadata, "method_details") or {}
    unpack = bool(details.get("unpack", False))
    if details.get("autobatch", False):
        if not _is_sequence(inputs):
            raise InputValidationError(
                "input", f"autobatch expects a list of items, got {_describe(inputs)}"
            )
        for index, item in enumerate(inputs):
            _check_call_input(item, input_type, f"input[{index}]", unpack)
    else:
        _check_call_input(inputs, input_type, "input", unpack)


def _read(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(key)
    return getattr(container, key, None)


def _check_call_input(
    value: Any, input_type: ArgumentTypeMetadata, path: str, unpack: bool
) -> None:
    if unpack and not _is_sequence(value):
        raise InputValidationError(
            path,
            "the function unpacks its inputs into positional arguments, so they must be "
            f"a list or tuple, got {_describe(value)}",
        )
    _check(value, input_type, path)


# --- the walk ----------------------------------------------------------------------


def _check(value: Any, block: ArgumentTypeMetadata, path: str) -> None:
    kind = block.type
    if kind in _SCALAR_CHECKS:
        accepts, expected = _SCALAR_CHECKS[kind]
        if not accepts(value):
            raise InputValidationError(path, f"expected {expected}, got {_describe(value)}")
    elif kind == "datetime":
        _check_datetime(value, path)
    elif kind == "python object":
        _check_python_object(value, block, path)
    elif kind == "file":
        _check_file(value, path)
    elif kind == "list":
        _check_list(value, block, path)
    elif kind == "tuple":
        _check_tuple(value, block, path)
    elif kind == "dict":
        _check_dict(value, block, path)
    elif kind == "ndarray":
        _check_ndarray(value, block, path)
    else:  # pragma: no cover - ArgumentTypeMetadata only admits the types above
        raise InvalidMetadata(f"no validator for argument type {kind!r}", field="type")


def _is_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.bool_)


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _is_complex(value: Any) -> bool:
    # a real number is a complex number with no imaginary part (as float accepts int)
    return isinstance(value, numbers.Complex) and not _is_bool(value)


def _is_timedelta(value: Any) -> bool:
    if isinstance(value, dt.timedelta):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.timedelta64)


_SCALAR_CHECKS = {
    "integer": (_is_integer, "integer"),
    "float": (_is_real, "float"),
    "number": (_is_real, "number"),
    "complex": (_is_complex, "complex"),
    "string": (lambda v: isinstance(v, str), "string"),
    "boolean": (_is_bool, "boolean"),
    "timedelta": (_is_timedelta, "timedelta (datetime.timedelta)"),
}


def _check_datetime(value: Any, path: str) -> None:
    if isinstance(value, dt.datetime):
        return
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.datetime64):
        return
    if isinstance(value, str):
        text = value.strip()
        # Python 3.10 does not read the "Z" suffix of UTC times
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt.datetime.fromisoformat(text)
        except ValueError:
            raise InputValidationError(
                path, f"expected datetime, got str ({_short_repr(value)}) that is not ISO-8601"
            ) from None
        return
    raise InputValidationError(
        path, f"expected datetime (datetime.datetime or ISO-8601 string), got {_describe(value)}"
    )


def _check_python_object(value: Any, block: ArgumentTypeMetadata, path: str) -> None:
    class_path = block.python_type or ""
    if any(_class_path(cls) == class_path for cls in type(value).__mro__):
        return
    expected = _resolve_class(class_path)
    if expected is not None and not isinstance(value, expected):
        raise InputValidationError(
            path, f"expected python object of type {class_path}, got {_describe(value)}"
        )


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve_class(class_path: str) -> type | None:
    """The class a ``python_type`` names, if it is a builtin or in an imported module.

    Nothing is imported: a value of a class from a module that was never imported
    cannot exist, and importing arbitrary modules named by metadata is not safe.
    Unknown paths give ``None`` (the value is then accepted).
    """
    module_name, _, name = class_path.rpartition(".")
    if module_name in ("", "builtins"):
        found = getattr(builtins, name, None)
        return found if isinstance(found, type) else None
    parts = class_path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        target: Any = module
        for attribute in parts[split:]:
            target = getattr(target, attribute, None)
            if target is None:
                return None
        return target if isinstance(target, type) else None
    return None


def _check_file(value: Any, path: str) -> None:
    from dlhub_runtime.codec import FileRef

    if isinstance(value, FileRef):  # a file already read and on its way to the servable
        if value.data is None and (value.path is None or not os.path.isfile(value.path)):
            raise InputValidationError(path, f"file {value.name!r} carries no content")
        return
    if not isinstance(value, (str, os.PathLike)):
        raise InputValidationError(
            path, f"expected file (a path to an existing file), got {_describe(value)}"
        )
    location = os.fspath(value)
    if isinstance(location, bytes):
        location = os.fsdecode(location)
    if os.path.isdir(location):
        raise InputValidationError(path, f"expected a file, but {location!r} is a directory")
    if not os.path.isfile(location):
        raise InputValidationError(path, f"file {location!r} does not exist")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _check_list(value: Any, block: ArgumentTypeMetadata, path: str) -> None:
    if not _is_sequence(value):
        raise InputValidationError(path, f"expected list, got {_describe(value)}")
    assert block.item_type is not None  # required by ArgumentTypeMetadata
    for index, item in enumerate(value):
        _check(item, block.item_type, f"{path}[{index}]")


def _check_tuple(value: Any, block: ArgumentTypeMetadata, path: str) -> None:
    # JSON has no tuples, so a list of the right length is a tuple too
    if not _is_sequence(value):
        raise InputValidationError(path, f"expected tuple, got {_describe(value)}")
    members = block.element_types or []
    if len(value) != len(members):
        raise InputValidationError(
            path,
            f"expected a tuple of {len(members)} member{_plural(len(members))}, "
            f"got {len(value)}: {_short_repr(value)}",
        )
    for index, (item, member) in enumerate(zip(value, members)):
        _check(item, member, f"{path}[{index}]")


def _check_dict(value: Any, block: ArgumentTypeMetadata, path: str) -> None:
    if not isinstance(value, Mapping):
        raise InputValidationError(path, f"expected dict, got {_describe(value)}")
    properties = block.properties or {}
    declared = ", ".join(repr(k) for k in properties) or "none"
    for key, member in properties.items():
        if key not in value:
            raise InputValidationError(f"{path}[{key!r}]", "required key is missing")
        _check(value[key], member, f"{path}[{key!r}]")
    for key in value:
        if key not in properties:
            raise InputValidationError(
                f"{path}[{key!r}]", f"unexpected key; the declared keys are {declared}"
            )


# --- ndarray -------------------------------------------------------------------------


def _check_ndarray(value: Any, block: ArgumentTypeMetadata, path: str) -> None:
    shape: list[int | None] = list(block.shape or [])
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        _check_array(value, shape, block.item_type, path)
        return
    if shape and not _is_sequence(value):
        raise InputValidationError(
            path,
            f"expected ndarray of shape {shape} (a numpy array or nested lists), "
            f"got {_describe(value)}",
        )
    item_type = block.item_type
    leaves_are_containers = item_type is not None and item_type.type in _CONTAINER_TYPES
    nominal = _nominal_shape(value, len(shape) if leaves_are_containers else None)
    # An empty list leaves its inner dimensions unknown: an empty batch fits any shape.
    complete = not (nominal and nominal[-1] == 0 and len(nominal) < len(shape))
    if complete and len(nominal) != len(shape):
        raise InputValidationError(
            path,
            f"expected shape {shape} ({_dimensions(len(shape))}), got a nested list of "
            f"shape {tuple(nominal)} ({_dimensions(len(nominal))})",
        )
    _check_fixed_dimensions(shape, tuple(nominal), path)
    _walk_nested(value, shape, nominal, item_type, path, 0, path)


def _nominal_shape(value: Any, max_depth: int | None) -> list[int]:
    """The shape of a nested list, read along its first elements."""
    np = sys.modules.get("numpy")
    dims: list[int] = []
    while max_depth is None or len(dims) < max_depth:
        if np is not None and isinstance(value, np.ndarray):
            dims.extend(value.shape)
            break
        if not _is_sequence(value):
            break
        dims.append(len(value))
        if not value:
            break
        value = value[0]
    return dims


def _check_fixed_dimensions(shape: Sequence[int | None], got: tuple[int, ...], path: str) -> None:
    for index, (want, have) in enumerate(zip(shape, got)):
        if want is not None and want != have:
            raise InputValidationError(
                path,
                f"expected shape {list(shape)}, got {got} "
                f"(dimension {index} is {have}, must be {want})",
            )


def _walk_nested(
    value: Any,
    shape: list[int | None],
    nominal: list[int],
    item_type: ArgumentTypeMetadata | None,
    path: str,
    depth: int,
    root: str,
) -> None:
    np = sys.modules.get("numpy")
    if depth == len(shape):
        if item_type is not None:
            _check(value, item_type, path)
        elif _is_sequence(value) or (np is not None and isinstance(value, np.ndarray)):
            raise InputValidationError(
                path,
                f"expected a single item here (shape {shape} has {_dimensions(len(shape))}), "
                f"got {_describe(value)}",
            )
        return
    if np is not None and isinstance(value, np.ndarray):
        _check_array(value, shape[depth:], item_type, path)
        return
    if not _is_sequence(value):
        raise InputValidationError(
            path,
            f"expected a list here (shape {shape} has {_dimensions(len(shape))}), "
            f"got {_describe(value)}",
        )
    if depth < len(nominal) and len(value) != nominal[depth]:
        first = root + "[0]" * depth
        raise InputValidationError(
            path,
            f"ragged nested list: length {len(value)}, but {first} has length {nominal[depth]}",
        )
    for index, item in enumerate(value):
        _walk_nested(item, shape, nominal, item_type, f"{path}[{index}]", depth + 1, root)


def _check_array(
    array: Any, shape: list[int | None], item_type: ArgumentTypeMetadata | None, path: str
) -> None:
    if array.ndim != len(shape):
        raise InputValidationError(
            path,
            f"expected shape {shape} ({_dimensions(len(shape))}), got array of shape "
            f"{array.shape} ({_dimensions(array.ndim)})",
        )
    _check_fixed_dimensions(shape, tuple(array.shape), path)
    if item_type is None:
        return
    allowed = _DTYPE_KINDS.get(item_type.type)
    if allowed is not None and array.dtype.kind != "O":
        if array.dtype.kind not in allowed:
            raise InputValidationError(
                path, f"expected items of type {item_type.type}, got dtype {array.dtype}"
            )
        return
    np = sys.modules["numpy"]
    for index, item in np.ndenumerate(array):
        where = f"{path}[{', '.join(str(i) for i in index)}]" if index else path
        _check(item, item_type, where)


# --- messages ------------------------------------------------------------------------


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _dimensions(count: int) -> str:
    return f"{count} dimension{_plural(count)}"


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _describe(value: Any) -> str:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return f"ndarray (shape {value.shape}, dtype {value.dtype})"
    return f"{type(value).__name__} ({_short_repr(value)})"
