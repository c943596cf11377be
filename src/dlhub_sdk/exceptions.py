"""Errors raised by the DLHub SDK.

Every error the SDK raises on purpose derives from :class:`DLHubError`, and
each specific error also derives from the builtin it resembles, so code that
catches ``ValueError`` or ``LookupError`` keeps working::

    DLHubError
    ├── InvalidMetadata (ValueError)          a document or setter argument is wrong
    │   ├── InvalidArgumentType                an argument-type block breaks a rule of the manual
    │   └── SchemaValidationError              a document does not match a DLHub JSON schema
    ├── InputValidationError (ValueError)      a value does not match its argument type
    ├── RequirementError (ValueError)          a requirement cannot be resolved (detect / latest)
    ├── UnknownServableType (InvalidMetadata)  a document names a servable type we do not know
    ├── HubError                               the hub answered with an error (status, code, details)
    │   ├── BadRequest (ValueError)            400/422: a malformed request or parameter
    │   ├── AuthenticationError                401, or no credentials: log in (``dlhub login``)
    │   ├── PermissionDenied (PermissionError) 403: not yours (e.g. another owner's servable)
    │   ├── NotFound (LookupError)             404: nothing by that name that you can see
    │   │   ├── ServableNotFound               no such servable or version
    │   │   └── TaskNotFound                   no such task
    │   ├── Conflict                           409: the name is taken
    │   ├── PayloadTooLarge                    413: the upload is bigger than the hub accepts
    │   ├── InvalidUpload (ValueError)         422: the zip is unsafe or lacks listed files
    │   ├── MetadataRejected (InvalidMetadata) 422: the hub refused the document; ``problems``
    │   ├── InputRejected (ValueError)         422: the hub found the inputs do not match the types
    │   ├── RateLimited                        429: too many attempts; ``retry_after`` seconds
    │   └── HubServerError                     5xx: the hub failed
    ├── HubUnavailable (ConnectionError)       the hub cannot be reached (is ``dlhub serve`` running?)
    ├── ServableError (RuntimeError)           the servable raised; carries its type, traceback, output
    │   ├── ServableTimeout (TimeoutError)     it ran past its time limit and was stopped
    │   └── WorkerCrashed                      its worker process died (crash, out of memory)
    └── RepositoryError                        git cannot clone a repository, or it lacks dlhub.json
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "DLHubError",
    "HubError",
    "HubServerError",
    "HubUnavailable",
    "InvalidUpload",
    "MetadataRejected",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "RepositoryError",
    "ServableNotFound",
    "TaskNotFound",
    "TaskNotFinished",
    "InputRejected",
    "InputValidationError",
    "ServableError",
    "ServableTimeout",
    "WorkerCrashed",
    "InvalidArgumentType",
    "InvalidMetadata",
    "RequirementError",
    "SchemaProblem",
    "SchemaValidationError",
    "UnknownServableType",
]


class DLHubError(Exception):
    """Root of every error raised by the DLHub SDK."""


class InvalidMetadata(DLHubError, ValueError):
    """A metadata document, or an argument given to build one, is not valid.

    Attributes:
        field: Dotted path of the offending field (e.g. ``datacite.titles``), when known.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class InvalidArgumentType(InvalidMetadata):
    """An argument-type block (chapter 5 of the manual) breaks one of its rules."""


class SchemaProblem(NamedTuple):
    """One reason a document does not match a schema: a ``(path, message)`` pair."""

    path: str
    message: str

    @property
    def field(self) -> str:
        """Dotted path of the field (the same as :attr:`path`)."""
        return self.path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SchemaValidationError(InvalidMetadata):
    """A document does not match one of the DLHub JSON schemas.

    The message lists every problem, one per line, each with the dotted path of
    its field (``datacite.titles.0.title: ...``).

    Attributes:
        schema_name: The schema the document was checked against (``servable``, ...).
        errors: Every problem as a :class:`SchemaProblem`, a ``(path, message)``
            named tuple, sorted by path.
    """

    def __init__(self, schema_name: str, errors: list[tuple[str, str]]) -> None:
        self.schema_name = schema_name
        self.errors = [SchemaProblem(str(path), str(message)) for path, message in errors]
        count = len(self.errors)
        lines = "\n".join(f"  {path}: {message}" for path, message in self.errors)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"the document does not match the DLHub {schema_name!r} schema ({count} {noun}):\n{lines}"
        )
        # ``field`` names the first offending field; the message already lists them all
        self.field = self.errors[0][0] if self.errors else None

    def __reduce__(self) -> tuple[type[SchemaValidationError], tuple[str, list[tuple[str, str]]]]:
        return (type(self), (self.schema_name, [(e.path, e.message) for e in self.errors]))


class UnknownServableType(InvalidMetadata):
    """A document names a servable type or shim that this SDK does not know."""


class InputValidationError(DLHubError, ValueError):
    """A concrete value does not match the argument type it should follow.

    Attributes:
        path: Where in the value the mismatch is (``input[0]['x']``).
        reason: What is wrong there.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class RequirementError(DLHubError, ValueError):
    """A Python requirement could not be resolved to a version."""


# ---------------------------------------------------------------- errors from the hub
class HubError(DLHubError):
    """The hub answered a request with an error.

    Raised by the client from the hub's JSON error (``{"error": {"code",
    "message", "details"}}``); some are also raised before any request is sent
    (e.g. :class:`AuthenticationError` when no credentials are stored).

    Attributes:
        status_code: HTTP status of the answer (``None`` if raised locally).
        code: The hub's machine-readable error code (e.g. ``servable_not_found``).
        details: Structured details from the hub (e.g. the list of problems).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.details = details

    @property
    def problems(self) -> list[dict[str, Any]]:
        """The problems the hub listed (``[{"field", "message"}]``), if any."""
        if isinstance(self.details, list):
            return [p for p in self.details if isinstance(p, dict)]
        return []


class BadRequest(HubError, ValueError):
    """The hub could not make sense of a request (a malformed parameter or body)."""


class AuthenticationError(HubError):
    """No valid credentials: log in (``dlhub login`` or ``DLHubClient.login``) again."""


class PermissionDenied(HubError, PermissionError):
    """The caller may not do this (e.g. publish a new version of another user's servable)."""


class NotFound(HubError, LookupError):
    """Nothing by that name that the caller can see."""


class ServableNotFound(NotFound):
    """No servable (or version) by that name that the caller can see."""


class TaskNotFound(NotFound):
    """No task with that id that the caller started."""


class TaskNotFinished(DLHubError):
    """The task has not ended yet; ask again later (or use ``get_task_status``)."""


class Conflict(HubError):
    """The request clashes with what exists (e.g. a user name that is taken)."""


class PayloadTooLarge(HubError):
    """The upload, or what it unpacks to, is bigger than the hub accepts."""


class InvalidUpload(HubError, ValueError):
    """The uploaded zip is unsafe or broken, or lacks a file the document lists."""


class MetadataRejected(HubError, InvalidMetadata):
    """The hub refused a metadata document; :attr:`problems` lists every problem."""


class RateLimited(HubError):
    """Too many attempts; try again after :attr:`retry_after` seconds."""

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before trying again, when the hub said."""
        if isinstance(self.details, dict) and "retry_after" in self.details:
            return float(self.details["retry_after"])
        return None


class HubServerError(HubError):
    """The hub failed while handling the request (see the hub's log)."""


class HubUnavailable(DLHubError, ConnectionError):
    """The hub cannot be reached at its URL."""


class RepositoryError(DLHubError):
    """A repository to publish cannot be cloned, or has no usable ``dlhub.json``."""


class InputRejected(HubError, ValueError):
    """422: the hub checked the inputs against the servable's declared types and they differ."""


class ServableError(DLHubError, RuntimeError):
    """The servable raised an exception (or could not run) at the hub.

    Attributes:
        error_type: The servable's exception type (``ValueError``, ``WorkerCrashed``, ...).
        remote_traceback: The traceback from the worker that ran it.
        stdout: What the call printed, when captured.
        stderr: What it wrote to standard error, when captured.
        task_id: The run's task id, for an asynchronous run.
    """

    def __init__(
        self,
        error_type: str,
        message: str,
        remote_traceback: str = "",
        stdout: str = "",
        stderr: str = "",
        task_id: str | None = None,
    ) -> None:
        self.error_type = error_type
        self.remote_traceback = remote_traceback
        self.stdout = stdout
        self.stderr = stderr
        self.task_id = task_id
        text = f"{error_type}: {message}"
        if remote_traceback:
            text += f"\n--- traceback from the servable ---\n{remote_traceback.rstrip()}"
        super().__init__(text)

    @classmethod
    def from_error(
        cls, error: dict[str, Any], stdout: str = "", stderr: str = "", task_id: str | None = None
    ) -> ServableError:
        """The exception for an error block of a run's reply (the subclass its type names)."""
        kind = str(error.get("type") or "Error")
        chosen: type[ServableError] = {
            "ServableTimeout": ServableTimeout,
            "WorkerCrashed": WorkerCrashed,
        }.get(kind, cls)
        return chosen(
            kind,
            str(error.get("message") or ""),
            str(error.get("traceback") or ""),
            stdout,
            stderr,
            task_id,
        )


class ServableTimeout(ServableError, TimeoutError):
    """The servable ran past its time limit; its worker was stopped."""


class WorkerCrashed(ServableError):
    """The worker running the servable died (a crash, ``os._exit``, or out of memory)."""
