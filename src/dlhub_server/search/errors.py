"""Errors of the search engine.

::

    ValueError
    └── QuerySyntaxError      a query (or sort) the engine cannot read; the hub answers 400
"""

from __future__ import annotations

__all__ = ["QuerySyntaxError"]


class QuerySyntaxError(ValueError):
    """A malformed or unsupported query.

    The message says what is wrong and, when it is known, where: the position
    (0-based character offset into the query) and the fragment of the query found
    there.

    Attributes:
        message: What is wrong and how to fix it.
        query: The query that was read.
        position: Offset of the error in ``query``, or ``None`` when the query as a
            whole is at fault.
        fragment: The text of the query at ``position`` (at most 30 characters).
    """

    def __init__(self, message: str, query: str = "", position: int | None = None) -> None:
        self.message = message
        self.query = query
        self.position = position
        self.fragment = "" if position is None else query[position : position + 30]
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        if self.position >= len(self.query):
            return f"{self.message} (at the end of the query)"
        return f"{self.message} (at position {self.position}: {self.fragment!r})"

    @property
    def details(self) -> dict[str, object]:
        """The error as JSON-ready data: ``message``, ``position``, ``fragment``."""
        return {"message": self.message, "position": self.position, "fragment": self.fragment}
