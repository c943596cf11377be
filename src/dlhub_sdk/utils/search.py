"""Building search queries for the DLHub library (the ``client.query`` helper).

:class:`DLHubSearchHelper` writes queries in the Lucene query-string syntax that the
hub's advanced search reads (the Globus Search syntax of the manual), over the dotted
paths of the DLHub document (``dlhub.name``, ``datacite.creators.creatorName``, ...)::

    client.query.match_term("servable.type", "Keras Model").match_domains("chemistry").search()
    # searches  servable.type:"Keras Model" AND dlhub.domains:"chemistry"

How a query is written:

* Each ``match_*`` call adds a clause; clauses are joined with ``AND``. A call with
  ``required=False`` instead joins its clause with ``OR`` to the clause before it,
  and such alternatives are grouped in parentheses: ``a AND (b OR c)``.
* String values are written as quoted phrases (``field:"a value"``), in which only
  ``"`` and ``\\`` need escaping, so any text, including the Lucene special
  characters ``+ - && || ! ( ) { } [ ] ^ " ~ * ? : \\ /``, is matched literally.
* Wildcards: pass ``wildcard=True`` to ``match_term``, ``match_field`` or
  ``exclude_field`` to keep ``*`` (any characters) and ``?`` (one character) as
  wildcards. The value is then written as a single escaped term instead of a phrase
  (Lucene ignores wildcards inside phrases): ``dlhub.name:my\\ model*``.
* Numbers are written bare (``dlhub.servable_version:3``), booleans as ``true`` /
  ``false``, and a ``datetime`` as milliseconds since the epoch (the unit of
  ``dlhub.publication_date``; a naive datetime is taken as UTC).
* ``match_exists(field)`` writes ``field:*``; ``exclude_field`` and
  ``match_not_exists`` write ``NOT field:...``.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from typing_extensions import Self

__all__ = [
    "DLHubSearchHelper",
    "SearchBackend",
    "escape_term",
    "filter_latest",
    "get_method_details",
    "quote_phrase",
]

# Characters with a meaning in the Lucene query syntax, escaped with a backslash in
# bare terms (``&`` and ``|`` only matter doubled, escaping them singly is harmless).
_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')
_WILDCARDS = set("*?")
_OPERATORS = {"AND", "OR", "NOT"}
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/")

AUTHOR_FIELD = "datacite.creators.creatorName"
DOMAIN_FIELD = "dlhub.domains"
OWNER_FIELD = "dlhub.owner"
NAME_FIELD = "dlhub.name"
PUBLICATION_DATE_FIELD = "dlhub.publication_date"
VERSION_FIELD = "dlhub.servable_version"
DOI_FIELDS = ("datacite.identifier.identifier", "datacite.relatedIdentifiers.relatedIdentifier")


class SearchBackend(Protocol):
    """What the helper needs to run a query: ``DLHubClient`` is one."""

    def search(
        self,
        query: str,
        advanced: bool = False,
        limit: int | None = None,
        only_latest: bool = True,
        sort: list[dict[str, str]] | None = None,
        get_info: bool = False,
    ) -> Any:
        """Run a query; return the documents, or ``(documents, info)`` with ``get_info``."""
        ...


# --- writing values ------------------------------------------------------------------


def quote_phrase(text: str) -> str:
    """Write text as a Lucene phrase that matches it literally.

    Args:
        text: Any text.

    Returns:
        The text in double quotes, with ``"`` and ``\\`` escaped (``'a "b"'`` becomes
        ``"a \\"b\\""``).
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def escape_term(text: str, wildcard: bool = False) -> str:
    """Write text as one bare Lucene term, escaping every special character.

    Args:
        text: Any text.
        wildcard: Keep ``*`` and ``?`` unescaped so they act as wildcards.

    Returns:
        The escaped term; spaces are escaped too, so the text stays one term, and
        the words ``AND``, ``OR`` and ``NOT`` are escaped so they are not operators.

    Raises:
        ValueError: The text holds a line break (write it as a phrase instead).
    """
    if "\n" in text or "\r" in text:
        # Lucene parsers do not read an escaped line break; a phrase can hold one
        raise ValueError(f"a bare term cannot contain a line break: {text!r}")
    keep = _WILDCARDS if wildcard else set()
    escaped = "".join(
        "\\" + char if (char in _SPECIAL and char not in keep) or char.isspace() else char
        for char in text
    )
    # a bare AND, OR or NOT would read as an operator
    return "\\" + escaped if escaped in _OPERATORS else escaped


def _format_value(value: Any, wildcard: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return str(_epoch_ms(value))
    if isinstance(value, numbers.Real):
        number = int(value) if isinstance(value, numbers.Integral) else float(value)
        if not math.isfinite(number):
            raise ValueError(f"cannot search for the number {value}")
        # a leading minus would read as "prohibit"
        return escape_term(repr(number))
    if not isinstance(value, str):
        raise TypeError(
            f"cannot search for a value of type {type(value).__name__}: "
            "use a string, a number, a boolean or a datetime"
        )
    if not value:
        raise ValueError("cannot search for an empty string")
    if wildcard:
        return escape_term(value, wildcard=True)
    return quote_phrase(value)


def _format_bound(value: Any) -> str:
    if value == "*" or value is None:
        return "*"
    if isinstance(value, str):
        return quote_phrase(value)
    return _format_value(value)


def _epoch_ms(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


def _check_field(field: str) -> str:
    if not isinstance(field, str) or not _FIELD.match(field):
        raise ValueError(
            f"{field!r} is not a field name; use a dotted path of the DLHub document "
            "such as 'dlhub.name' or 'datacite.creators.creatorName'"
        )
    return field


def _as_list(values: str | Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return list(values)


# --- the helper ----------------------------------------------------------------------


class DLHubSearchHelper:
    """Build a query on DLHub's metadata one condition at a time, then run it.

    Every ``match_*`` method returns the helper, so conditions chain::

        helper.match_servable(owner="alice").match_domains(["chemistry", "materials"]).search()

    Args:
        client: The object that runs the query, normally a ``DLHubClient``: anything
            with ``search(query, advanced, limit, only_latest, sort, get_info)``.
            Without a client the helper still builds queries (see
            :meth:`current_query`) but cannot run them.
        query: An advanced query string to start from (it becomes the first clause).
    """

    def __init__(self, client: SearchBackend | None = None, query: str | None = None) -> None:
        self.client = client
        # The query in conjunctive form: AND of groups, each group an OR of clauses.
        self._groups: list[list[str]] = []
        self._negated: list[bool] = []
        self._sort: list[dict[str, str]] = []
        if query:
            self._add(f"({query})" if " " in query.strip() else query.strip())

    # ----- state

    @property
    def initialized(self) -> bool:
        """Whether any condition has been added to the query."""
        return bool(self._groups)

    def current_query(self) -> str:
        """The query as a Lucene query string (empty when nothing was added)."""
        parts = []
        for group in self._groups:
            if len(group) == 1 or len(self._groups) == 1:
                parts.append(" OR ".join(group))
            else:
                parts.append("(" + " OR ".join(group) + ")")
        return " AND ".join(parts)

    @property
    def sort(self) -> list[dict[str, str]]:
        """The sort order: ``[{"field_name": ..., "order": "asc" | "desc"}, ...]``."""
        return [dict(entry) for entry in self._sort]

    def reset_query(self) -> Self:
        """Remove every condition and sort field."""
        self._groups = []
        self._negated = []
        self._sort = []
        return self

    def __repr__(self) -> str:
        return f"DLHubSearchHelper(query={self.current_query()!r})"

    # ----- core clauses

    def _add(self, clause: str, required: bool = True, negated: bool = False) -> Self:
        if required or not self._groups:
            self._groups.append([clause])
            self._negated.append(negated)
            return self
        if negated or self._negated[-1]:
            raise ValueError(
                "an exclusion cannot be one of several alternatives (required=False); "
                "add it as its own condition"
            )
        self._groups[-1].append(clause)
        return self

    def match_term(
        self,
        field_or_term: str,
        value: Any = None,
        required: bool = True,
        wildcard: bool = False,
    ) -> Self:
        """Match a free-text term, or a value in a field.

        ``match_term("deep learning")`` matches the phrase anywhere in the metadata;
        ``match_term("servable.type", "Keras Model")`` is ``match_field``.

        Args:
            field_or_term: The text to find, or the field when ``value`` is given.
            value: The value the field must hold.
            required: ``True`` joins the condition with ``AND``; ``False`` with ``OR``
                to the previous condition.
            wildcard: Treat ``*`` and ``?`` in the text as wildcards.

        Returns:
            The helper itself.
        """
        if value is not None:
            return self.match_field(field_or_term, value, required=required, wildcard=wildcard)
        return self._add(_format_value(field_or_term, wildcard=wildcard), required=required)

    def match_field(
        self, field: str, value: Any, required: bool = True, wildcard: bool = False
    ) -> Self:
        """Require a field to hold a value (``field:"value"``).

        Args:
            field: Dotted path of the field (``dlhub.name``).
            value: The value: text (matched literally unless ``wildcard``), a number,
                a boolean or a datetime.
            required: ``True`` joins with ``AND``, ``False`` with ``OR`` to the previous
                condition.
            wildcard: Treat ``*`` and ``?`` in the text as wildcards.

        Returns:
            The helper itself.

        Raises:
            ValueError: The field is not a dotted path, or the value is empty.
            TypeError: The value is not text, a number, a boolean or a datetime.
        """
        clause = f"{_check_field(field)}:{_format_value(value, wildcard=wildcard)}"
        return self._add(clause, required=required)

    def exclude_field(self, field: str, value: Any, wildcard: bool = False) -> Self:
        """Exclude the results whose field holds a value (``NOT field:"value"``).

        Args:
            field: Dotted path of the field.
            value: The value to exclude (as in :meth:`match_field`).
            wildcard: Treat ``*`` and ``?`` in the text as wildcards.

        Returns:
            The helper itself.
        """
        clause = f"NOT {_check_field(field)}:{_format_value(value, wildcard=wildcard)}"
        return self._add(clause, negated=True)

    def match_range(
        self,
        field: str,
        start: Any = "*",
        stop: Any = "*",
        inclusive: bool = True,
        required: bool = True,
    ) -> Self:
        """Require a field to lie in a range (``field:[start TO stop]``).

        Args:
            field: Dotted path of the field.
            start: Lower bound; ``"*"`` for none. Numbers, text or datetimes
                (written as milliseconds since the epoch, like ``dlhub.publication_date``).
            stop: Upper bound; ``"*"`` for none.
            inclusive: Whether the bounds themselves match (``[...]``) or not (``{...}``).
            required: ``True`` joins with ``AND``, ``False`` with ``OR``.

        Returns:
            The helper itself.
        """
        if start == "*" and stop == "*":
            return self.match_exists(field, required=required)
        opening, closing = ("[", "]") if inclusive else ("{", "}")
        clause = f"{_check_field(field)}:{opening}{_format_bound(start)} TO {_format_bound(stop)}{closing}"
        return self._add(clause, required=required)

    def match_exists(self, field: str, required: bool = True) -> Self:
        """Require a field to have some value (``field:*``).

        Args:
            field: Dotted path of the field.
            required: ``True`` joins with ``AND``, ``False`` with ``OR``.

        Returns:
            The helper itself.
        """
        return self._add(f"{_check_field(field)}:*", required=required)

    def match_not_exists(self, field: str) -> Self:
        """Require a field to be absent (``NOT field:*``).

        Args:
            field: Dotted path of the field.

        Returns:
            The helper itself.
        """
        return self._add(f"NOT {_check_field(field)}:*", negated=True)

    def add_sort(self, field: str, ascending: bool = True) -> Self:
        """Sort the results by a field; later calls break ties of earlier ones.

        Args:
            field: Dotted path of the field.
            ascending: Smallest first when ``True``, largest first otherwise.

        Returns:
            The helper itself.
        """
        self._sort.append(
            {"field_name": _check_field(field), "order": "asc" if ascending else "desc"}
        )
        return self

    # ----- DLHub conditions

    def match_owner(self, owner: str | None) -> Self:
        """Match servables published by an owner (``dlhub.owner``); ``None`` adds nothing.

        Args:
            owner: The owner's user name.

        Returns:
            The helper itself.
        """
        if owner:
            self.match_field(OWNER_FIELD, owner)
        return self

    def match_servable(
        self,
        servable_name: str | None = None,
        owner: str | None = None,
        publication_date: int | dt.datetime | None = None,
        *,
        version: int | None = None,
    ) -> Self:
        """Match servables by name, owner or version; arguments left ``None`` add nothing.

        Args:
            servable_name: The servable's name, or ``owner/name``.
            owner: The owner's user name.
            publication_date: When the version was published: milliseconds since the
                epoch (``dlhub.publication_date``) or a ``datetime``.
            version: The version number (``dlhub.servable_version``).

        Returns:
            The helper itself.

        Raises:
            ValueError: ``owner/name`` names another owner than ``owner``.
        """
        if servable_name and "/" in servable_name:
            name_owner, _, servable_name = servable_name.partition("/")
            if owner and owner != name_owner:
                raise ValueError(
                    f"the servable {name_owner}/{servable_name} does not belong to {owner!r}"
                )
            owner = name_owner
        if servable_name:
            self.match_field(NAME_FIELD, servable_name)
        self.match_owner(owner)
        if publication_date is not None:
            self.match_field(PUBLICATION_DATE_FIELD, publication_date)
        if version is not None:
            self.match_field(VERSION_FIELD, version)
        return self

    def _match_all_or_any(self, field: str, values: list[str], match_all: bool) -> Self:
        for position, value in enumerate(values):
            self.match_field(field, value, required=match_all or position == 0)
        return self

    def match_authors(self, authors: str | Iterable[str] | None, match_all: bool = True) -> Self:
        """Match servables by their authors (``datacite.creators.creatorName``).

        Authors are the people who created the work, not necessarily the owner who
        published it (see :meth:`match_owner`).

        Args:
            authors: One name or several, each as ``"Family, Given"``.
            match_all: Require every author (``True``) or any of them (``False``).

        Returns:
            The helper itself.
        """
        return self._match_all_or_any(AUTHOR_FIELD, _as_list(authors), match_all)

    def match_domains(self, domains: str | Iterable[str] | None, match_all: bool = True) -> Self:
        """Match servables by field of science (``dlhub.domains``).

        Args:
            domains: One domain or several (e.g. ``"chemistry"``).
            match_all: Require every domain (``True``) or any of them (``False``).

        Returns:
            The helper itself.
        """
        return self._match_all_or_any(DOMAIN_FIELD, _as_list(domains), match_all)

    def match_doi(self, doi: str | None) -> Self:
        """Match servables whose own DOI, or a related identifier, is a DOI.

        Args:
            doi: The DOI (``10.xxxx/yyyy``; a ``https://doi.org/`` or ``doi:`` prefix
                is removed).

        Returns:
            The helper itself.
        """
        if not doi:
            return self
        bare = doi.strip()
        for prefix in (*_DOI_PREFIXES, "doi:"):
            if bare.lower().startswith(prefix):
                bare = bare[len(prefix) :]
                break
        self.match_field(DOI_FIELDS[0], bare)
        return self.match_field(DOI_FIELDS[1], bare, required=False)

    # ----- running

    def search(
        self,
        limit: int | None = None,
        info: bool = False,
        reset_query: bool = True,
        only_latest: bool = True,
    ) -> Any:
        """Run the query.

        Args:
            limit: Maximum number of results (``None`` for the hub's default).
            info: Also return information about the query.
            reset_query: Clear the query after it ran successfully.
            only_latest: Return only the newest version of each servable.

        Returns:
            The matching documents; with ``info``, ``(documents, info)``.

        Raises:
            ValueError: No condition was added.
            RuntimeError: The helper has no client to run the query with.
        """
        if not self.initialized:
            raise ValueError("no query has been set: add a condition (match_field, ...) first")
        if self.client is None:
            raise RuntimeError(
                "this helper has no client; use DLHubClient().query, or "
                "DLHubSearchHelper(client) with a DLHubClient"
            )
        results = self.client.search(
            self.current_query(),
            advanced=True,
            limit=limit,
            only_latest=only_latest,
            sort=self.sort or None,
            get_info=info,
        )
        if reset_query:
            self.reset_query()
        return results


# --- results -------------------------------------------------------------------------


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _servable_key(document: Mapping[str, Any]) -> tuple[str, str] | None:
    dlhub = document.get("dlhub") or {}
    owner, name = dlhub.get("owner"), dlhub.get("name")
    shorthand = dlhub.get("shorthand_name")
    if (not owner or not name) and isinstance(shorthand, str) and "/" in shorthand:
        owner, _, name = shorthand.partition("/")
    if not owner or not name:
        return None
    return str(owner), str(name)


def _is_newer(candidate: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    new, old = candidate.get("dlhub") or {}, current.get("dlhub") or {}
    new_version, old_version = (
        _number(new.get("servable_version")),
        _number(old.get("servable_version")),
    )
    if new_version is not None and old_version is not None and new_version != old_version:
        return new_version > old_version
    new_date = _number(new.get("publication_date"))
    old_date = _number(old.get("publication_date"))
    if new_date is None:
        return False
    return old_date is None or new_date > old_date


def filter_latest(results: Iterable[Mapping[str, Any]]) -> list[Any]:
    """Keep only the newest version of each servable.

    Versions of a servable share ``dlhub.owner`` and ``dlhub.name``; the newest has
    the highest ``dlhub.servable_version`` or, when versions are not numbered, the
    latest ``dlhub.publication_date``. Results keep their order (the place of each
    servable's newest version); documents without an owner and name are kept as is.

    Args:
        results: Documents returned by a search.

    Returns:
        The documents of the newest versions.
    """
    kept: list[Any] = []
    position: dict[tuple[str, str], int] = {}
    for document in results:
        key = _servable_key(document)
        if key is None:
            kept.append(document)
        elif key not in position:
            position[key] = len(kept)
            kept.append(document)
        elif _is_newer(document, kept[position[key]]):
            kept[position[key]] = document
    return kept


def get_method_details(metadata: Any, method_name: str | None = None) -> dict[str, Any]:
    """Get the methods of a servable for use by humans.

    Returns the ``servable.methods`` block without the ``method_details`` of each
    method (they tell the hub how to build the servable, not how to call it). The
    document given is not changed.

    Args:
        metadata: A servable's document (a dict, or a metadata model).
        method_name: Name of one method to return.

    Returns:
        ``{name: {"input": ..., "output": ..., "parameters": ...}}``, or the block of
        the one method named.

    Raises:
        KeyError: The document has no methods, or none named ``method_name`` (the
            message lists the known ones).
    """
    if hasattr(metadata, "to_dict") and not isinstance(metadata, Mapping):
        metadata = metadata.to_dict()
    try:
        methods = metadata["servable"]["methods"]
    except (KeyError, TypeError):
        raise KeyError("the document has no servable.methods: is it a servable?") from None
    cleaned = {
        name: {key: copy.deepcopy(value) for key, value in block.items() if key != "method_details"}
        for name, block in methods.items()
    }
    if method_name is None:
        return cleaned
    if method_name not in cleaned:
        raise KeyError(f"no method {method_name!r}; the methods are: {', '.join(sorted(cleaned))}")
    return cleaned[method_name]
