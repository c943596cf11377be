"""Read a message's envelope and keep chosen values as bytes: the hub's pass-through.

A run request is a msgpack map (``inputs``, ``parameters``, ``debug``, ...) and a
worker's reply another (``ok``, ``output``, ``timing``, ...). The hub reads the
small fields but has no use for the inputs and the output themselves: it hands
them on. :func:`decode_keeping` decodes a map but returns the chosen values as
:class:`~dlhub_runtime.codec.Packed` views of the received bytes, and
:func:`~dlhub_runtime.codec.encode` writes them back as they are. A large array
then crosses the hub without being decoded, copied into a new array and encoded
again, which for tens of MiB is most of the time of a call (docs/performance.md).

The kept values are checked as strictly as decoding would check them: msgpack's
structure, UTF-8 text, and every extension (an array's header against its
length, the small types by decoding them). Only the array bytes themselves are
left untouched. A value made of very many small items (more than ``budget``) is
simply decoded: walking it here would cost more than it saves.
"""

from __future__ import annotations

import struct
from collections.abc import Collection
from typing import Any

from dlhub_runtime.codec import (
    EXT_FILE,
    EXT_NDARRAY,
    EXT_NUMPY_SCALAR,
    EXT_TUPLE,
    FIXEXT_HEADERS,
    CodecError,
    Packed,
    _array_layout,
    _ext_hook,
    decode,
)

__all__ = ["MIN_SIZE", "decode_keeping"]

#: Messages smaller than this are decoded as usual: keeping their values saves nothing.
MIN_SIZE = 64 * 1024

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

# first byte -> (bytes of the length that follows, what it is); fixed-size types below
_SIZED = {
    0xC4: (1, "bin"), 0xC5: (2, "bin"), 0xC6: (4, "bin"),
    0xC7: (1, "ext"), 0xC8: (2, "ext"), 0xC9: (4, "ext"),
    0xD9: (1, "str"), 0xDA: (2, "str"), 0xDB: (4, "str"),
    0xDC: (2, "array"), 0xDD: (4, "array"),
    0xDE: (2, "map"), 0xDF: (4, "map"),
}  # fmt: skip
_FIXED = {
    0xC0: 1, 0xC2: 1, 0xC3: 1,  # nil, false, true
    0xCA: 5, 0xCB: 9,  # float 32, 64
    0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9,  # uint 8-64
    0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9,  # int 8-64
}  # fmt: skip
_FIXEXT = {first: length for length, first in FIXEXT_HEADERS.items()}
_LENGTH = {1: _U8, 2: _U16, 4: _U32}
#: Extensions that decode to values a dict cannot have as keys.
_UNHASHABLE = {EXT_NDARRAY: "numpy.ndarray", EXT_FILE: "FileRef"}


class _TooManyItems(Exception):
    """The value holds more items than the walk's budget."""


def decode_keeping(
    data: bytes | bytearray | memoryview,
    keep: Collection[str],
    *,
    min_size: int = MIN_SIZE,
    budget: int = 4096,
) -> Any:
    """Decode a message, keeping the values of the ``keep`` keys of its top map as bytes.

    Args:
        data: An encoded message.
        keep: Keys of the top-level map whose values become :class:`Packed`.
        min_size: Below this many bytes the message is simply decoded.
        budget: Most msgpack items walked in one value; past it the whole message
            is decoded instead (walking many small items here is slower than decoding).

    Returns:
        What :func:`decode` returns, but with the kept values as :class:`Packed`
        (which :func:`~dlhub_runtime.codec.encode` writes back unchanged).

    Raises:
        CodecError: The bytes are not a valid message, as :func:`decode` would say.
    """
    view = memoryview(data).cast("B")
    if len(view) < min_size or not _is_map(view[0]):
        return decode(data)
    try:
        count, position = _container_header(view, 0)
        message: dict[Any, Any] = {}
        for _ in range(count):
            key_end = _end_of(view, position, [budget], key=True)
            key = decode(view[position:key_end])
            value_end = _end_of(view, key_end, [budget])
            value = view[key_end:value_end]
            message[key] = Packed(value) if key in keep else decode(value)
            position = value_end
    except _TooManyItems:
        return decode(data)
    except CodecError:
        raise
    except RecursionError:
        raise CodecError("cannot decode the message: it is nested too deeply") from None
    except Exception as exc:  # as decode() does: whatever the bytes provoke is their fault
        raise CodecError(f"cannot decode the message: {exc}") from None
    if position != len(view):
        raise CodecError("cannot decode the message: extra bytes after its end")
    return message


def _is_map(first: int) -> bool:
    return 0x80 <= first <= 0x8F or first in (0xDE, 0xDF)


def _container_header(view: memoryview, position: int) -> tuple[int, int]:
    """(entries, position after the header) of the map or array at ``position``."""
    first = view[position]
    if 0x80 <= first <= 0x9F:
        return first & 0x0F, position + 1
    size, _ = _SIZED[first]
    return _LENGTH[size].unpack_from(view, position + 1)[0], position + 1 + size


def _end_of(view: memoryview, position: int, allowance: list[int], *, key: bool = False) -> int:
    """Where the msgpack value at ``position`` ends, checking it on the way.

    Args:
        view: The message.
        position: Where the value starts.
        allowance: Items that may still be walked (spent as they are).
        key: The value is a map key, so it must be of a hashable kind, as for decoding.

    Raises:
        _TooManyItems: The allowance ran out.
        CodecError: The value is not valid.
    """
    allowance[0] -= 1
    if allowance[0] < 0:
        raise _TooManyItems
    first = view[position]
    if first <= 0x7F or first >= 0xE0:  # fixint
        return _within(view, position + 1)
    if first <= 0x9F or first in (0xDC, 0xDD, 0xDE, 0xDF):  # maps and arrays
        is_map = _is_map(first)
        if key:
            raise CodecError(
                f"cannot decode the message: unhashable type: '{'dict' if is_map else 'list'}'"
            )
        entries, position = _container_header(view, position)
        for _ in range(entries):
            if is_map:
                position = _end_of(view, position, allowance, key=True)
            position = _end_of(view, position, allowance)
        return position
    if first <= 0xBF:  # fixstr
        return _text(view, position + 1, first & 0x1F)
    if first in _FIXED:
        return _within(view, position + _FIXED[first])
    if first in _FIXEXT:
        return _extension(view, view[position + 1], position + 2, _FIXEXT[first], allowance, key)
    if first in _SIZED:
        size, kind = _SIZED[first]
        length = _LENGTH[size].unpack_from(view, position + 1)[0]
        start = position + 1 + size
        if kind == "bin":
            return _within(view, start + length)
        if kind == "str":
            return _text(view, start, length)
        return _extension(view, view[start], start + 1, length, allowance, key)
    raise CodecError(f"cannot decode the message: byte 0x{first:02x} starts no value")


def _within(view: memoryview, end: int) -> int:
    if end > len(view):
        raise CodecError("cannot decode the message: it ends in the middle of a value")
    return end


def _text(view: memoryview, start: int, length: int) -> int:
    end = _within(view, start + length)
    str(view[start:end], "utf-8")  # raises UnicodeDecodeError as decoding would
    return end


def _extension(
    view: memoryview, code: int, start: int, length: int, allowance: list[int], key: bool
) -> int:
    """Check one extension value (arrays by their header only); returns where it ends."""
    if code > 127:
        code -= 256  # msgpack's extension codes are signed
    end = _within(view, start + length)
    payload = view[start:end]
    if key and code in _UNHASHABLE:
        raise CodecError(f"cannot decode the message: unhashable type: '{_UNHASHABLE[code]}'")
    if code == -1 and length in (4, 8, 12):
        pass  # msgpack's own timestamp, which msgpack decodes (and checks) itself
    elif code in (EXT_NDARRAY, EXT_NUMPY_SCALAR):
        _array_layout(payload)
    elif code == EXT_TUPLE:  # members are values like any other: walk them
        if payload[0] not in range(0x90, 0xA0) and payload[0] not in (0xDC, 0xDD):
            _ext_hook(code, bytes(payload))  # not an array: decoding says what is wrong
        elif _tuple_end(payload, allowance, key) != len(payload):
            raise CodecError("cannot decode the message: a tuple's payload has extra bytes")
    else:  # small values: decoding them is the check
        _ext_hook(code, bytes(payload))
    return end


def _tuple_end(payload: memoryview, allowance: list[int], key: bool) -> int:
    """Walk a tuple's members (hashable ones when the tuple is a map key)."""
    entries, position = _container_header(payload, 0)
    for _ in range(entries):
        position = _end_of(payload, position, allowance, key=key)
    return position
