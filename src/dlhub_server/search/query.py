"""Reading queries into a small, database-neutral tree of conditions.

Two kinds of query are read:

* **plain** (``advanced=False``): free text. Each run of text between spaces must
  appear somewhere in the full text (its words in order, as a phrase); text in
  double quotes is one phrase; a trailing ``*`` makes the last word a prefix.
  No operators, never an error. An empty query, or ``*``, matches everything; a
  query without any letter or digit matches nothing.
* **advanced** (``advanced=True``): the Lucene query-string syntax of Globus
  Search, parsed by luqum, over the dotted paths of the DLHub document.

How an advanced query matches (the contract the tests check):

* ``field:value`` / ``field:"a phrase"`` on text: the words of the value (see
  :mod:`dlhub_server.search.analysis`: case, accents and punctuation ignored)
  appear consecutively in one value of the field. The whole value is the special
  case, so ``servable.type:"Keras Model"`` and ``datacite.titles.title:"deep
  learning"`` both match. A value without any letter or digit (``"+"``) must equal
  the whole value instead.
* Arrays match when any element matches; dictionary keys that are not
  identifiers (file names, hashes) do not make path segments, their values are
  found under the parent path (``dlhub.file_hashes:abc...``).
* A value that is a number (``dlhub.servable_version:3``) also matches numeric
  values equal to it; ``true``/``false`` match booleans; an ISO date
  (``2020-01-31``) also matches numbers (milliseconds) inside that day.
* Ranges ``[a TO b]``, ``{a TO b}`` (and ``>a``, ``<=b``), ``*`` for an open end:
  numbers and ISO dates compare as numbers (dates in milliseconds; a bound without
  a time is rounded the way Elasticsearch does: ``[2020-01-01 TO 2020-12-31]`` is
  the whole year); other bounds compare as folded text (values of up to 256
  characters).
* Wildcards: ``field:*`` (and ``_exists_:field``) means the field has a value; a
  pattern of one word (``learn*``, ``l?arning``, ``*ing``) is matched against each
  word of the field; several words ending in ``*`` (``my\\ mod*``) are a phrase
  whose last word is a prefix; any other pattern (``my_mod?l``) is matched against
  the whole folded value (values of up to 256 characters, like Elasticsearch's
  ``ignore_above``). A one-word pattern may stand for at most 1024 different
  words (Lucene's ``maxClauseCount``); a broader one is refused.
* Bare terms and phrases (no field) search the full text, like plain queries.
* ``AND``, ``OR``, ``NOT``, ``&&``, ``||``, ``!``, ``+``, ``-`` and parentheses;
  terms side by side without an operator must all match (default ``AND``).
  Boosts (``^2``) are accepted and ignored. ``"a b"~3`` finds words near each
  other. Fuzzy terms (``word~``) and regular expressions are refused, and so are
  queries nesting groups more than :data:`MAX_DEPTH` levels deep.
* A field name that no document has matches nothing (it is not an error).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.parser import parser

from dlhub_server.search.analysis import fold, parse_date, parse_number, words
from dlhub_server.search.errors import QuerySyntaxError

__all__ = [
    "MAX_DEPTH",
    "And",
    "Exact",
    "Exists",
    "Glob",
    "MatchAll",
    "MatchNone",
    "Near",
    "Node",
    "Not",
    "Number",
    "Or",
    "Range",
    "Words",
    "parse_query",
    "simplify",
]


#: Deepest nesting of AND/OR/NOT a query may have (after simplification).
MAX_DEPTH = 16

# --- the tree of conditions ----------------------------------------------------------


class Node:
    """A condition on a document."""


@dataclass(frozen=True)
class MatchAll(Node):
    """Every document."""


@dataclass(frozen=True)
class MatchNone(Node):
    """No document."""


@dataclass(frozen=True)
class And(Node):
    """All conditions hold."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    """At least one condition holds."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    """The condition does not hold."""

    child: Node


@dataclass(frozen=True)
class Words(Node):
    """Words in sequence: in one value of ``path``, or in the full text when ``path`` is None.

    With ``prefix``, the last word is a prefix (``learn`` matches ``learning``).
    """

    path: str | None
    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Near(Node):
    """All the words within ``distance`` words of each other (Lucene ``"a b"~N``)."""

    path: str | None
    words: tuple[str, ...]
    distance: int


@dataclass(frozen=True)
class Exact(Node):
    """A value of ``path`` equals ``value`` once folded (for values without words)."""

    path: str
    value: str


@dataclass(frozen=True)
class Number(Node):
    """A numeric value of ``path`` equals ``value``."""

    path: str
    value: float | int


@dataclass(frozen=True)
class Range(Node):
    """A value of ``path`` lies between bounds; ``None`` is an open end.

    ``kind`` is ``"number"`` (numbers, and dates as milliseconds) or ``"text"``
    (folded text, compared as strings).
    """

    path: str
    low: float | int | str | None
    high: float | int | str | None
    include_low: bool
    include_high: bool
    kind: str


@dataclass(frozen=True)
class Exists(Node):
    """``path`` (or a path below it) has a value."""

    path: str


@dataclass(frozen=True)
class Glob(Node):
    """A wildcard pattern (SQL GLOB syntax, over folded text).

    ``whole_value`` matches the pattern against whole values of ``path``; otherwise
    against each word (of ``path``, or of the full text when ``path`` is None).
    """

    path: str | None
    pattern: str
    whole_value: bool


# --- simplification ------------------------------------------------------------------


def simplify(node: Node) -> Node:
    """Flatten nested AND/OR, fold constants and double negations."""
    if isinstance(node, (And, Or)):
        kind = type(node)
        children: list[Node] = []
        for child in (simplify(c) for c in node.children):
            if isinstance(child, kind):
                children.extend(child.children)
            else:
                children.append(child)
        absorbing: type[Node] = MatchNone if kind is And else MatchAll
        neutral: type[Node] = MatchAll if kind is And else MatchNone
        if any(isinstance(c, absorbing) for c in children):
            return absorbing()
        children = list(dict.fromkeys(c for c in children if not isinstance(c, neutral)))
        if not children:
            return neutral()
        if len(children) == 1:
            return children[0]
        return kind(tuple(children))
    if isinstance(node, Not):
        child = simplify(node.child)
        if isinstance(child, Not):
            return child.child
        if isinstance(child, MatchAll):
            return MatchNone()
        if isinstance(child, MatchNone):
            return MatchAll()
        return Not(child)
    return node


# --- plain queries -------------------------------------------------------------------

_PLAIN_CHUNK = re.compile(r'"([^"]*)"?|(\S+)')


def _parse_plain(query: str) -> Node:
    if query.strip() in ("", "*"):
        return MatchAll()
    terms: list[Node] = []
    for found in _PLAIN_CHUNK.finditer(query):
        phrase, chunk = found.group(1), found.group(2)
        text = phrase if phrase is not None else chunk
        prefix = phrase is None and chunk.endswith("*")
        found_words = tuple(words(text))
        if found_words:  # punctuation between words ("deep - learning") is skipped
            terms.append(Words(None, found_words, prefix))
    # a query of punctuation only ("!!!") matches nothing
    return simplify(And(tuple(terms))) if terms else MatchNone()


# --- advanced queries ----------------------------------------------------------------

_parse_lock = threading.Lock()  # luqum's ply parser keeps state: one parse at a time
_POSITION = re.compile(r"at position (\d+)")
_UNEXPECTED = re.compile(r"unexpected\s+'(.*)'")


def _syntax_error(error: ParseError, query: str) -> QuerySyntaxError:
    text = str(error)
    found = _POSITION.search(text)
    position = int(found.group(1)) if found else len(query)
    if isinstance(error, IllegalCharacterError):
        fragment = query[position:]
        if fragment.startswith('"'):
            return QuerySyntaxError("unterminated phrase: a '\"' is not closed", query, position)
        return QuerySyntaxError(f"illegal character {fragment[:1]!r}", query, position)
    if position >= len(query):
        return QuerySyntaxError(
            "the query ends too early (an operator without its operand, or an unclosed "
            "parenthesis, bracket or quote)",
            query,
            len(query),
        )
    unexpected = _UNEXPECTED.search(text)
    token = unexpected.group(1) if unexpected else query[position]
    return QuerySyntaxError(f"unexpected {token!r}", query, position)


def _parse_tree(query: str) -> Any:
    try:
        with _parse_lock:
            return parser.parse(query)
    except ParseError as error:
        raise _syntax_error(error, query) from None


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _pattern_chars(raw: str) -> list[tuple[str, bool]]:
    """Characters of a Lucene term with escapes undone; True marks a live wildcard."""
    chars: list[tuple[str, bool]] = []
    escaped = False
    for char in raw:
        if escaped:
            chars.append((char, False))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            chars.append((char, char in "*?"))
    if escaped:
        chars.append(("\\", False))
    return chars


def _glob_literal(text: str) -> str:
    # GLOB has no escape character: a special character is written as a class
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


@dataclass
class _Converter:
    query: str

    def error(self, message: str, item: Any) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.query, getattr(item, "pos", None))

    def convert(self, item: Any, field: str | None) -> Node:
        if isinstance(item, tree.SearchField):
            return self.search_field(item, field)
        if isinstance(item, (tree.Group, tree.FieldGroup)):
            return self.convert(item.expr, field)
        if isinstance(item, tree.AndOperation):
            return And(tuple(self.convert(c, field) for c in item.children))
        if isinstance(item, tree.OrOperation):
            return Or(tuple(self.convert(c, field) for c in item.children))
        if isinstance(item, tree.UnknownOperation):
            return self.implicit(list(item.children), field)
        if isinstance(item, (tree.Not, tree.Prohibit)):
            return Not(self.convert(item.a, field))
        if isinstance(item, tree.Plus):
            return self.convert(item.a, field)
        if isinstance(item, tree.Boost):
            return self.convert(item.expr, field)
        if isinstance(item, tree.Word):
            return self.word(item, field)
        if isinstance(item, tree.Phrase):
            return self.value(_unescape(item.value[1:-1]), field)
        if isinstance(item, tree.Proximity):
            return self.near(item, field)
        if isinstance(item, tree.Fuzzy):
            raise self.error("fuzzy terms (word~) are not supported; use a wildcard (word*)", item)
        if isinstance(item, tree.Regex):
            raise self.error("regular expressions are not supported; use wildcards (* and ?)", item)
        if isinstance(item, (tree.Range, tree.From, tree.To)):
            if field is None:
                raise self.error("a range needs a field: write field:[low TO high]", item)
            return self.range(item, field)
        raise self.error(f"unsupported query element {type(item).__name__}", item)

    def search_field(self, item: Any, field: str | None) -> Node:
        if field is not None:
            raise self.error(
                f"a field inside a field: {item.name!r} is inside {field!r}; "
                "write (a:x AND b:y) instead of a:(b:y)",
                item,
            )
        name = item.name
        if name.startswith("!") and len(name) > 1:  # luqum keeps Lucene's ! in the name
            return Not(self.search_field(tree.SearchField(name[1:], item.expr), field))
        if name == "_exists_":
            target = item.expr
            if not isinstance(target, tree.Word) or any(w for _, w in _pattern_chars(target.value)):
                raise self.error("_exists_ takes a field name: _exists_:dlhub.name", item)
            return Exists(_unescape(target.value))
        if name == "*":
            return self.convert(item.expr, None)
        return self.convert(item.expr, name)

    def implicit(self, children: list[Any], field: str | None) -> Node:
        # luqum reads && and || as words: give them their Lucene meaning
        alternatives: list[list[Node]] = [[]]
        for child in children:
            if isinstance(child, tree.Word) and child.value == "||":
                alternatives.append([])
            elif isinstance(child, tree.Word) and child.value == "&&":
                continue
            else:
                alternatives[-1].append(self.convert(child, field))
        groups = [And(tuple(group)) for group in alternatives if group]
        if len(groups) != len(alternatives):
            raise self.error("'||' needs a condition on each side", children[0])
        return groups[0] if len(groups) == 1 else Or(tuple(groups))

    def word(self, item: Any, field: str | None) -> Node:
        raw = item.value
        if raw.startswith("!") and len(raw) > 1:
            return Not(self.word(tree.Word(raw[1:]), field))
        chars = _pattern_chars(raw)
        if not any(wild for _, wild in chars):
            return self.value("".join(c for c, _ in chars), field)
        if all(wild and c == "*" for c, wild in chars):
            return MatchAll() if field is None else Exists(field)
        return self.wildcard(chars, field, item)

    def wildcard(self, chars: list[tuple[str, bool]], field: str | None, item: Any) -> Node:
        # fold the literal stretches; the wildcards stay as they are
        pieces: list[str] = []
        literal = ""
        for char, wild in chars:
            if wild:
                pieces.append(_glob_literal(fold(literal)))
                pieces.append(char)
                literal = ""
            else:
                literal += char
        pieces.append(_glob_literal(fold(literal)))
        pattern = "".join(pieces)
        # the words of the pattern, wildcards counting as letters
        marked = "".join("a" if wild else char for char, wild in chars)
        pattern_words = words(marked)
        live = [c for c, wild in chars if wild]
        trailing_star_only = chars[-1] == ("*", True) and len(live) == 1
        literal_words = words("".join(c for c, _ in chars[:-1])) if trailing_star_only else []
        if trailing_star_only and len(literal_words) == len(pattern_words) and literal_words:
            return Words(field, tuple(literal_words), prefix=True)
        if len(pattern_words) == 1:
            return Glob(field, pattern, whole_value=False)
        if field is None:
            raise self.error(
                "a wildcard pattern of several words needs a field (or quote it as a phrase)",
                item,
            )
        return Glob(field, pattern, whole_value=True)

    def value(self, text: str, field: str | None) -> Node:
        found = tuple(words(text))
        if field is None:
            return Words(None, found) if found else MatchNone()
        options: list[Node] = [Words(field, found) if found else Exact(field, fold(text))]
        number = parse_number(text)
        if number is not None:
            options.append(Number(field, number))
        span = parse_date(text)
        if span is not None:
            options.append(Range(field, span.start, span.end, True, False, "number"))
        return options[0] if len(options) == 1 else Or(tuple(options))

    def near(self, item: Any, field: str | None) -> Node:
        found = tuple(words(_unescape(item.term.value[1:-1])))
        if not found:
            return MatchNone()
        if len(found) == 1:
            return Words(field, found)
        return Near(field, found, int(item.degree))

    def bound(self, item: Any) -> tuple[str | None, Any]:
        if isinstance(item, tree.Word):
            if item.value == "*":
                return None, item
            return _unescape(item.value), item
        if isinstance(item, tree.Phrase):
            return _unescape(item.value[1:-1]), item
        raise self.error("a range bound must be a value or *", item)

    def range(self, item: Any, field: str) -> Node:
        if isinstance(item, tree.Range):
            low, low_item = self.bound(item.low)
            high, high_item = self.bound(item.high)
            include_low, include_high = item.include_low, item.include_high
        elif isinstance(item, tree.From):
            (low, low_item), (high, high_item) = self.bound(item.a), (None, item)
            include_low, include_high = item.include, True
        else:
            (low, low_item), (high, high_item) = (None, item), self.bound(item.a)
            include_low, include_high = True, item.include
        if low is None and high is None:
            return Exists(field)
        numeric_low = self.numeric_bound(low, include_low, lower=True)
        numeric_high = self.numeric_bound(high, include_high, lower=False)
        if (low is None or numeric_low is not None) and (high is None or numeric_high is not None):
            lo_value, lo_incl = numeric_low or (None, True)
            hi_value, hi_incl = numeric_high or (None, True)
            return Range(field, lo_value, hi_value, lo_incl, hi_incl, "number")
        if (low is not None and numeric_low is not None) or (
            high is not None and numeric_high is not None
        ):
            culprit = low_item if numeric_low is None else high_item
            raise self.error(
                "the bounds of a range must both be numbers or dates, or both be text", culprit
            )
        return Range(
            field,
            None if low is None else fold(low),
            None if high is None else fold(high),
            include_low,
            include_high,
            "text",
        )

    @staticmethod
    def numeric_bound(
        text: str | None, inclusive: bool, lower: bool
    ) -> tuple[float | int, bool] | None:
        if text is None:
            return None
        number = parse_number(text)
        if number is not None:
            return number, inclusive
        span = parse_date(text)
        if span is None:
            return None
        # Elasticsearch's rounding: gt and lte round up to the end of the date's span
        if lower:
            return (span.start, True) if inclusive else (span.end, True)
        return (span.end, False) if inclusive else (span.start, False)


def parse_query(query: str, advanced: bool) -> Node:
    """Read a query into a (simplified) tree of conditions.

    Args:
        query: The query text.
        advanced: Read it as a Lucene query string (``True``) or as free text.

    Returns:
        The conditions.

    Raises:
        QuerySyntaxError: An advanced query is malformed or uses an unsupported
            feature; the error names the position and fragment.
    """
    if not isinstance(query, str):
        raise QuerySyntaxError(f"a query is text, not {type(query).__name__}")
    if not advanced:
        return _parse_plain(query)
    if not query.strip():
        return MatchAll()
    parsed = _parse_tree(query)
    try:
        node = simplify(_Converter(query).convert(parsed, None))
    except RecursionError:
        node = None
    if node is None or _depth(node) > MAX_DEPTH:
        # SQLite's and FTS5's parsers have bounded stacks (and no person writes this)
        raise QuerySyntaxError(
            f"the query nests AND/OR/NOT groups too deeply: at most {MAX_DEPTH} levels", query
        )
    return node


def _depth(node: Node) -> int:
    deepest = 0
    stack = [(node, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, (And, Or)):
            stack.extend((child, depth + 1) for child in item.children)
        elif isinstance(item, Not):
            stack.append((item.child, depth + 1))
    return deepest
