"""The client side of a worker: start ``python -m dlhub_runtime.worker`` and talk to it.

:class:`WorkerProcess` is what the hub's executor builds on. It sends one request
at a time (a lock serialises concurrent callers), waits for the reply with a
timeout, kills the worker's whole process group when the timeout passes, and
turns a dead worker (end of the pipe, any exit code or signal) into
:class:`~dlhub_runtime.errors.WorkerCrashed` carrying the exit status and the last
lines the worker wrote to stderr. POSIX only (it uses ``select`` on the pipe and
process groups).
"""

from __future__ import annotations

import collections
import itertools
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from dlhub_runtime.codec import CodecError, decode, encode, encode_parts
from dlhub_runtime.errors import ServableLoadError, WorkerCrashed, WorkerTimeout
from dlhub_runtime.passthrough import decode_keeping
from dlhub_runtime.protocol import HEADER_SIZE, Reply, frame_length, write_frame

__all__ = ["WorkerProcess", "runtime_path"]

_STDERR_KEPT = 64 * 1024


def runtime_path() -> str:
    """The folder holding the ``dlhub_runtime`` package (to put on a worker's ``PYTHONPATH``)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class WorkerProcess:
    """A worker subprocess running one servable.

    Args:
        python: The interpreter of the servable's environment (it must import
            ``dlhub_runtime`` and ``msgpack``).
        env: The worker's environment variables (default: a copy of this process's).
        cwd: The worker's working folder (files of each call are written there).
        on_stderr: Called with each chunk the worker writes to its stderr (e.g. a log);
            the last 64 KiB are kept either way for crash reports.
        launcher: A command the worker is started through (e.g. the sandbox:
            ``[python, "-m", "dlhub_runtime.sandbox", config, "--"]``).
        **popen_options: More arguments for :class:`subprocess.Popen` (``user``,
            ``group``, ``preexec_fn`` for resource limits, ...).

    Example::

        with WorkerProcess() as worker:
            worker.load(document, folder)
            reply = worker.call("run", [1, 2], capture_output=True, timeout=30)
            print(reply.result(), reply.stdout)
    """

    def __init__(
        self,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        on_stderr: Callable[[bytes], None] | None = None,
        launcher: list[str] | None = None,
        **popen_options: Any,
    ) -> None:
        self.python = python
        self.launcher = list(launcher or [])
        self.env = dict(env) if env is not None else None
        self.cwd = os.fspath(cwd) if cwd is not None else None
        self.on_stderr = on_stderr
        self.popen_options = popen_options
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: collections.deque[bytes] = collections.deque()
        self._stderr_size = 0
        self._stderr_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # ----------------------------------------------------------- lifecycle

    def start(self) -> WorkerProcess:
        """Start the subprocess (once).

        Raises:
            OSError: The interpreter cannot be started.
        """
        if self._process is not None:
            return self
        self._process = subprocess.Popen(
            [*self.launcher, self.python, "-m", "dlhub_runtime.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,  # its own process group: a kill reaches its children too
            **self.popen_options,
        )
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name=f"dlhub-worker-{self._process.pid}-stderr", daemon=True
        )
        self._stderr_thread.start()
        return self

    @property
    def pid(self) -> int | None:
        """The worker's process id (``None`` before :meth:`start`)."""
        return self._process.pid if self._process else None

    @property
    def alive(self) -> bool:
        """Whether the worker process is running."""
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code once the worker has ended (negative: killed by that signal)."""
        return self._process.poll() if self._process else None

    def kill(self) -> None:
        """Kill the worker and every process it started, and reap it."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                process.kill()
        process.wait()
        self._close_pipes()

    def close(self, timeout: float = 5.0) -> None:
        """Ask the worker to exit; kill it if it has not within ``timeout`` seconds."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            try:
                self.request({"op": "shutdown"}, timeout=timeout)
                process.wait(timeout=timeout)
            except (WorkerCrashed, subprocess.TimeoutExpired, OSError):
                pass
        self.kill()

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ requests

    def load(
        self,
        document: dict[str, Any],
        folder: str | os.PathLike[str],
        *,
        capture_output: bool = True,
        timeout: float | None = None,
    ) -> Reply:
        """Load the servable in the worker (starting it if needed).

        Args:
            document: The servable's metadata document.
            folder: Folder holding its files, as the worker sees it.
            capture_output: Capture what loading prints (in the reply, or the error).
            timeout: Seconds to wait; the worker is killed past it.

        Returns:
            The reply, with ``timing["load"]``.

        Raises:
            ServableLoadError: Loading failed; carries the worker's traceback and output.
            WorkerCrashed: The worker died while loading.
            WorkerTimeout: It did not finish in time (and was killed).
        """
        message = {
            "op": "load",
            "document": document,
            "folder": os.fspath(folder),
            "capture_output": capture_output,
        }
        reply = self.request(message, timeout=timeout)
        if not reply.ok:
            error = reply.error or {}
            raise ServableLoadError(
                error.get("type", "Error"),
                error.get("message", ""),
                error.get("traceback", ""),
                stdout=reply.stdout,
                stderr=reply.stderr,
            )
        return reply

    def call(
        self,
        method: str = "run",
        inputs: Any = None,
        parameters: dict[str, Any] | None = None,
        *,
        capture_output: bool = False,
        timeout: float | None = None,
        keep_output: bool = False,
    ) -> Reply:
        """Run a method of the loaded servable.

        A servable's exception does not raise here: it comes back as a reply with
        ``ok=False`` (call :meth:`Reply.result` to raise it), and the worker keeps serving.

        Args:
            method: The method (``"run"`` by default).
            inputs: The inputs; :class:`~dlhub_runtime.codec.FileRef` values reach the
                servable as local paths.
            parameters: Overrides of the method's default parameters.
            capture_output: Return what the call printed in ``reply.stdout``/``reply.stderr``.
            timeout: Seconds to wait for the reply; the worker is killed past it.
            keep_output: Leave a large output undecoded (see :meth:`request`).

        Raises:
            CodecError: The inputs hold a value the wire cannot carry (nothing was sent).
            WorkerCrashed: The worker died during the call.
            WorkerTimeout: No reply within ``timeout`` (the worker was killed).
        """
        message = {
            "op": "call",
            "method": method,
            "inputs": inputs,
            "parameters": parameters or {},
            "capture_output": capture_output,
        }
        return self.request(message, timeout=timeout, keep_output=keep_output)

    def request(
        self, message: dict[str, Any], timeout: float | None = None, *, keep_output: bool = False
    ) -> Reply:
        """Send one request and wait for its reply (the building block of the other methods).

        ``inputs`` may be :class:`~dlhub_runtime.codec.Packed` (sent as they are). With
        ``keep_output``, a large reply's ``output`` stays :class:`Packed` too, for a
        caller that passes it on (the hub) rather than use it.

        Raises:
            CodecError: The message cannot be encoded.
            WorkerCrashed: The worker is not running or died before replying.
            WorkerTimeout: No reply within ``timeout``.
        """
        message = {**message, "id": next(self._ids)}
        try:
            payload = encode_parts(message, name="request")
        except CodecError:
            if "inputs" in message:
                encode(message["inputs"], name="input")  # raises with the input's own path
            raise
        what = f"{message.get('op')} {message.get('method') or ''}".strip()
        with self._lock:
            self.start()
            process = self._process
            assert process is not None and process.stdin is not None
            if process.poll() is not None:
                raise self._crashed("the worker is not running")
            deadline = None if timeout is None else time.monotonic() + timeout
            try:
                write_frame(process.stdin, payload)
            except (BrokenPipeError, ConnectionResetError, ValueError):
                raise self._crashed(f"the worker stopped before receiving {what!r}") from None
            header = self._receive(HEADER_SIZE, deadline, what, timeout)
            body = self._receive(frame_length(header), deadline, what, timeout)
        return Reply.from_message(decode_keeping(body, ("output",)) if keep_output else decode(body))

    # ------------------------------------------------------------- helpers

    def _receive(
        self, size: int, deadline: float | None, what: str, timeout: float | None
    ) -> bytearray:
        process = self._process
        assert process is not None and process.stdout is not None
        stream = process.stdout
        buffer = bytearray(size)
        view = memoryview(buffer)
        received = 0
        while received < size:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                ready = remaining > 0 and select.select([stream], [], [], remaining)[0]
                if not ready:
                    self.kill()
                    raise WorkerTimeout(
                        f"the worker did not answer {what!r} within {timeout:g} s; it was killed",
                        stderr_tail=self.stderr_tail(),
                    )
            count = stream.readinto(view[received:])  # type: ignore[attr-defined]
            if not count:
                raise self._crashed(f"the worker died while running {what!r}")
            received += count
        return buffer

    def _crashed(self, message: str) -> WorkerCrashed:
        process = self._process
        returncode = None
        if process is not None:
            try:
                returncode = process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pipe closed but still running: make it stop
                self.kill()
                returncode = process.returncode
            if self._stderr_thread is not None:
                self._stderr_thread.join(timeout=2)
            self._close_pipes()
        return WorkerCrashed(message, returncode=returncode, stderr_tail=self.stderr_tail())

    def _close_pipes(self) -> None:
        process = self._process
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def _drain_stderr(self) -> None:
        process = self._process
        assert process is not None and process.stderr is not None
        stream = process.stderr
        while True:
            chunk = stream.read(65536)
            if not chunk:
                break
            self._stderr.append(chunk)
            self._stderr_size += len(chunk)
            while self._stderr_size > _STDERR_KEPT and len(self._stderr) > 1:
                self._stderr_size -= len(self._stderr.popleft())
            if self.on_stderr is not None:
                try:
                    self.on_stderr(chunk)
                except Exception:  # a failing log must not stop the draining
                    pass
        stream.close()

    def stderr_tail(self, lines: int = 20) -> str:
        """The last lines the worker wrote to its stderr."""
        text = b"".join(self._stderr).decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])
