"""The worker process: loads one servable and answers calls over its stdin/stdout pipes.

Run as ``python -m dlhub_runtime.worker`` (by :class:`~dlhub_runtime.process.WorkerProcess`),
with the working folder as the current directory. The messages are described in
:mod:`dlhub_runtime.protocol`.

The channel is the process's original stdin and stdout, moved to private file
descriptors at start-up: afterwards descriptor 0 reads ``/dev/null`` and
descriptor 1 writes to the worker's stderr, so nothing a servable prints or reads
can corrupt the frames. When a request asks for ``capture_output``, descriptors
1 and 2 are redirected into temporary files for the duration of the call, which
catches prints from Python and from C extensions alike (C stdio buffers are
flushed before the capture ends).
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from typing import IO, Any

from dlhub_runtime.codec import CodecError, FileRef, decode, encode, encode_parts
from dlhub_runtime.errors import ProtocolError, ServableError
from dlhub_runtime.protocol import MAX_FRAME, Reply, read_frame, write_frame
from dlhub_runtime.shims import Shim, load_servable

__all__ = ["MAX_CAPTURE", "Worker", "main"]

#: Bytes of stdout (and of stderr) kept per call; beyond that the start is cut.
MAX_CAPTURE = 1 << 20

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


class Worker:
    """Answers requests for one servable (the loop of :func:`main`, usable in-process).

    Args:
        workdir: Folder where the files of each call are written (default: the current one).
    """

    def __init__(self, workdir: str | None = None) -> None:
        self.workdir = os.path.abspath(workdir or os.getcwd())
        self.servable: Shim | None = None
        self.load_error: str | None = None

    def serve(self, channel_in: IO[bytes], channel_out: IO[bytes]) -> int:
        """Answer frames until the channel closes or a shutdown arrives; returns the exit code."""
        while True:
            frame = read_frame(channel_in)
            if frame is None:
                return 0
            try:
                message = decode(frame)
            except CodecError as exc:
                write_frame(channel_out, _encode_reply(_failure(None, exc)))
                continue
            reply = self.handle(message)
            write_frame(channel_out, _encode_reply(reply))
            if isinstance(message, dict) and message.get("op") == "shutdown":
                return 0

    def handle(self, message: Any) -> Reply:
        """Answer one decoded request."""
        if not isinstance(message, dict):
            return _failure(None, ProtocolError(f"a request must be a dict, not {message!r:.100}"))
        op = message.get("op")
        if op == "load":
            return self._load(message)
        if op == "call":
            return self._call(message)
        if op == "shutdown":
            return Reply(id=message.get("id"), ok=True)
        return _failure(message.get("id"), ProtocolError(f"unknown op {op!r}"))

    def _load(self, message: dict[str, Any]) -> Reply:
        request_id = message.get("id")
        with captured_output(bool(message.get("capture_output"))) as captured:
            start = time.perf_counter()
            try:
                self.servable = load_servable(message["document"], message["folder"])
            except BaseException as exc:
                self.load_error = f"{type(exc).__name__}: {exc}"
                failure: Reply | None = _failure(request_id, exc)
            else:
                failure = None
            elapsed = time.perf_counter() - start
        reply = failure or Reply(id=request_id, ok=True)
        reply.stdout, reply.stderr = captured.stdout, captured.stderr
        reply.timing = {"load": elapsed}
        return reply

    def _call(self, message: dict[str, Any]) -> Reply:
        request_id = message.get("id")
        if self.servable is None:
            reason = f": {self.load_error}" if self.load_error else ""
            error = ProtocolError(f"no servable is loaded{reason}")
            return _failure(request_id, error)
        method = message.get("method") or "run"
        call_folder = None
        with captured_output(bool(message.get("capture_output"))) as captured:
            start = time.perf_counter()
            try:
                inputs = message.get("inputs")
                if _holds_files(inputs):
                    call_folder = tempfile.mkdtemp(prefix=".dlhub-call-", dir=self.workdir)
                    inputs = materialize_files(inputs, call_folder)
                output = self.servable.call(method, inputs, message.get("parameters") or {})
                output = attach_output_files(output, self.servable.method(method).get("output"))
                reply = Reply(id=request_id, ok=True, output=output)
            except BaseException as exc:  # SystemExit too: a servable's sys.exit() is its error
                reply = _failure(request_id, exc)
            finally:
                elapsed = time.perf_counter() - start
                if call_folder is not None:
                    shutil.rmtree(call_folder, ignore_errors=True)
        reply.stdout, reply.stderr = captured.stdout, captured.stderr
        reply.timing = {"run": elapsed}
        return reply


def _encode_reply(reply: Reply) -> list[bytes | memoryview]:
    """The reply's frame payload, in pieces (a large array output is sent from its own memory)."""
    try:
        parts = encode_parts(reply.to_message())
    except CodecError:
        pass
    else:
        size = sum(memoryview(part).nbytes for part in parts)
        if size <= MAX_FRAME:
            return parts
        too_big = CodecError(f"the output takes {size} bytes, over the 4 GiB frame limit")
        return [encode(_failure(reply.id, too_big).to_message())]
    # name the part of the output that cannot travel (slow path, only on failure)
    try:
        encode(reply.output, name="output")
        problem: BaseException = CodecError("the reply cannot be encoded")
    except CodecError as exc:
        problem = exc
    failed = _failure(reply.id, problem)
    failed.stdout, failed.stderr, failed.timing = reply.stdout, reply.stderr, reply.timing
    return [encode(failed.to_message())]


def _failure(request_id: Any, exc: BaseException) -> Reply:
    if isinstance(exc, ServableError):
        error_type, message = exc.error_type, exc.error_message
    else:
        kind = type(exc)
        error_type = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        message = str(exc)
    error = {"type": error_type, "message": message, "traceback": _servable_traceback(exc)}
    return Reply(id=request_id, ok=False, error=error)


def _servable_traceback(exc: BaseException) -> str:
    # drop the runtime's own frames from the top, so the traceback starts in servable code
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_RUNTIME_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


# ------------------------------------------------------------------------ files


def _holds_files(value: Any) -> bool:
    if isinstance(value, FileRef):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_files(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_files(item) for item in value.values())
    return False


def materialize_files(value: Any, folder: str) -> Any:
    """Write every :class:`FileRef` of a value into ``folder``; replace each with its local path.

    Each file gets its own sub-folder, so two files of the same name do not clash,
    and keeps its base name (a servable may look at its extension).
    """
    count = 0

    def walk(item: Any) -> Any:
        nonlocal count
        if isinstance(item, FileRef):
            count += 1
            holder = os.path.join(folder, str(count))
            os.mkdir(holder)
            path = os.path.join(holder, _safe_name(item.name))
            with open(path, "wb") as fp:
                fp.write(item.read_bytes())
            return path
        if isinstance(item, list):
            return [walk(member) for member in item]
        if isinstance(item, tuple):
            return tuple(walk(member) for member in item)
        if isinstance(item, dict):
            return {key: walk(member) for key, member in item.items()}
        return item

    return walk(value)


def _safe_name(name: str) -> str:
    base = os.path.basename(str(name).replace("\\", "/")).strip()
    return base if base not in ("", ".", "..") else "file"


def attach_output_files(output: Any, block: dict[str, Any] | None) -> Any:
    """Replace the paths a servable returns for ``file`` outputs by :class:`FileRef` contents.

    Follows the output's argument type: a ``file``, a ``list`` of files, or files among
    the members of a ``tuple``. Other outputs are returned unchanged.
    """
    if not block:
        return output
    kind = block.get("type")
    if kind == "file" and isinstance(output, (str, os.PathLike)):
        path = os.fspath(output)
        with open(path, "rb") as fp:
            content = fp.read()
        return FileRef(name=os.path.basename(path), data=content)
    item_type = block.get("item_type")
    if kind == "list" and isinstance(item_type, dict) and isinstance(output, list):
        return [attach_output_files(item, item_type) for item in output]
    if kind == "tuple" and isinstance(output, (list, tuple)):
        members = block.get("element_types") or []
        converted = [attach_output_files(item, member) for item, member in zip(output, members)]
        converted += list(output[len(converted) :])
        return tuple(converted) if isinstance(output, tuple) else converted
    return output


# ------------------------------------------------------------------ capturing


class Captured:
    """What a call wrote to stdout and stderr (empty when capture was off)."""

    stdout = ""
    stderr = ""


@contextlib.contextmanager
def captured_output(enabled: bool) -> Iterator[Captured]:
    """Redirect file descriptors 1 and 2 into temporary files while the block runs."""
    captured = Captured()
    if not enabled:
        yield captured
        return
    _flush_all()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            yield captured
        finally:
            _flush_all()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            captured.stdout = _read_tail(out)
            captured.stderr = _read_tail(err)


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)  # C stdio buffers of extensions


def _read_tail(stream: IO[bytes]) -> str:
    size = stream.seek(0, os.SEEK_END)
    if size > MAX_CAPTURE:
        stream.seek(size - MAX_CAPTURE)
        head = f"[... {size - MAX_CAPTURE} earlier bytes cut ...]\n"
    else:
        stream.seek(0)
        head = ""
    return head + stream.read().decode("utf-8", errors="replace")


# ---------------------------------------------------------------- entry point


def _take_channel() -> tuple[IO[bytes], IO[bytes]]:
    """Move the pipes to private descriptors; point 0 at /dev/null and 1 at stderr."""
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    with contextlib.suppress(Exception):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return channel_in, channel_out


def _exit_with_parent(interval: float = 1.0) -> None:
    """End the worker when the process that started it (the hub) is gone.

    A worker busy in a long call never reads the closed pipe, so it watches its
    parent instead. (``PR_SET_PDEATHSIG`` would fire when the *thread* that
    started the worker ends, which in a threaded hub is any request.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="dlhub-parent-watch", daemon=True).start()


def main() -> int:
    """Run a worker on this process's stdin/stdout; returns the exit code."""
    _exit_with_parent()
    channel_in, channel_out = _take_channel()
    # a segfault in a servable leaves a Python traceback in the worker's stderr
    crash_log = os.fdopen(os.dup(2), "w")
    faulthandler.enable(file=crash_log)
    try:
        return Worker().serve(channel_in, channel_out)
    except (BrokenPipeError, ProtocolError):
        return 1  # the client went away mid-frame; nobody is left to answer


if __name__ == "__main__":
    sys.exit(main())
