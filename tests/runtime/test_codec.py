"""The wire codec: every type of chapter 5 round-trips as itself; nothing else is sent."""

from __future__ import annotations

import datetime as dt
import enum
import json
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from dlhub_runtime.codec import CodecError, FileRef, decode, encode, from_json, to_json_compatible

PARIS = ZoneInfo("Europe/Paris")

ROUND_TRIPS: list[tuple[str, Any]] = [
    ("none", None),
    ("true", True),
    ("int", -7),
    ("int64 max", 2**63 - 1),
    ("uint64 max", 2**64 - 1),
    ("big int", 2**200),
    ("negative big int", -(2**100)),
    ("float", 0.1),
    ("infinity", float("inf")),
    ("str", "héllo ✓"),
    ("empty str", ""),
    ("bytes", b"\x00\xff raw"),
    ("empty bytes", b""),
    ("list", [1, "a", None]),
    ("empty list", []),
    ("tuple", (1, "a", 2.5)),
    ("empty tuple", ()),
    ("nested tuples", ((1, 2), [(3,), ()])),
    ("dict", {"x": 1, "y": [1.5, "z"]}),
    ("dict int and tuple keys", {1: "one", (2, 3): "pair"}),
    ("complex", 1.5 - 2j),
    ("naive datetime", dt.datetime(2024, 5, 1, 12, 30, 15, 123456)),
    ("utc datetime", dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)),
    ("offset datetime", dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
    ("date", dt.date(1999, 12, 31)),
    ("timedelta", dt.timedelta(days=-3, seconds=7, microseconds=11)),
    ("file", FileRef(name="data.csv", data=b"a,b\n1,2\n", media_type="text/csv")),
]


@pytest.mark.parametrize(("label", "value"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_round_trip_keeps_value_and_type(label: str, value: Any) -> None:
    back = decode(encode(value))
    assert back == value
    assert type(back) is type(value)


def test_tuples_inside_containers_stay_tuples() -> None:
    back = decode(encode({"a": [(1, (2, 3))]}))
    assert isinstance(back["a"][0], tuple)
    assert isinstance(back["a"][0][1], tuple)


def test_zoned_datetime_keeps_its_zone() -> None:
    value = dt.datetime(2024, 7, 1, 9, 0, tzinfo=PARIS)
    back = decode(encode(value))
    assert back == value
    assert back.utcoffset() == value.utcoffset()
    assert getattr(back.tzinfo, "key", None) == "Europe/Paris"


ARRAYS: list[tuple[str, Any]] = [
    ("float64 2d", np.arange(12, dtype=np.float64).reshape(3, 4) / 7),
    ("float32", np.linspace(0, 1, 5, dtype=np.float32)),
    ("int8", np.array([-128, 0, 127], dtype=np.int8)),
    ("uint16 big endian", np.arange(4, dtype=">u2")),
    ("bool", np.array([True, False])),
    ("complex128", np.array([1 + 2j, -3j])),
    ("unicode", np.array(["a", "héllo"])),
    ("bytes dtype", np.array([b"ab", b"c"])),
    ("datetime64", np.array(["2024-01-01", "2024-02-29"], dtype="datetime64[D]")),
    ("timedelta64", np.array([1, 2], dtype="timedelta64[s]")),
    ("zero-d", np.array(3.5)),
    ("empty", np.zeros((0, 3))),
    ("3d", np.arange(24).reshape(2, 3, 4)),
    ("fortran order", np.asfortranarray(np.arange(6.0).reshape(2, 3))),
    ("strided view", np.arange(20)[::3]),
]


@pytest.mark.parametrize(("label", "array"), ARRAYS, ids=[a[0] for a in ARRAYS])
def test_ndarray_round_trip(label: str, array: Any) -> None:
    back = decode(encode(array))
    assert isinstance(back, np.ndarray)
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable  # like an array handed over in process


SCALARS = [
    np.float32(1.5),
    np.float64(2.5),
    np.int64(-3),
    np.uint8(200),
    np.bool_(True),
    np.complex64(1j),
]


@pytest.mark.parametrize("scalar", SCALARS, ids=[type(s).__name__ for s in SCALARS])
def test_numpy_scalars_keep_their_type(scalar: Any) -> None:
    back = decode(encode(scalar))
    assert type(back) is type(scalar)
    assert back == scalar


def test_arrays_travel_as_raw_bytes_not_lists() -> None:
    array = np.random.default_rng(0).random(1000)
    encoded = encode(array)
    assert len(encoded) < array.nbytes + 100
    assert array.tobytes() in encoded


def test_fifty_megabyte_array_travels_as_its_raw_bytes() -> None:
    # (its speed is measured in bench/invoke.py, not here)
    array = np.random.default_rng(1).random(50 * 2**20 // 8)
    encoded = encode({"x": array})
    back = decode(encoded)
    np.testing.assert_array_equal(back["x"], array)
    assert len(encoded) < array.nbytes + 200


def test_subclasses_travel_as_their_base_type() -> None:
    class Color(enum.IntEnum):
        RED = 1

    class Name(str):
        pass

    back = decode(encode([Color.RED, Name("x"), OrderedDict(a=1)]))
    assert back == [1, "x", {"a": 1}]
    assert [type(v) for v in back] == [int, str, dict]


def test_file_ref_from_path_sends_the_content(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(b"x\n1\n")
    back = decode(encode([FileRef.from_path(path, media_type="text/csv")]))
    assert back == [FileRef(name="table.csv", data=b"x\n1\n", media_type="text/csv")]


def test_file_ref_to_a_missing_path() -> None:
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        FileRef.from_path("nope.txt")
    ref = FileRef(name="gone.txt", path="/definitely/not/here.txt")
    with pytest.raises(CodecError, match=r"^input\[0\]: cannot read the file"):
        encode([ref], name="input")


class Opaque:
    pass


class FakeFrame:
    """Looks like a pandas DataFrame to the error message."""

    def to_numpy(self) -> None:
        return None


REFUSED: list[tuple[str, Any, str]] = [
    ("object", [1, 2, Opaque()], r"^input\[2\]: cannot send an? .*Opaque .*never pickled"),
    ("dataframe-like", {"df": FakeFrame()}, r"^input\['df'\]: cannot send a .*FakeFrame.*to_numpy"),
    ("set", {"a": [{1, 2}]}, r"^input\['a'\]\[0\]: cannot send a set.*list"),
    ("object array", (1, np.array([Opaque()], dtype=object)), r"^input\[1\]: .*dtype object"),
    ("path", [Path("x.txt")], r"^input\[0\]: .*FileRef\.from_path"),
    ("bad key", {Opaque(): 1}, r"^input: dict key .*Opaque"),
    ("surrogate", ["\ud800"], r"^input\[0\]: .*UTF-8"),
    ("function", [len], r"^input\[0\]: cannot send a builtin_function_or_method"),
]


@pytest.mark.parametrize(("label", "value", "pattern"), REFUSED, ids=[r[0] for r in REFUSED])
def test_unsupported_values_are_refused_with_their_path(
    label: str, value: Any, pattern: str
) -> None:
    with pytest.raises(CodecError, match=pattern) as caught:
        encode(value, name="input")
    assert caught.value.path is not None
    assert isinstance(caught.value, ValueError)


def test_decode_refuses_garbage_and_unknown_extensions() -> None:
    import msgpack

    with pytest.raises(CodecError, match="cannot decode"):
        decode(b"\xc1")  # a byte msgpack never uses
    with pytest.raises(CodecError, match="unknown extension type 99"):
        decode(msgpack.packb(msgpack.ExtType(99, b"")))


def test_decode_refuses_object_dtype_and_inconsistent_arrays() -> None:
    import msgpack

    from dlhub_runtime import codec

    def forged(dtype: str, shape: list[int], raw: bytes) -> bytes:
        header = msgpack.packb([dtype, shape])
        payload = len(header).to_bytes(4, "big") + header + raw
        return msgpack.packb(msgpack.ExtType(codec.EXT_NDARRAY, payload))

    with pytest.raises(CodecError, match="dtype object"):
        decode(forged("|O", [1], b"\x00" * 8))
    with pytest.raises(CodecError, match="need 24"):
        decode(forged("<f8", [3], b"\x00" * 8))


# ------------------------------------------------------------------------- JSON

JSON_CASES: list[tuple[str, Any]] = [
    ("scalars", {"a": 1, "b": 2.5, "c": "s", "d": None, "e": True}),
    ("list stays list", [1, [2, 3]]),
    ("tuple", (1, "x")),
    ("bytes", b"\x00\x01"),
    ("complex", 2 - 1j),
    ("datetime", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)),
    ("date", dt.date(2024, 1, 2)),
    ("timedelta", dt.timedelta(minutes=90, microseconds=5)),
    ("file", FileRef(name="f.txt", data=b"hi", media_type="text/plain")),
    ("int keys", {1: "one", 2: "two"}),
]


@pytest.mark.parametrize(("label", "value"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_json_round_trip(label: str, value: Any) -> None:
    text = json.dumps(to_json_compatible(value))
    back = from_json(json.loads(text))
    assert back == value
    assert type(back) is type(value)


@pytest.mark.parametrize(("label", "array"), ARRAYS, ids=[a[0] for a in ARRAYS])
def test_json_round_trip_of_arrays(label: str, array: Any) -> None:
    back = from_json(json.loads(json.dumps(to_json_compatible(array))))
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_json_arrays_of_numbers_are_readable_lists() -> None:
    assert to_json_compatible(np.array([[1, 2], [3, 4]], dtype=np.int32)) == {
        "__ndarray__": [[1, 2], [3, 4]],
        "dtype": "<i4",
        "shape": [2, 2],
    }
    assert to_json_compatible(np.float32(0.5)) == 0.5


def test_json_array_written_by_hand() -> None:
    typed = from_json({"x": {"__ndarray__": [[1, 2], [3, 4]], "dtype": "float32"}})
    assert typed["x"].dtype == np.float32
    assert typed["x"].shape == (2, 2)
    untyped = from_json({"__ndarray__": [1, 2, 3]})
    np.testing.assert_array_equal(untyped, [1, 2, 3])


def test_json_errors_name_the_place() -> None:
    with pytest.raises(CodecError, match=r"^input\['a'\]\[1\]: cannot send .*Opaque"):
        to_json_compatible({"a": [1, Opaque()]}, name="input")
    with pytest.raises(CodecError, match=r"^input\[0\]: malformed __bytes__"):
        from_json([{"__bytes__": "not base64!"}], name="input")
    with pytest.raises(CodecError, match=r"^input: .*dtype"):
        from_json({"__ndarray__": "AAAA"}, name="input")
    with pytest.raises(CodecError, match=r"dtype object"):
        from_json({"__ndarray__": [1], "dtype": "O"})


def test_dicts_that_only_look_like_markers_stay_dicts() -> None:
    value = {"__tuple__": [1], "other": 2}
    assert from_json(value) == value


def test_codec_works_without_numpy() -> None:
    script = (
        "import sys; sys.modules['numpy'] = None\n"
        "from dlhub_runtime.codec import encode, decode, CodecError\n"
        "assert decode(encode({'a': (1, 2j)})) == {'a': (1, 2j)}\n"
        "import msgpack\n"
        "forged = msgpack.packb(msgpack.ExtType(1, b'\\x00\\x00\\x00\\x00'))\n"
        "try:\n"
        "    decode(forged)\n"
        "except CodecError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "numpy is not installed" in result.stdout
