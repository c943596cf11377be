"""Errors raised by the DLHub SDK.

Every error the SDK raises on purpose derives from :class:`DLHubError`, and
each specific error also derives from the builtin it resembles, so code that
catches ``ValueError`` or ``LookupError`` keeps working::

    DLHubError
    ├── InvalidMetadata (ValueError)          a document or setter argument is wrong
    │   └── InvalidArgumentType                an argument-type block breaks a rule of the manual
    ├── InputValidationError (ValueError)      a value does not match its argument type
    ├── RequirementError (ValueError)          a requirement cannot be resolved (detect / latest)
    └── UnknownServableType (InvalidMetadata)  a document names a servable type we do not know
"""

from __future__ import annotations

__all__ = [
    "DLHubError",
    "InputValidationError",
    "InvalidArgumentType",
    "InvalidMetadata",
    "RequirementError",
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
