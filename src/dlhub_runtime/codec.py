"""The wire codec shared by client, hub and runtime: msgpack with typed extensions.

Plain values travel as msgpack's own types (``None``, ``bool``, ``int``, ``float``,
``str``, ``bytes``, ``list``, ``dict``). Every other type of chapter 5 of the manual
has an extension code, so it comes back as the same type:

====  ==================  ===============================================================
code  type                payload
====  ==================  ===============================================================
1     numpy.ndarray       4-byte big-endian header length, msgpack ``[dtype.str, shape]``,
                          then the raw C-ordered bytes of the array
2     numpy scalar        as an ndarray of shape ``()``
3     tuple               msgpack array of the members (encoded by this codec)
4     complex             two big-endian float64: real, imaginary
5     datetime.datetime   msgpack ``[isoformat, zone key or None]`` (naive or aware)
6     datetime.date       msgpack ``isoformat``
7     datetime.timedelta  msgpack ``[days, seconds, microseconds]``
8     FileRef             msgpack ``[name, media_type, content bytes]``
9     int beyond 64 bits  its decimal digits
====  ==================  ===============================================================

Nothing is ever pickled: a value of any other type raises :class:`CodecError`
naming the type and where it sits in the value. Arrays of dtype ``object`` are
refused the same way, since their items are arbitrary Python objects.

numpy is imported only when an array arrives; a process without numpy can still
send and receive everything else.

For clients without msgpack (curl), :func:`to_json_compatible` and :func:`from_json`
map the same values onto JSON with marker objects::

    {"__ndarray__": [[1, 2], [3, 4]], "dtype": "<i8", "shape": [2, 2]}
    {"__ndarray__": "<base64 of the raw bytes>", "dtype": "<c16", "shape": [2]}
    {"__tuple__": [1, "a"]}             {"__bytes__": "<base64>"}
    {"__complex__": [1.0, -2.0]}        {"__timedelta__": 90.5}  (seconds)
    {"__datetime__": "2024-05-01T12:00:00+02:00"}   {"__date__": "2024-05-01"}
    {"__file__": "<base64 content>", "name": "data.csv", "media_type": "text/csv"}
    {"__dict__": [[1, "one"], [2, "two"]]}          (a dict whose keys are not all strings)

Plain JSON lists stay lists, and ``__ndarray__`` also accepts a nested list of
numbers, so a curl user can write an array by hand. numpy scalars of numeric
types become plain JSON numbers (others, e.g. ``datetime64``, arrays of shape ``[]``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import os
import struct
import sys
from dataclasses import dataclass
from typing import Any

import msgpack

from dlhub_runtime.errors import CodecError

__all__ = [
    "CodecError",
    "FileRef",
    "Packed",
    "decode",
    "encode",
    "encode_parts",
    "from_json",
    "to_json_compatible",
]

EXT_NDARRAY = 1
EXT_NUMPY_SCALAR = 2
EXT_TUPLE = 3
EXT_COMPLEX = 4
EXT_DATETIME = 5
EXT_DATE = 6
EXT_TIMEDELTA = 7
EXT_FILE = 8
EXT_BIGINT = 9

_HEADER_LENGTH = struct.Struct(">I")
_COMPLEX = struct.Struct(">dd")

_SUPPORTED = (
    "None, bool, int, float, complex, str, bytes, list, tuple, dict, datetime, date, "
    "timedelta, numpy arrays and scalars, and FileRef"
)


@dataclass
class FileRef:
    """A file travelling with a request or a reply.

    The sender gives a ``path`` (read when the value is encoded) or the ``data``
    itself; the receiver gets ``data``. Inside a worker, every ``FileRef`` in the
    inputs is written into a private folder and the servable receives the local
    path as a string, as the manual's ``file`` argument type promises.

    Attributes:
        name: File name (no folders); the servable sees a file of this name.
        path: Local path to read the content from, on the sending side.
        data: The content, on the receiving side (or given directly by the sender).
        media_type: MIME type, if known (``text/csv``).
    """

    name: str
    path: str | None = None
    data: bytes | None = None
    media_type: str | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], media_type: str | None = None) -> FileRef:
        """Refer to a local file; its content is read when the value is encoded.

        Raises:
            FileNotFoundError: There is no such file.
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"file not found: {path!r}")
        return cls(name=os.path.basename(path), path=path, media_type=media_type)

    def read_bytes(self) -> bytes:
        """The file's content, from ``data`` or else from ``path``.

        Raises:
            CodecError: The reference has neither content nor path.
        """
        if self.data is not None:
            return bytes(self.data)
        if self.path is None:
            raise CodecError(f"the file {self.name!r} has neither data nor a path")
        with open(self.path, "rb") as fp:
            return fp.read()


class Packed:
    """A value kept as the bytes this codec made of it, to be passed on without decoding.

    :func:`dlhub_runtime.passthrough.decode_keeping` makes them; :func:`encode`
    writes their bytes as they are where they sit at the top level of a dict (or as
    the whole message), and :func:`to_json_compatible` decodes them.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.data = data

    def value(self) -> Any:
        """The decoded value."""
        return decode(self.data)

    def __repr__(self) -> str:
        return f"Packed({len(self.data)} bytes)"


class _Unsupported(Exception):
    """Raised inside msgpack's ``default`` hook; turned into a CodecError with a path."""


# ----------------------------------------------------------------------- encode


def encode(obj: Any, *, name: str = "value") -> bytes:
    """Encode a value into msgpack bytes.

    Args:
        obj: The value (see the module docstring for the supported types).
        name: How error messages name the value (``input`` gives ``input[2]: ...``).

    Returns:
        The encoded bytes.

    Raises:
        CodecError: A part of the value has a type the wire cannot carry; the message
            names the type and its place in the value.
    """
    if isinstance(obj, Packed):
        return bytes(obj.data)
    if isinstance(obj, dict) and any(isinstance(value, Packed) for value in obj.values()):
        return b"".join(encode_parts(obj, name=name))
    try:
        return _pack(obj)
    except (_Unsupported, TypeError, ValueError, OverflowError, OSError) as exc:
        if isinstance(exc, CodecError) and exc.path is not None:
            raise
        located = _locate_problem(obj, name)
        if located is not None:
            raise located from None
        raise CodecError(str(exc), path=name) from None


def encode_parts(message: dict[str, Any], *, name: str = "value") -> list[bytes | memoryview]:
    """Encode a dict as pieces whose concatenation is its encoding, without joining them.

    :class:`Packed` values are written as the bytes they hold, and large numpy
    arrays at the top level as views of their memory (no copy of either): a stream
    can write the pieces one after the other.

    Raises:
        CodecError: As :func:`encode`.
    """
    if not any(isinstance(value, Packed) or _large_array(value) for value in message.values()):
        return [encode(message, name=name)]
    parts: list[bytes | memoryview] = [_map_header(len(message))]
    for key, value in message.items():
        parts.append(encode(key, name=name))
        if isinstance(value, Packed):
            parts.append(memoryview(value.data))
        elif _large_array(value):
            head, raw = _array_pieces(value)
            parts += [_ext_header(EXT_NDARRAY, len(head) + raw.nbytes), head, memoryview(raw)]
        else:
            parts.append(encode(value, name=f"{name}[{key!r}]"))
    return parts


def _large_array(value: Any) -> bool:
    """A numpy array :func:`encode_parts` writes from its own memory (others go to msgpack)."""
    numpy = sys.modules.get("numpy")
    return (
        numpy is not None
        and type(value) is numpy.ndarray
        and value.nbytes >= _LARGE_ARRAY
        and value.flags.c_contiguous
        and value.dtype.fields is None
        and not value.dtype.hasobject
    )


#: Arrays from this size on are written from their own memory by :func:`encode_parts`.
_LARGE_ARRAY = 64 * 1024


#: msgpack's one-byte headers of extension values of fixed length (length -> first byte).
FIXEXT_HEADERS = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}


def _ext_header(code: int, length: int) -> bytes:
    """msgpack's header of an extension value of ``length`` bytes (as msgpack writes it)."""
    if length in FIXEXT_HEADERS:
        return bytes([FIXEXT_HEADERS[length], code])
    if length < 2**8:
        return bytes([0xC7, length, code])
    if length < 2**16:
        return b"\xc8" + length.to_bytes(2, "big") + bytes([code])
    return b"\xc9" + length.to_bytes(4, "big") + bytes([code])


def _map_header(count: int) -> bytes:
    """msgpack's header of a map with ``count`` entries."""
    if count < 16:
        return bytes([0x80 | count])
    if count < 2**16:
        return b"\xde" + count.to_bytes(2, "big")
    return b"\xdf" + count.to_bytes(4, "big")


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_default, use_bin_type=True, strict_types=True)


def _default(obj: Any) -> Any:
    # strict_types sends every non-exact builtin here, so numpy scalars (some of
    # which subclass float) keep their type, and subclasses are checked last.
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(obj, numpy.ndarray):
            return msgpack.ExtType(EXT_NDARRAY, _array_payload(obj))
        if isinstance(obj, numpy.generic):
            return msgpack.ExtType(EXT_NUMPY_SCALAR, _array_payload(numpy.asarray(obj)))
    if isinstance(obj, tuple):
        return msgpack.ExtType(EXT_TUPLE, _pack(list(obj)))
    if isinstance(obj, complex):
        return msgpack.ExtType(EXT_COMPLEX, _COMPLEX.pack(obj.real, obj.imag))
    if isinstance(obj, _dt.datetime):
        zone = getattr(obj.tzinfo, "key", None)
        return msgpack.ExtType(EXT_DATETIME, _pack([obj.isoformat(), zone]))
    if isinstance(obj, _dt.date):
        return msgpack.ExtType(EXT_DATE, _pack(obj.isoformat()))
    if isinstance(obj, _dt.timedelta):
        return msgpack.ExtType(EXT_TIMEDELTA, _pack([obj.days, obj.seconds, obj.microseconds]))
    if isinstance(obj, FileRef):
        content = obj.read_bytes()
        return msgpack.ExtType(EXT_FILE, _pack([obj.name, obj.media_type, content]))
    if isinstance(obj, int):
        if type(obj) is int:  # msgpack hands over ints beyond 64 bits
            return msgpack.ExtType(EXT_BIGINT, str(obj).encode("ascii"))
        return int(obj)  # IntEnum and friends travel as their value
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, dict):
        return dict(obj)
    if isinstance(obj, list):
        return list(obj)
    raise _Unsupported(_unsupported_message(obj))


def _array_payload(array: Any) -> bytes:
    head, raw = _array_pieces(array)
    return b"".join((head, raw))


def _array_pieces(array: Any) -> tuple[bytes, Any]:
    """An array's extension payload in two pieces: its header, and a byte view of its data."""
    import numpy

    dtype = array.dtype
    if dtype.hasobject:
        raise _Unsupported(
            "cannot send a numpy array of dtype object (its items are arbitrary Python "
            "objects); convert it to a numeric or string dtype, or to a list"
        )
    if dtype.fields is not None:
        raise _Unsupported(
            "cannot send a structured numpy array; send one array per field (e.g. a dict of arrays)"
        )
    if not array.flags.c_contiguous:
        array = array.copy(order="C")
    header = msgpack.packb([dtype.str, list(array.shape)])
    # a byte view of the contiguous array: no copy until someone joins the pieces
    raw = array.reshape(-1).view(numpy.uint8)
    return _HEADER_LENGTH.pack(len(header)) + header, raw


def _unsupported_message(obj: Any) -> str:
    kind = type(obj)
    qualified = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    article = "an" if qualified[:1].lower() in "aeiou" else "a"
    if hasattr(obj, "to_numpy") or hasattr(obj, "to_dict"):
        hint = "convert it first, e.g. with .to_numpy() or .to_dict()"
    elif hasattr(obj, "numpy") and callable(obj.numpy):
        hint = "convert it to a numpy array first, e.g. with .numpy()"
    elif hasattr(obj, "__array__"):
        hint = "convert it to a numpy array first with numpy.asarray(...)"
    elif isinstance(obj, os.PathLike):
        hint = "send a file with FileRef.from_path(...), or the path as text with str(...)"
    elif isinstance(obj, (set, frozenset)):
        hint = "send it as a list (e.g. sorted(...))"
    else:
        hint = "convert it to one of the supported types"
    return (
        f"cannot send {article} {qualified} (Python objects are never pickled); {hint}. "
        f"Supported: {_SUPPORTED}"
    )


def _locate_problem(obj: Any, path: str) -> CodecError | None:
    """Find the first part of ``obj`` that cannot be encoded (only runs after a failure)."""
    try:
        return _walk_for_problem(obj, path)
    except RecursionError:
        return CodecError("the value is nested too deeply to send", path=path)


def _walk_for_problem(obj: Any, path: str) -> CodecError | None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            problem = _leaf_problem(key) if not isinstance(key, tuple) else None
            if problem is not None:
                return CodecError(f"dict key {key!r}: {problem}", path=path)
            found = _walk_for_problem(value, f"{path}[{key!r}]")
            if found is not None:
                return found
        return None
    if isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            found = _walk_for_problem(value, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    problem = _leaf_problem(obj)
    return None if problem is None else CodecError(problem, path=path)


def _leaf_problem(obj: Any) -> str | None:
    if obj is None or isinstance(obj, (bool, int, float, bytes, bytearray, memoryview)):
        return None
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"the string cannot be encoded as UTF-8 ({exc.reason})"
        return None
    try:
        _default(obj)
    except _Unsupported as exc:
        return str(exc)
    except (OSError, CodecError) as exc:  # a FileRef whose path cannot be read
        return f"cannot read the file: {exc}"
    return None


# ----------------------------------------------------------------------- decode


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Decode bytes written by :func:`encode`.

    Raises:
        CodecError: The bytes are not a valid message, or use an unknown extension.
    """
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except CodecError:
        raise
    except Exception as exc:
        raise CodecError(f"cannot decode the message: {exc}") from exc


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)


def _ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_NDARRAY:
        return _array_from_payload(data)
    if code == EXT_NUMPY_SCALAR:
        return _array_from_payload(data)[()]
    if code == EXT_TUPLE:
        return tuple(_unpack(data))
    if code == EXT_COMPLEX:
        real, imag = _COMPLEX.unpack(data)
        return complex(real, imag)
    if code == EXT_DATETIME:
        text, zone = _unpack(data)
        return _datetime_in_zone(_dt.datetime.fromisoformat(text), zone)
    if code == EXT_DATE:
        return _dt.date.fromisoformat(_unpack(data))
    if code == EXT_TIMEDELTA:
        days, seconds, microseconds = _unpack(data)
        return _dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if code == EXT_FILE:
        name, media_type, content = _unpack(data)
        return FileRef(name=name, data=content, media_type=media_type)
    if code == EXT_BIGINT:
        return int(data.decode("ascii"))
    raise CodecError(f"unknown extension type {code}; is the sender a newer DLHub?")


def _datetime_in_zone(value: _dt.datetime, zone: str | None) -> _dt.datetime:
    if zone is None or value.tzinfo is None:
        return value
    try:
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(zone))
    except Exception:  # no tz database here: the fixed offset still names the same instant
        return value


def _array_layout(data: bytes | memoryview) -> tuple[Any, Any, tuple[int, ...], int, int]:
    """Check an array payload without touching its values: (numpy, dtype, shape, count, start).

    Raises:
        CodecError: numpy is missing, or the header and the payload disagree.
    """
    try:
        import numpy
    except ImportError:
        raise CodecError(
            "received a numpy array, but numpy is not installed in this environment"
        ) from None
    (header_length,) = _HEADER_LENGTH.unpack_from(data)
    start = _HEADER_LENGTH.size + header_length
    dtype_text, shape = msgpack.unpackb(data[_HEADER_LENGTH.size : start])
    dtype = numpy.dtype(dtype_text)
    if dtype.hasobject:
        raise CodecError("refusing a numpy array of dtype object")
    count = math.prod(shape)
    if len(data) - start != count * dtype.itemsize:
        raise CodecError(
            f"array payload holds {len(data) - start} bytes, but dtype {dtype_text} and "
            f"shape {shape} need {count * dtype.itemsize}"
        )
    return numpy, dtype, tuple(shape), count, start


def _array_from_payload(data: bytes) -> Any:
    numpy, dtype, shape, count, start = _array_layout(data)
    if count == 0 or dtype.itemsize == 0:
        return numpy.zeros(shape, dtype=dtype)
    flat = numpy.frombuffer(data, dtype=dtype, count=count, offset=start)
    # copy so the receiver gets a writable array, as it would from an in-process call
    return flat.reshape(shape).copy()


# ------------------------------------------------------------------------- JSON


def to_json_compatible(obj: Any, *, name: str = "value") -> Any:
    """Turn a value into plain JSON types, with the marker objects of the module docstring.

    Args:
        obj: The value.
        name: How error messages name the value.

    Raises:
        CodecError: A part of the value has a type the wire cannot carry.
    """
    return _to_json(obj, name)


def _to_json(obj: Any, path: str) -> Any:
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, Packed):
        return _to_json(obj.value(), path)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return {"__bytes__": base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, dict):
        if all(isinstance(key, str) for key in obj):
            return {key: _to_json(value, f"{path}[{key!r}]") for key, value in obj.items()}
        return {
            "__dict__": [
                [_to_json(key, path), _to_json(value, f"{path}[{key!r}]")]
                for key, value in obj.items()
            ]
        }
    if isinstance(obj, list):
        return [_to_json(value, f"{path}[{index}]") for index, value in enumerate(obj)]
    if isinstance(obj, tuple):
        return {"__tuple__": [_to_json(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(obj, (numpy.ndarray, numpy.generic)):
        return _array_to_json(numpy, obj, path)
    if isinstance(obj, complex):
        return {"__complex__": [obj.real, obj.imag]}
    if isinstance(obj, _dt.datetime):
        return {"__datetime__": obj.isoformat()}
    if isinstance(obj, _dt.date):
        return {"__date__": obj.isoformat()}
    if isinstance(obj, _dt.timedelta):
        return {"__timedelta__": obj.total_seconds()}
    if isinstance(obj, FileRef):
        try:
            content = obj.read_bytes()
        except OSError as exc:
            raise CodecError(f"cannot read the file: {exc}", path=path) from exc
        return {
            "__file__": base64.b64encode(content).decode("ascii"),
            "name": obj.name,
            "media_type": obj.media_type,
        }
    if isinstance(obj, (int, float, str)):  # subclasses (IntEnum, ...) as their value
        return _to_json(_default(obj), path)
    raise CodecError(_unsupported_message(obj), path=path)


def _array_to_json(numpy: Any, obj: Any, path: str) -> Any:
    if obj.dtype.hasobject or obj.dtype.fields is not None:
        try:
            _array_payload(obj)
        except _Unsupported as exc:
            raise CodecError(str(exc), path=path) from None
    kind = obj.dtype.kind
    if isinstance(obj, numpy.generic) and kind in "biuf":
        return obj.item()
    array = numpy.asarray(obj)
    if kind in "biuf":
        values: Any = array.tolist()
    else:
        raw = array.copy(order="C").reshape(-1).view(numpy.uint8)
        values = base64.b64encode(raw.tobytes()).decode("ascii")
    return {"__ndarray__": values, "dtype": array.dtype.str, "shape": list(array.shape)}


def from_json(obj: Any, *, name: str = "value") -> Any:
    """Rebuild a value from JSON types, reading the marker objects of the module docstring.

    Args:
        obj: A value parsed from JSON (``json.loads``).
        name: How error messages name the value.

    Raises:
        CodecError: A marker object is malformed (bad base64, unknown dtype, wrong shape...).
    """
    return _from_json(obj, name)


def _from_json(obj: Any, path: str) -> Any:
    if isinstance(obj, list):
        return [_from_json(value, f"{path}[{index}]") for index, value in enumerate(obj)]
    if not isinstance(obj, dict):
        return obj
    try:
        return _from_marker(obj, path)
    except CodecError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise CodecError(f"malformed {next(iter(obj))} object: {exc}", path=path) from exc


def _from_marker(obj: dict[str, Any], path: str) -> Any:
    keys = set(obj)
    if "__ndarray__" in keys and keys <= {"__ndarray__", "dtype", "shape"}:
        return _array_from_json(obj, path)
    if keys == {"__tuple__"}:
        return tuple(_from_json(v, f"{path}[{i}]") for i, v in enumerate(obj["__tuple__"]))
    if keys == {"__bytes__"}:
        return base64.b64decode(obj["__bytes__"], validate=True)
    if keys == {"__complex__"}:
        real, imag = obj["__complex__"]
        return complex(real, imag)
    if keys == {"__datetime__"}:
        return _dt.datetime.fromisoformat(obj["__datetime__"])
    if keys == {"__date__"}:
        return _dt.date.fromisoformat(obj["__date__"])
    if keys == {"__timedelta__"}:
        return _dt.timedelta(seconds=obj["__timedelta__"])
    if "__file__" in keys and keys <= {"__file__", "name", "media_type"}:
        return FileRef(
            name=str(obj.get("name") or "file"),
            data=base64.b64decode(obj["__file__"], validate=True),
            media_type=obj.get("media_type"),
        )
    if keys == {"__dict__"}:
        pairs = [(_hashable(_from_json(k, path)), _from_json(v, path)) for k, v in obj["__dict__"]]
        return dict(pairs)
    return {key: _from_json(value, f"{path}[{key!r}]") for key, value in obj.items()}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def _array_from_json(obj: dict[str, Any], path: str) -> Any:
    try:
        import numpy
    except ImportError:
        raise CodecError("numpy is needed to receive arrays", path=path) from None
    dtype = numpy.dtype(obj["dtype"]) if obj.get("dtype") is not None else None
    if dtype is not None and dtype.hasobject:
        raise CodecError("refusing a numpy array of dtype object", path=path)
    values = obj["__ndarray__"]
    shape = obj.get("shape")
    if isinstance(values, str):
        if dtype is None:
            raise CodecError("an array given as base64 needs its 'dtype'", path=path)
        array = numpy.frombuffer(base64.b64decode(values, validate=True), dtype=dtype).copy()
        if shape is None:
            return array
    else:
        array = numpy.asarray(values, dtype=dtype)
        if array.dtype.hasobject:
            raise CodecError("the array's values are not numbers of one shape", path=path)
    return array.reshape(tuple(shape)) if shape is not None else array
