"""Turning a tree of conditions into one FTS5 expression plus, rarely, SQL.

Most conditions (text, words of fields, numbers, existence, visibility) are
words of the FTS5 index (see :mod:`.tokens`), so a query is usually **one**
``MATCH`` whose intersections FTS5 computes over its posting lists, bounded to a
range of keys (see :mod:`.keys`). Only ranges and whole-value wildcards need SQL
over ``search_numbers`` / ``search_strings``; they filter the FTS5 matches
(correlated, by ``doc``), or, when the query has no text/field condition to start
from, they drive the query themselves (see :class:`Plan`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from dlhub_server.search.errors import QuerySyntaxError
from dlhub_server.search.indexer import TEXT_COLUMNS
from dlhub_server.search.query import (
    And,
    Exact,
    Exists,
    Glob,
    MatchAll,
    MatchNone,
    Near,
    Node,
    Not,
    Number,
    Or,
    Range,
    Words,
    simplify,
)
from dlhub_server.search.sqlite import tokens

__all__ = ["MAX_EXPANSIONS", "Plan", "compile_query"]

#: A wildcard may stand for at most this many distinct words (Lucene's maxClauseCount).
MAX_EXPANSIONS = 1024

_TEXT_ONLY = "- {fields meta} : "


@dataclass(frozen=True)
class Fts(Node):
    """A condition written as an FTS5 expression; ``scored`` when it is free text."""

    expression: str
    scored: bool = False


@dataclass(frozen=True)
class Sql(Node):
    """A condition on ``table`` rows of a document: ``SELECT doc FROM table WHERE where``.

    ``repeats``: a document may have several matching rows.
    """

    table: str
    where: str
    params: tuple[tuple[str, Any], ...]
    repeats: bool = True


@dataclass
class Plan:
    """How to run a query.

    Attributes:
        empty: Nothing can match.
        driver: ``"fts"``: FTS5 finds the documents (``positive`` and not
            ``negated``, with the visibility markers added when it runs),
            ``residual`` filters them; ``"sql"``: ``residual`` finds them alone.
        positive: FTS5 expressions the documents match (all of them).
        negated: FTS5 expressions the documents do not match.
        residual: The other conditions, or ``None``.
        scored_by: An FTS5 expression whose BM25 is the score (the free text of
            the query), or ``None``: no score, newest first.
        score_inline: The score is BM25 of the driving FTS5 expression itself.
    """

    empty: bool = False
    driver: str = "fts"
    positive: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    residual: Node | None = None
    scored_by: str | None = None
    score_inline: bool = False


def _paths(node: Node) -> Iterator[str]:
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from _paths(child)
    elif isinstance(node, Not):
        yield from _paths(node.child)
    elif getattr(node, "path", None) is not None:
        yield node.path  # type: ignore[attr-defined]


def _literal_prefix(pattern: str) -> str:
    found = re.match(r"[^*?\[]*", pattern)
    return found.group(0) if found else ""


def _after(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


@dataclass
class _Resolver:
    connection: Connection
    ids: dict[str, int]
    multivalued: set[int]
    counter: int = 0

    def name(self) -> str:
        self.counter += 1
        return f"q{self.counter}"

    def resolve(self, node: Node, negated: bool = False) -> Node:
        if isinstance(node, (And, Or)):
            return type(node)(tuple(self.resolve(c, negated) for c in node.children))
        if isinstance(node, Not):
            return Not(self.resolve(node.child, not negated))
        if isinstance(node, (MatchAll, MatchNone)):
            return node
        path = getattr(node, "path", None)
        if path is not None and path not in self.ids:
            return MatchNone()  # a path no document has
        path_id = self.ids[path] if path is not None else 0
        scored = path is None and not negated
        if isinstance(node, Words):
            if path is None:
                expression = tokens.phrase(node.words, node.prefix)
                if node.prefix:  # a prefix could reach the made-up words of fields
                    expression = f"({_TEXT_ONLY}({expression}))"
                return Fts(expression, scored)
            return Fts(
                tokens.phrase([tokens.field_word(path_id, w) for w in node.words], node.prefix)
            )
        if isinstance(node, Near):
            spelled = (
                node.words if path is None else [tokens.field_word(path_id, w) for w in node.words]
            )
            inner = " ".join(tokens.phrase([w]) for w in spelled)
            return Fts(f"NEAR({inner}, {node.distance})", scored)
        if isinstance(node, Exact):
            return Fts(tokens.phrase([tokens.exact_word(path_id, node.value)]))
        if isinstance(node, Number):
            return Fts(tokens.phrase([tokens.number_word(path_id, node.value)]))
        if isinstance(node, Exists):
            return Fts(tokens.phrase([tokens.path_word(path_id)]))
        if isinstance(node, Range):
            return self.range(node, path_id)
        if isinstance(node, Glob):
            return self.glob(node, path_id, scored)
        raise TypeError(f"unknown condition {node!r}")

    def range(self, node: Range, path_id: int) -> Node:
        table, column = (
            ("search_numbers", "number") if node.kind == "number" else ("search_strings", "value")
        )
        where = [f"path_id = {path_id}"]
        params: list[tuple[str, Any]] = []
        for bound, inclusive, operator in (
            (node.low, node.include_low, ">"),
            (node.high, node.include_high, "<"),
        ):
            if bound is not None:
                key = self.name()
                where.append(f"{column} {operator}{'=' if inclusive else ''} :{key}")
                params.append((key, bound))
        return Sql(table, " AND ".join(where), tuple(params), path_id in self.multivalued)

    def glob(self, node: Glob, path_id: int, scored: bool) -> Node:
        if node.whole_value:
            key = self.name()
            where = [f"path_id = {path_id}", f"value GLOB :{key}"]
            params: list[tuple[str, Any]] = [(key, node.pattern)]
            prefix = _literal_prefix(node.pattern)
            if prefix:
                low, high = self.name(), self.name()
                where.append(f"value >= :{low}")
                params.append((low, prefix))
                upper = _after(prefix)
                if upper is not None:
                    where.append(f"value < :{high}")
                    params.append((high, upper))
            return Sql(
                "search_strings", " AND ".join(where), tuple(params), path_id in self.multivalued
            )
        lead = "" if node.path is None else tokens.field_word(path_id, "")
        pattern = lead + node.pattern
        prefix = lead + _literal_prefix(node.pattern)
        terms = "term GLOB :pattern"
        params_v: dict[str, Any] = {"pattern": pattern, "limit": MAX_EXPANSIONS + 1}
        if prefix:
            terms += " AND term >= :low"
            params_v["low"] = prefix
            upper = _after(prefix)
            if upper is not None:
                terms += " AND term < :high"
                params_v["high"] = upper
        if node.path is None:
            terms += " AND term NOT GLOB '*_*'"
        found = [
            row[0]
            for row in self.connection.exec_driver_sql(
                f"SELECT term FROM search_vocabulary WHERE {terms} LIMIT :limit", params_v
            )
        ]
        if len(found) > MAX_EXPANSIONS:
            raise QuerySyntaxError(
                f"the wildcard pattern {node.pattern!r} matches more than {MAX_EXPANSIONS} "
                "different words: make it more specific"
            )
        if not found:
            return MatchNone()
        expression = "(" + " OR ".join(tokens.phrase([w]) for w in found) + ")"
        if node.path is None:
            expression = f"({_TEXT_ONLY}{expression})"
        return Fts(expression, scored)


def fts_expression(node: Node) -> str | None:
    """The FTS5 expression of a condition, or ``None`` if FTS5 alone cannot say it."""
    if isinstance(node, Fts):
        return node.expression
    if isinstance(node, And):
        positive: list[str] = []
        negative: list[str] = []
        for child in node.children:
            inner = fts_expression(child.child if isinstance(child, Not) else child)
            if inner is None:
                return None
            (negative if isinstance(child, Not) else positive).append(inner)
        if not positive:
            return None
        expression = "(" + " AND ".join(positive) + ")"
        for inner in negative:
            expression = f"({expression} NOT {inner})"
        return expression
    if isinstance(node, Or):
        parts = [fts_expression(child) for child in node.children]
        if any(p is None for p in parts):
            return None
        return "(" + " OR ".join(p for p in parts if p) + ")"
    return None


def _scored(node: Node) -> Iterator[str]:
    if isinstance(node, Fts) and node.scored:
        yield node.expression
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from _scored(child)


def compile_query(connection: Connection, node: Node) -> Plan:
    """Resolve paths and wildcards against the index and choose how to run the query."""
    wanted = sorted(set(_paths(node)))
    ids: dict[str, int] = {}
    multivalued: set[int] = set()
    if wanted:
        marks = ", ".join(f":p{i}" for i in range(len(wanted)))
        rows = connection.exec_driver_sql(
            f"SELECT id, path, multivalued FROM search_paths WHERE path IN ({marks})",
            {f"p{i}": p for i, p in enumerate(wanted)},
        )
        for row in rows:
            ids[row.path] = row.id
            if row.multivalued:
                multivalued.add(row.id)
    resolved = simplify(_Resolver(connection, ids, multivalued).resolve(node))
    if isinstance(resolved, MatchNone):
        return Plan(empty=True)
    scored = list(dict.fromkeys(_scored(resolved)))
    plan = Plan(scored_by=" OR ".join(scored) if scored else None)
    if isinstance(resolved, MatchAll):
        plan.driver = "sql"  # every version: the key ranges alone
        return plan
    conjuncts = list(resolved.children) if isinstance(resolved, And) else [resolved]
    rest: list[Node] = []
    scored_inline: list[str] = []
    for child in conjuncts:
        if isinstance(child, Not) and (inner := fts_expression(child.child)) is not None:
            plan.negated.append(inner)
        elif not isinstance(child, Not) and (inner := fts_expression(child)) is not None:
            plan.positive.append(inner)
            scored_inline.extend(_scored(child))
        else:
            rest.append(child)
    if not plan.positive:
        # nothing for FTS5 to start from: SQL drives, FTS5 parts become sub-queries
        plan.driver = "sql"
        rest.extend(Not(Fts(e)) for e in plan.negated)
        plan.negated = []
    if rest:
        plan.residual = And(tuple(rest)) if len(rest) > 1 else rest[0]
    plan.score_inline = plan.driver == "fts" and set(scored) <= set(scored_inline)
    return plan


@dataclass
class SqlWriter:
    """Writes a condition as SQL on a document key expression (``doc``)."""

    doc: str
    correlated: bool
    params: dict[str, Any] = field(default_factory=dict)

    def write(self, node: Node) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.write(c) for c in node.children) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.write(c) for c in node.children) + ")"
        if isinstance(node, Not):
            return f"NOT {self.write(node.child)}"
        if isinstance(node, MatchAll):
            return "1"
        if isinstance(node, MatchNone):
            return "0"
        if isinstance(node, Fts):
            key = f"m{sum(k.startswith('m') for k in self.params)}"
            self.params[key] = node.expression
            return f"({self.doc} IN (SELECT rowid FROM search_text WHERE search_text MATCH :{key}))"
        if isinstance(node, Sql):
            self.params.update(node.params)
            if self.correlated:
                return (
                    f"EXISTS (SELECT 1 FROM {node.table} WHERE doc = {self.doc} AND {node.where})"
                )
            return f"({self.doc} IN (SELECT doc FROM {node.table} WHERE {node.where}))"
        raise TypeError(f"unknown condition {node!r}")


def bm25_weights() -> str:
    """The BM25 weights of the columns of ``search_text`` (0 for ``fields`` and ``meta``)."""
    return ", ".join(str(w) for w in (*TEXT_COLUMNS.values(), 0.0, 0.0))
