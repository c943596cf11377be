"""Errors raised by the DLHub runtime (the codec, the shims and the worker channel).

The runtime cannot import ``dlhub_sdk`` (it is installed alone into every servable's
environment), so it has its own small tree; the SDK and the hub re-export or wrap it::

    RuntimeFailure
    ├── CodecError (ValueError)          a value cannot travel on the wire, or bytes are not a message
    ├── ProtocolError                    a frame on the worker channel is malformed
    ├── ServableLoadError                a servable could not be loaded (carries the worker's traceback)
    ├── ServableError                    the servable raised while running (carries its traceback)
    │   └── MethodNotFound (LookupError)  the document has no such method
    └── WorkerCrashed                    the worker process died (exit code or signal)
        └── WorkerTimeout (TimeoutError) no reply in time; the worker was killed
"""

from __future__ import annotations

import signal

__all__ = [
    "CodecError",
    "MethodNotFound",
    "ProtocolError",
    "RuntimeFailure",
    "ServableError",
    "ServableLoadError",
    "WorkerCrashed",
    "WorkerTimeout",
]


class RuntimeFailure(Exception):
    """Root of every error the DLHub runtime raises on purpose."""


class CodecError(RuntimeFailure, ValueError):
    """A value cannot be encoded for the wire, or bytes cannot be decoded.

    Attributes:
        path: Where in the value the problem is (``input[2]['x']``), when known.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class ProtocolError(RuntimeFailure):
    """A frame on the channel between a worker and its client is malformed."""


class ServableError(RuntimeFailure):
    """The servable raised an exception; its type, message and traceback come from the worker.

    Attributes:
        error_type: Name of the exception class raised inside the worker (``ValueError``).
        error_message: ``str()`` of that exception.
        remote_traceback: The formatted traceback, as the worker saw it.
        stdout: What the servable printed before failing, when it was captured.
        stderr: What it wrote to standard error, when it was captured.
    """

    def __init__(
        self,
        error_type: str,
        error_message: str,
        remote_traceback: str = "",
        stdout: str = "",
        stderr: str = "",
    ) -> None:
        self.error_type = error_type
        self.error_message = error_message
        self.remote_traceback = remote_traceback
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"{error_type}: {error_message}")

    def __str__(self) -> str:
        text = super().__str__()
        if self.remote_traceback:
            text += "\n\nTraceback from the servable:\n" + self.remote_traceback.rstrip()
        if self.stderr.strip():
            text += "\n\nIts stderr:\n" + self.stderr.rstrip()
        return text


class MethodNotFound(ServableError, LookupError):
    """A call named a method that the servable's document does not define."""

    def __init__(self, method: str, available: list[str]) -> None:
        super().__init__(
            "MethodNotFound",
            f"the servable has no method {method!r}; it has: {', '.join(sorted(available))}",
        )


class ServableLoadError(ServableError):
    """The worker could not load the servable (bad document, missing file, import error...)."""


class WorkerCrashed(RuntimeFailure):
    """The worker process ended without answering.

    Attributes:
        returncode: The process's exit code; negative for a signal (``-9`` is SIGKILL).
        stderr_tail: The last lines the worker wrote to its standard error.
    """

    def __init__(self, message: str, returncode: int | None = None, stderr_tail: str = "") -> None:
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        text = message
        if returncode is not None:
            text += f" ({describe_exit(returncode)})"
        if stderr_tail.strip():
            text += "\nLast lines of the worker's stderr:\n" + stderr_tail.rstrip()
        super().__init__(text)


class WorkerTimeout(WorkerCrashed, TimeoutError):
    """The worker did not answer within the timeout and was killed."""


def describe_exit(returncode: int) -> str:
    """Words for a process's return code: ``exit code 1`` or ``killed by signal 9 (SIGKILL)``."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"killed by signal {-returncode}"
    return f"killed by signal {-returncode} ({name})"
