"""Turning a DLHub document into what the search index stores.

A document gives:

* **full text**, in columns ranked differently (a word in the title counts more
  than one in a description of an input): see :data:`TEXT_COLUMNS`;
* **field values**: every leaf of the document under its dotted path (array
  positions dropped, so ``dlhub.domains`` holds each domain), typed: strings (with
  their words), numbers, booleans; strings that are numbers or ISO dates also get
  a numeric value;
* the **paths present** (for ``field:*``), each leaf's path and all its parents;
* who may see it and which servable and version it is.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dlhub_server.search.analysis import parse_date, parse_number, words

__all__ = [
    "KEYWORD_LIMIT",
    "TEXT_COLUMNS",
    "IndexedDocument",
    "StringValue",
    "analyze_document",
    "leaves",
]

#: Full-text columns and their BM25 weights: a match in a title outranks one in an abstract.
TEXT_COLUMNS: dict[str, float] = {
    "title": 10.0,
    "names": 6.0,
    "authors": 5.0,
    "domains": 4.0,
    "type": 4.0,
    "abstract": 2.0,
    "methods": 1.5,
    "io": 1.5,
    "other": 0.5,
}

#: Strings longer than this are found by their words only, not compared as whole
#: values (ranges on text, whole-value wildcards, sorting, facets), as Elasticsearch
#: does with ``ignore_above``.
KEYWORD_LIMIT = 256

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Paths whose strings go to a named full-text column (the rest go to "other").
_COLUMN_OF_PATH = {
    "datacite.titles.title": "title",
    "dlhub.title": "title",
    "dlhub.name": "names",
    "dlhub.shorthand_name": "names",
    "dlhub.owner": "names",
    "datacite.creators.creatorName": "authors",
    "datacite.contributors.contributorName": "authors",
    "dlhub.domains": "domains",
    "datacite.subjects.subject": "domains",
    "servable.type": "type",
    "servable.model_type": "type",
    "dlhub.type": "type",
}

# Paths (and everything below) kept out of the full text: identifiers, hashes,
# access lists and duplicates of what a column already holds. They stay searchable
# as fields.
_NOT_FULL_TEXT = (
    "dlhub.id",
    "dlhub.file_hashes",
    "dlhub.files",
    "dlhub.visible_to",
    "dlhub.publication_date",
    "dlhub.servable_version",
    "datacite.creators.familyName",
    "datacite.creators.givenName",
    "datacite.descriptions.descriptionType",
    "datacite.identifier.identifierType",
    "datacite.relatedIdentifiers.relatedIdentifierType",
    "datacite.relatedIdentifiers.relationType",
    "datacite.resourceType",
)

_IO_PATH = re.compile(r"^servable\.methods\.[^.]+\.(input|output|parameters)(\..+)?$")


@dataclass(frozen=True)
class StringValue:
    """A string leaf: its path, the text as written, and its words."""

    path: str
    text: str
    words: tuple[str, ...]


@dataclass
class IndexedDocument:
    """What the index keeps of one published version (see the module docstring)."""

    version_id: str
    owner: str | None
    name: str
    servable_version: int | None
    publication_date: int | None
    visible_to: list[str]
    document_json: str
    text: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    strings: list[StringValue] = field(default_factory=list)
    numbers: list[tuple[str, float | int]] = field(default_factory=list)
    booleans: list[tuple[str, bool]] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)

    @property
    def is_public(self) -> bool:
        """Whether anyone, anonymous callers included, may see this version."""
        return "public" in self.visible_to

    def principals(self) -> list[str]:
        """Who may see it besides the public: ``visible_to`` entries and the owner."""
        found = [p for p in self.visible_to if p != "public"]
        if self.owner:
            found.append(f"user:{self.owner}")
        return list(dict.fromkeys(found))


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON value as ``(dotted path, value)``; None leaves are skipped.

    Array positions are not part of paths; dictionary keys that are not identifiers
    (file names, package names with dashes, hashes) are not either, their values
    are found under the parent's path.
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and _IDENTIFIER.match(key):
                yield from leaves(item, f"{path}.{key}" if path else key)
            else:
                yield from leaves(item, path)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item, path)
    elif value is not None and path:
        yield path, value


@functools.lru_cache(maxsize=4096)
def _with_parents(path: str) -> tuple[str, ...]:
    parts = path.split(".")
    return tuple(".".join(parts[:i]) for i in range(1, len(parts) + 1))


@functools.lru_cache(maxsize=4096)
def _column_of(path: str) -> str | None:
    if path in _COLUMN_OF_PATH:
        return _COLUMN_OF_PATH[path]
    if path == "datacite.descriptions.description":
        return None  # sorted by descriptionType in _descriptions
    if any(path == p or path.startswith(p + ".") for p in _NOT_FULL_TEXT):
        return None
    if _IO_PATH.match(path):
        return "io" if path.endswith("description") else "other"
    return "other"


def _descriptions(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    entries = (document.get("datacite") or {}).get("descriptions") or []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("description"), str):
            kind = str(entry.get("descriptionType") or "")
            yield ("methods" if kind.lower() == "methods" else "abstract"), entry["description"]


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        number = parse_number(value)
        return number if isinstance(number, int) else None
    return None


def analyze_document(document: Mapping[str, Any]) -> IndexedDocument:
    """Extract what the index stores from a published document.

    Args:
        document: A DLHub document (``{"datacite", "dlhub", "servable"}``) with the
            hub's fields: ``dlhub.id`` (required), ``dlhub.owner``, ``dlhub.name``,
            ``dlhub.servable_version``, ``dlhub.publication_date`` (ms),
            ``dlhub.visible_to`` (``public``, ``user:NAME``, ``group:NAME``; when
            missing or empty, only the owner may see the version).

    Returns:
        The analyzed document.

    Raises:
        ValueError: The document is not a JSON object with a ``dlhub.id``, or is
            not JSON-serializable.
    """
    if not isinstance(document, Mapping):
        raise ValueError(f"a document is a JSON object, not {type(document).__name__}")
    dlhub = document.get("dlhub")
    if not isinstance(dlhub, Mapping) or not dlhub.get("id"):
        raise ValueError("the document has no dlhub.id: the hub sets it when it publishes")
    try:
        document_json = json.dumps(document, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the document is not plain JSON: {error}") from None
    owner = dlhub.get("owner")
    shorthand = dlhub.get("shorthand_name")
    name = dlhub.get("name")
    if (not owner or not name) and isinstance(shorthand, str) and "/" in shorthand:
        owner, _, name = shorthand.partition("/")
    visible_to = dlhub.get("visible_to")
    if isinstance(visible_to, str):
        visible_to = [visible_to]
    indexed = IndexedDocument(
        version_id=str(dlhub["id"]),
        owner=str(owner) if owner else None,
        # a version without a name is a servable of its own
        name=str(name) if name else f"\x00{dlhub['id']}",
        servable_version=_integer(dlhub.get("servable_version")),
        publication_date=_integer(dlhub.get("publication_date")),
        visible_to=[str(v) for v in (visible_to or [])],
        document_json=document_json,
        text={column: [] for column in TEXT_COLUMNS},
    )
    for column, text in _descriptions(document):
        found = tuple(words(text))
        if found:
            indexed.text[column].append(found)
    methods = (document.get("servable") or {}).get("methods")
    if isinstance(methods, Mapping):
        for method_name in methods:
            indexed.text["names"].append(tuple(words(str(method_name))))
    for path, value in leaves(document):
        indexed.paths.update(_with_parents(path))
        if isinstance(value, bool):
            indexed.booleans.append((path, value))
        elif isinstance(value, (int, float)):
            indexed.numbers.append((path, value))
        elif isinstance(value, str):
            found = tuple(words(value))
            indexed.strings.append(StringValue(path, value, found))
            number = parse_number(value)
            if number is not None:
                indexed.numbers.append((path, number))
            else:
                span = parse_date(value)
                if span is not None:
                    indexed.numbers.append((path, span.start))
            text_column = _column_of(path)
            if text_column is not None and found:
                indexed.text[text_column].append(found)
    return indexed
