"""Messages between a worker and its client: length-prefixed frames of codec payloads.

Every frame is a 4-byte big-endian length followed by that many bytes of
:func:`dlhub_runtime.codec.encode` output. The client sends requests (dicts with an
``op``) and the worker answers each with one reply, in order:

``{"op": "load", "id", "document", "folder", "capture_output"}``
    Load the servable described by ``document`` from the files in ``folder``
    (the paths in ``document["dlhub"]["files"]`` are relative to it). Sent once, first.
``{"op": "call", "id", "method", "inputs", "parameters", "capture_output"}``
    Run a method. ``inputs`` may hold :class:`~dlhub_runtime.codec.FileRef` values;
    the servable receives them as local paths.
``{"op": "shutdown", "id"}``
    Reply, then exit with code 0. Closing the channel has the same effect.

Replies: ``{"id", "ok", "output" | "error": {"type", "message", "traceback"},
"stdout", "stderr", "timing": {"load" | "run": seconds}}``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from dlhub_runtime.errors import ProtocolError, ServableError

__all__ = ["HEADER_SIZE", "MAX_FRAME", "Reply", "frame_length", "read_frame", "write_frame"]

_LENGTH = struct.Struct(">I")
HEADER_SIZE = _LENGTH.size
MAX_FRAME = 2**32 - 1


def write_frame(
    stream: IO[bytes], payload: bytes | bytearray | memoryview | Sequence[bytes | memoryview]
) -> None:
    """Write one frame and flush; the payload may come in pieces (written one after another).

    Raises:
        ProtocolError: The payload is larger than a frame can say (4 GiB).
    """
    parts = [payload] if isinstance(payload, (bytes, bytearray, memoryview)) else payload
    length = sum(memoryview(part).nbytes for part in parts)
    if length > MAX_FRAME:
        raise ProtocolError(f"message of {length} bytes exceeds the 4 GiB frame limit")
    stream.write(_LENGTH.pack(length))
    for part in parts:
        stream.write(part)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes | None:
    """Read one frame; ``None`` when the stream ends cleanly between frames.

    Raises:
        ProtocolError: The stream ends inside a frame.
    """
    header = _read_exactly(stream, _LENGTH.size)
    if header is None:
        return None
    (length,) = _LENGTH.unpack(header)
    payload = _read_exactly(stream, length)
    if payload is None:
        raise ProtocolError(f"the channel closed inside a frame of {length} bytes")
    return payload


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if remaining == size:
                return None
            raise ProtocolError(f"the channel closed after {size - remaining} of {size} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def frame_length(header: bytes | bytearray) -> int:
    """The payload length announced by a 4-byte frame header."""
    return int(_LENGTH.unpack(header)[0])


@dataclass
class Reply:
    """A worker's answer to one request.

    Attributes:
        id: The request's id.
        ok: Whether the request succeeded.
        output: The servable's output (``None`` when not ``ok``).
        error: ``{"type", "message", "traceback"}`` when not ``ok``.
        stdout: What the servable printed, when capture was asked.
        stderr: What it wrote to standard error, when capture was asked.
        timing: Seconds spent: ``load`` for a load, ``run`` for a call.
    """

    id: Any
    ok: bool
    output: Any = None
    error: dict[str, str] | None = None
    stdout: str = ""
    stderr: str = ""
    timing: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_message(cls, message: Any) -> Reply:
        """Build from a decoded reply message.

        Raises:
            ProtocolError: The message is not a reply.
        """
        if not isinstance(message, dict) or "ok" not in message:
            raise ProtocolError(f"expected a reply from the worker, got {message!r:.200}")
        return cls(
            id=message.get("id"),
            ok=bool(message["ok"]),
            output=message.get("output"),
            error=message.get("error"),
            stdout=message.get("stdout") or "",
            stderr=message.get("stderr") or "",
            timing=dict(message.get("timing") or {}),
        )

    def to_message(self) -> dict[str, Any]:
        """The reply as a message dict (what the worker sends)."""
        message: dict[str, Any] = {
            "id": self.id,
            "ok": self.ok,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "timing": self.timing,
        }
        if self.ok:
            message["output"] = self.output
        else:
            message["error"] = self.error
        return message

    def result(self) -> Any:
        """The output, or raise the servable's error.

        Raises:
            ServableError: The request failed; carries the remote type, message and traceback.
        """
        if self.ok:
            return self.output
        error = self.error or {}
        raise ServableError(
            error.get("type", "Error"),
            error.get("message", ""),
            error.get("traceback", ""),
            stdout=self.stdout,
            stderr=self.stderr,
        )
