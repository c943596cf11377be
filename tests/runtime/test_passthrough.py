"""The hub's pass-through: kept values travel as the bytes they arrived as, checked as strictly."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import msgpack
import numpy as np
import pytest

from dlhub_runtime.codec import CodecError, FileRef, Packed, decode, encode, encode_parts
from dlhub_runtime.passthrough import decode_keeping


def _unpacked(value: Any) -> Any:
    return value.value() if isinstance(value, Packed) else value


def _same(a: Any, b: Any) -> bool:
    return encode(a) == encode(b)


VALUES: list[Any] = [
    None,
    True,
    -1,
    2**40,
    -(2**62),
    2**70,
    1.5,
    "text é",
    "x" * 70_000,
    b"\x00" * 300,
    [1, [2, [3]]],
    {"a": {"b": [1, 2]}, 3: "int key"},
    (1, (2.0, "three")),
    1 + 2j,
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    dt.date(2024, 1, 2),
    dt.timedelta(days=1, seconds=3),
    FileRef(name="a.txt", data=b"hello"),
    np.arange(12.0).reshape(3, 4),
    np.float32(2.5),
    (np.arange(3), np.ones((2, 2), dtype=np.int8)),
    list(range(20_000)),  # more items than the walk's budget: decoded instead
    msgpack.Timestamp(1_700_000_000, 5),  # msgpack's own extension (-1), from other senders
]


@pytest.mark.parametrize("inputs", VALUES, ids=lambda v: type(v).__name__)
def test_kept_values_are_the_bytes_that_came(inputs: Any) -> None:
    message = {"inputs": inputs, "parameters": {"axis": 1}, "debug": False}
    data = encode(message)
    kept = decode_keeping(data, {"inputs"}, min_size=0)
    assert set(kept) == set(message)
    assert kept["parameters"] == {"axis": 1} and kept["debug"] is False
    assert _same(_unpacked(kept["inputs"]), decode(data)["inputs"])
    assert encode(kept) == data  # written back unchanged
    assert b"".join(encode_parts(kept)) == data


def test_an_array_is_not_decoded_or_copied() -> None:
    array = np.random.default_rng(0).random(100_000)
    data = encode({"inputs": array, "method": "run"})
    kept = decode_keeping(data, {"inputs"})
    assert isinstance(kept["inputs"], Packed) and kept["method"] == "run"
    assert kept["inputs"].data.obj is data  # a view of the received bytes
    np.testing.assert_array_equal(kept["inputs"].value(), array)


def test_small_messages_and_other_shapes_are_simply_decoded() -> None:
    assert decode_keeping(encode({"inputs": [1, 2]}), {"inputs"}) == {"inputs": [1, 2]}
    big_list = encode([np.zeros(20_000)])
    assert isinstance(decode_keeping(big_list, {"inputs"}), list)


def _array_ext(header: list[Any], raw: bytes) -> msgpack.ExtType:
    packed = msgpack.packb(header)
    return msgpack.ExtType(1, len(packed).to_bytes(4, "big") + packed + raw)


BAD: dict[str, tuple[Any, str]] = {
    "array shorter than its shape": (
        _array_ext(["<f8", [10]], b"\x00" * 16),
        "array payload holds 16 bytes, but dtype <f8 and shape [10] need 80",
    ),
    "array of objects": (_array_ext(["|O", [1]], b"\x00" * 8), "dtype object"),
    "unknown extension": (msgpack.ExtType(42, b"x"), "unknown extension type 42"),
    "broken datetime": (msgpack.ExtType(5, msgpack.packb(["not a date", None])), "not a date"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_kept_value_fails_as_decoding_it_would(case: str) -> None:
    value, message = BAD[case]
    data = msgpack.packb({"inputs": [value, b"\x00" * 70_000], "debug": False})
    with pytest.raises(CodecError) as whole:
        decode(data)
    with pytest.raises(CodecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        decode_keeping(data, {"inputs"}, min_size=0)
    assert message in str(whole.value) or case == "broken datetime"


def test_invalid_text_truncation_and_trailing_bytes_are_errors() -> None:
    padding = b"\x00" * 70_000
    bad_text = b"\x82\xa6inputs\xa2\xff\xfe\xa5debug\xc2"
    for data in (
        bad_text,
        encode({"inputs": padding, "debug": False})[:-3],
        encode({"inputs": padding, "debug": False}) + b"\x00",
        b"\x81\xa6inputs\xc1",
    ):
        with pytest.raises(CodecError, match="cannot decode the message"):
            decode_keeping(data, {"inputs"}, min_size=0)


def test_random_messages_round_trip() -> None:
    rng = random.Random(7)

    def value(depth: int) -> Any:
        kind = rng.randrange(9 if depth < 3 else 6)
        if kind == 0:
            return rng.randrange(-(2**63), 2**64)
        if kind == 1:
            return rng.random()
        if kind == 2:
            return "".join(rng.choice("aé€z") for _ in range(rng.randrange(40)))
        if kind == 3:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
        if kind == 4:
            return np.arange(rng.randrange(50), dtype=rng.choice(["<f4", "<i8", "|u1"]))
        if kind == 5:
            return rng.choice([None, True, False, 3 + 4j])
        if kind == 6:
            return [value(depth + 1) for _ in range(rng.randrange(20))]
        if kind == 7:
            return tuple(value(depth + 1) for _ in range(rng.randrange(5)))
        return {f"k{i}": value(depth + 1) for i in range(rng.randrange(20))}

    for _ in range(300):
        message = {"inputs": value(0), "output": value(0), "id": rng.randrange(100)}
        data = encode(message)
        kept = decode_keeping(data, {"inputs", "output"}, min_size=0)
        assert encode(kept) == data
        assert _same({k: _unpacked(v) for k, v in kept.items()}, decode(data))


def test_large_arrays_are_written_from_their_own_memory() -> None:
    big = np.arange(20_000, dtype="<f8").reshape(100, 200)
    for inputs in (big, np.arange(70_000, dtype="|u1"), np.zeros(9000, dtype=">i8")):
        message = {"op": "call", "inputs": inputs, "parameters": {}}
        parts = encode_parts(message)
        assert any(isinstance(p, memoryview) and p.obj is not None for p in parts)
        assert b"".join(parts) == encode(message)  # the same bytes as msgpack writes
    small = {"inputs": np.arange(3.0)}
    assert encode_parts(small) == [encode(small)]
    strided = {"inputs": big[:, ::2]}  # not contiguous: encoded the usual way
    assert encode_parts(strided) == [encode(strided)]
    with pytest.raises(CodecError, match="dtype object"):
        encode_parts({"inputs": np.array([object()] * 10_000)})


def test_mangled_messages_fail_exactly_when_decoding_fails() -> None:
    """Random byte edits of real messages: decode_keeping refuses what decode refuses, and only that."""
    rng = random.Random(3)
    messages = [
        encode({"inputs": value, "parameters": {"a": 1}, "debug": False})
        for value in (
            np.arange(30.0),
            [1, "x", (2, 3j)],
            {"k": [np.int8(3), dt.date(2020, 1, 2)], 7: (1, "t")},
            "é" * 10,
            (np.ones(3), FileRef(name="f", data=b"d")),
        )
    ]
    for _ in range(10_000):
        data = bytearray(rng.choice(messages))
        for _ in range(rng.randrange(1, 4)):
            position = rng.randrange(len(data))
            edit = rng.randrange(3)
            if edit == 0:
                data[position] = rng.randrange(256)
            elif edit == 1:
                del data[position]
            else:
                data.insert(position, rng.randrange(256))
        try:
            expected = decode(bytes(data))
        except CodecError:
            with pytest.raises(CodecError):
                decode_keeping(bytes(data), {"inputs"}, min_size=0)
        else:
            kept = decode_keeping(bytes(data), {"inputs"}, min_size=0)
            assert _same({k: _unpacked(v) for k, v in kept.items()}, expected)
