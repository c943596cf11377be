"""How conditions are spelled as words of the FTS5 index.

Besides the plain words of the full-text columns, the ``fields`` and ``meta``
columns hold words the engine makes up. Each contains ``_``, which a word of text
never does (``_`` separates words, see :mod:`dlhub_server.search.analysis`), so a
query for text can never match them, and they can never match each other:

=====================  ===========================================================
``f{path}_{word}``     a word in a string value (or ``true``/``false``) of a path
``n{path}_{number}``   a number of a path (:func:`~dlhub_server.search.analysis.number_key`)
``h{path}_{hash}``     a string value without any word (``"+"``), by its hash
``x_{path}``           the path (or a path below it) has a value
``_``                  the boundary between two values, so a phrase cannot span them
``v_restricted``       the version is not public; then ``v_{hex}`` for each principal
``v_{hex}``            that may see it (``v_`` + ``user:NAME`` or ``group:NAME`` in
                       hexadecimal, the owner included)
=====================  ===========================================================

Public versions carry no marker: the common case costs nothing, and "not
restricted, or restricted to one of my principals" only reads the short lists of
restricted versions.

``{path}`` is the number of the dotted path in ``search_paths``.
"""

from __future__ import annotations

import hashlib

from dlhub_server.search.analysis import number_key

__all__ = [
    "BOUNDARY",
    "RESTRICTED",
    "exact_word",
    "field_word",
    "number_word",
    "path_word",
    "phrase",
    "principal_word",
]

BOUNDARY = "_"
RESTRICTED = "v_restricted"


def field_word(path_id: int, word: str) -> str:
    """A word of a string value of a path."""
    return f"f{path_id}_{word}"


def number_word(path_id: int, value: float | int) -> str:
    """A number of a path."""
    return f"n{path_id}_{number_key(value)}"


def exact_word(path_id: int, folded: str) -> str:
    """A wordless string value of a path, by the hash of its folded text."""
    digest = hashlib.blake2b(folded.encode("utf-8"), digest_size=8).hexdigest()
    return f"h{path_id}_{digest}"


def path_word(path_id: int) -> str:
    """The marker of a path that has a value."""
    return f"x_{path_id}"


def principal_word(principal: str) -> str:
    """The marker of a principal (``user:NAME``, ``group:NAME``)."""
    return "v_" + principal.encode("utf-8").hex()


def phrase(words: list[str] | tuple[str, ...], prefix: bool = False) -> str:
    """An FTS5 phrase of index words (which never contain a double quote)."""
    return '"' + " ".join(words) + '"' + (" *" if prefix else "")
