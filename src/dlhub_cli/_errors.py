"""One table from the errors a command can meet to the line a user reads, and what to do.

Every command's callback runs inside :func:`friendly_errors` (the ``dlhub`` group
wraps each command it is given, sub-commands included), so a failure prints one line::

    Error: <what went wrong> (<what to do>)

and exits with status 1. The global ``--debug`` flag (``dlhub --debug CMD ...``)
lets the original exception through, traceback and all. Click's own usage errors
keep click's format and status 2.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from dlhub_sdk import exceptions as exc

__all__ = [
    "HINTS",
    "CliError",
    "Hint",
    "InvalidOption",
    "PublicationFailed",
    "RunFailed",
    "ScriptExists",
    "ScriptFailed",
    "TaskNotFinished",
    "explain",
    "friendly_errors",
]

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A failure whose message is already complete; printed as ``Error: message``, status 1."""


class InvalidOption(exc.DLHubError, ValueError):
    """A command-line value that cannot be used (malformed JSON, a bad dotted path...)."""


class ScriptExists(exc.DLHubError, FileExistsError):
    """``dlhub init`` would overwrite a describe script."""


class ScriptFailed(exc.DLHubError):
    """The describe script ``dlhub init`` wrote did not run."""


class PublicationFailed(exc.DLHubError):
    """A publication task ended with a failed step."""


class RunFailed(exc.DLHubError):
    """A servable ran and failed (``dlhub run --debug`` reports it this way)."""


@dataclass(frozen=True)
class Hint:
    """What to do about one kind of error.

    Attributes:
        error: The exception class, or several (subclasses match too).
        advice: What the user should do, shown in parentheses after the message.
        command: Only for this command (e.g. ``login``); ``None`` for every command.
    """

    error: type[BaseException] | tuple[type[BaseException], ...]
    advice: str
    command: str | None = None


#: Raised by ``client.get_result`` while a run goes on.
TaskNotFinished = exc.TaskNotFinished

_LOGIN = "log in with `dlhub login`, or make an account with `dlhub login --register`"

#: Checked in order: the first row whose class matches (and whose command, if any, is the
#: one running) gives the advice; ``{command}`` stands for the running command's name.
#: Command-specific rows come before the general rows of the same class.
HINTS: list[Hint] = [
    # reaching the hub, and accounts
    Hint(exc.HubUnavailable, "start a hub with `dlhub serve`, or point DLHUB_URL / --url at one"),
    Hint(
        exc.AuthenticationError,
        "check the user name and password; new users add --register",
        "login",
    ),
    Hint(exc.AuthenticationError, _LOGIN),
    Hint(exc.Conflict, "pick another name, or log in to it without --register", "login"),
    Hint(
        exc.PermissionDenied,
        "this hub's sign-up is closed: ask its administrator for an account "
        "(`dlhub users add NAME`)",
        "login",
    ),
    Hint(
        exc.PermissionDenied,
        "only a servable's owner may change it; publish under your own account instead",
    ),
    Hint(exc.RateLimited, "wait a moment and try again"),
    # names and ids
    Hint(
        exc.ServableNotFound,
        "check the name with `dlhub servables` or `dlhub search`; names are owner/name[:VERSION]",
    ),
    Hint(
        exc.TaskNotFound,
        "use the id printed when the task started, logged in as the user who started it",
    ),
    Hint(
        exc.NotFound,
        "check the name; a hub older than this command may lack the route: compare "
        "`dlhub --version` with the hub's /api/v1/info",
    ),
    Hint(exc.Conflict, "pick another name"),
    Hint(KeyError, "see the servable's methods with `dlhub methods NAME`", "methods"),
    # describing and publishing
    Hint(ScriptExists, "--force overwrites it; --filename writes another one"),
    Hint(ScriptFailed, "fix it, and run it with python to see the whole traceback"),
    Hint(exc.InvalidMetadata, "see `dlhub init --help` for the form of each option", "init"),
    Hint(exc.MetadataRejected, "see what `dlhub edit --help` can change", "edit"),
    Hint(
        exc.InvalidMetadata,
        "fix describe_servable.py, run it to rewrite dlhub.json, and publish again",
        "publish",
    ),
    Hint(exc.InvalidMetadata, "fix the field named in the message and try again"),
    Hint(
        FileNotFoundError,
        "write dlhub.json with `python describe_servable.py` (start one with `dlhub init`)",
        "publish",
    ),
    Hint(exc.InvalidUpload, "list only regular files inside the servable's folder"),
    Hint(
        exc.PayloadTooLarge,
        "make the files smaller, or ask the hub's administrator to raise DLHUB_MAX_UPLOAD_BYTES",
    ),
    Hint(
        exc.RepositoryError,
        "check the URL, and that dlhub.json is at the repository's root or at --path",
    ),
    Hint(PublicationFailed, "see every step's log with `dlhub status --task ID`"),
    # running
    Hint(
        (exc.InputValidationError, exc.InputRejected),
        "make the input match the servable's declared input (`dlhub methods NAME`)",
    ),
    Hint(
        exc.ServableTimeout,
        "it ran past its time limit: try a smaller input, or a larger --timeout",
    ),
    Hint(
        exc.WorkerCrashed,
        "its worker died (a crash, or out of memory) and was replaced: try again, perhaps "
        "with a smaller input",
    ),
    Hint(
        exc.ServableError,
        "the servable itself failed: `dlhub run --debug ...` shows what it printed and its "
        "traceback",
    ),
    Hint(RunFailed, "the servable itself failed: its output and traceback are above"),
    Hint(TaskNotFinished, "ask again later, or wait for it: `dlhub result --task ID --wait`"),
    Hint(
        TimeoutError,
        "it goes on at the hub: follow it with `dlhub status --task ID`, or wait longer "
        "with --timeout",
    ),
    # anything else
    Hint(InvalidOption, "see the examples in `dlhub {command} --help`"),
    Hint(exc.HubServerError, "the hub failed while answering: its log says why"),
    Hint(exc.BadRequest, "check the command's arguments: `dlhub {command} --help`"),
    Hint(exc.HubError, "the hub refused the request: check the command's arguments"),
    Hint(FileNotFoundError, "check the path"),
]

_UNEXPECTED = (
    "this is a bug in dlhub: run the command again as `dlhub --debug ...` for the "
    "traceback, and report it"
)


def _one_line(message: str) -> str:
    """Several lines (a schema error lists one problem a line) joined into one."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    head, rest = lines[0], lines[1:]
    if not rest:
        return head
    return f"{head.rstrip(':')}: {'; '.join(rest)}"


def _problems(error: BaseException) -> str:
    """The hub's list of problems, when its message does not already list them."""
    problems = error.problems if isinstance(error, exc.HubError) else []
    parts = []
    for problem in problems:
        field, text = problem.get("field"), problem.get("message")
        if text and str(text) not in str(error):
            parts.append(f"{field}: {text}" if field else str(text))
    return "; ".join(parts)


def explain(error: BaseException, command: str | None = None) -> str:
    """One line: what went wrong, then (in parentheses) what to do.

    Args:
        error: The exception.
        command: The command that was running (some advice is for one command only).
    """
    # str(KeyError("x")) is "'x'": the message is its argument
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    # A servable's traceback is for --debug; the line says what it raised.
    text = text.split("\n--- traceback", 1)[0]
    message = _one_line(text) or type(error).__name__
    remote = isinstance(error, (exc.HubError, exc.HubUnavailable))
    if remote and not (isinstance(error, exc.HubError) and error.problems):
        # The SDK and the hub write "what went wrong; what to do (in Python)": the
        # advice below is for the command line instead. (A list of problems is also
        # joined with "; ", so it is kept whole.)
        message = message.split("; ", 1)[0]
    listed = _problems(error)
    if listed:
        message = f"{message}: {listed}"
    for hint in HINTS:
        if isinstance(error, hint.error) and hint.command in (None, command):
            return f"{message} ({hint.advice.format(command=command or 'COMMAND')})"
    return f"{type(error).__name__}: {message} ({_UNEXPECTED})"


def _debugging(context: click.Context | None) -> bool:
    if context is None:
        return False
    root = context.find_root()
    obj = root.obj
    return bool(root.params.get("debug") or getattr(obj, "debug", False))


@contextmanager
def error_lines(command: str | None = None) -> Iterator[None]:
    """Turn any error raised inside into a :class:`CliError` carrying :func:`explain`'s line."""
    try:
        yield
    except (click.ClickException, click.Abort, click.exceptions.Exit):
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception as error:
        if _debugging(click.get_current_context(silent=True)):
            raise
        raise CliError(explain(error, command)) from None


def friendly_errors(command: F) -> F:
    """Decorate a command's callback so its errors print as one line (see the module's doc).

    The command's name (for :attr:`Hint.command`) is the click context's ``info_name``.
    Decorating twice is harmless.
    """
    if getattr(command, "__dlhub_friendly__", False):
        return command

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = click.get_current_context(silent=True)
        with error_lines(context.info_name if context is not None else None):
            return command(*args, **kwargs)

    wrapper.__dlhub_friendly__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
