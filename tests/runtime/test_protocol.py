"""Frames, replies, and what the runtime package may import."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

import dlhub_runtime
from dlhub_runtime import ProtocolError, Reply, ServableError
from dlhub_runtime.errors import describe_exit
from dlhub_runtime.protocol import read_frame, write_frame


def test_frames_round_trip_and_end_cleanly() -> None:
    stream = io.BytesIO()
    for payload in (b"", b"one", b"x" * 100_000):
        write_frame(stream, payload)
    assert stream.getvalue()[:4] == b"\x00\x00\x00\x00"
    assert stream.getvalue()[4:8] == b"\x00\x00\x00\x03"  # 4-byte big-endian length
    stream.seek(0)
    assert [read_frame(stream) for _ in range(4)] == [b"", b"one", b"x" * 100_000, None]


@pytest.mark.parametrize("data", [b"\x00\x00", b"\x00\x00\x00\x05abc"], ids=["header", "payload"])
def test_a_stream_ending_inside_a_frame_is_an_error(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="closed"):
        read_frame(io.BytesIO(data))


def test_reply_result_raises_the_remote_error() -> None:
    assert Reply(id=1, ok=True, output=[1]).result() == [1]
    failed = Reply.from_message(
        {
            "id": 2,
            "ok": False,
            "error": {
                "type": "KeyError",
                "message": "'x'",
                "traceback": "Traceback ...\nKeyError: 'x'",
            },
            "stderr": "warning: careful\n",
        }
    )
    with pytest.raises(ServableError) as caught:
        failed.result()
    assert caught.value.error_type == "KeyError"
    assert "Traceback from the servable" in str(caught.value)
    assert "warning: careful" in str(caught.value)
    with pytest.raises(ProtocolError, match="expected a reply"):
        Reply.from_message(["not", "a", "reply"])


def test_exit_descriptions() -> None:
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL)"


def test_public_names_are_complete() -> None:
    exported = set(dlhub_runtime.__all__)
    assert all(hasattr(dlhub_runtime, name) for name in exported)
    assert not [name for name in exported if name.startswith("_")]
    for name in ("encode", "decode", "FileRef", "WorkerProcess", "WorkerCrashed", "load_servable"):
        assert name in exported


def test_importing_the_runtime_stays_light() -> None:
    script = (
        "import sys, dlhub_runtime, dlhub_runtime.worker, dlhub_runtime.shims\n"
        "heavy = {'numpy', 'dlhub_sdk', 'dlhub_server', 'pydantic', 'torch', 'tensorflow', "
        "'keras', 'sklearn', 'joblib'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
