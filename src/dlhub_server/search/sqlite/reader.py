"""Running a compiled query: visible documents, newest versions, counts, pages, facets.

Visibility and "newest version only" are part of the query itself, never a filter
on a page afterwards, so totals count exactly what the caller may see:

* the versions restricted to others are removed by the FTS5 expression itself
  (``... NOT (v_restricted NOT (v_<principal> OR ...))``), or, when SQL drives,
  by the key's restricted bit and ``search_access``;
* ``only_latest`` reads the key range of the newest versions, then the (usually
  empty) range of versions whose newer versions are all non-public, checking in
  SQL that the caller sees none of those (see :mod:`.keys`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from dlhub_server.search.analysis import fold
from dlhub_server.search.errors import QuerySyntaxError
from dlhub_server.search.indexer import leaves
from dlhub_server.search.query import And, Node
from dlhub_server.search.sqlite import tokens
from dlhub_server.search.sqlite.compiler import (
    Plan,
    Sql,
    SqlWriter,
    bm25_weights,
    compile_query,
)
from dlhub_server.search.sqlite.keys import SEQ_LIMIT, class_range
from dlhub_server.search.sqlite.writer import decode_document

__all__ = ["Hits", "facet_counts", "find"]

_MIN_INT = -(2**63)


@dataclass
class Hits:
    """The documents of a page, their scores, and how many match in all."""

    documents: list[Any]
    scores: list[float]
    total: int


@dataclass
class _Branch:
    """One SELECT of a query: ``FROM sources WHERE where``, the document key ``doc``."""

    sources: str
    where: str
    doc: str
    score: str


class _Query:
    """The SELECT branches of a plan for one caller: one per range of keys it reads."""

    def __init__(self, plan: Plan, principals: set[str], only_latest: bool) -> None:
        self.plan = plan
        self.params: dict[str, Any] = {}
        self.principals = sorted(p for p in principals if p != "public")
        self.params.update({f"pr{i}": p for i, p in enumerate(self.principals)})
        self.principal_marks = ", ".join(f":pr{i}" for i in range(len(self.principals)))
        # one range of keys per class (see .keys): within one, key order is newest first;
        # for only_latest, the newest versions, then those newest for some callers only
        self.ranges = (
            [(class_range(0), False), (class_range(1), True)]
            if only_latest
            else [(class_range(state), False) for state in (0, 1, 2)]
        )
        self.branches = self._fts_branches() if plan.driver == "fts" else self._sql_branches()

    def visible_key(self, doc: str) -> str:
        """SQL: the version with key ``doc`` is visible (public, or shared with the caller)."""
        if not self.principals:
            return f"({doc} & 1) = 0"
        return (
            f"(({doc} & 1) = 0 OR EXISTS (SELECT 1 FROM search_access a "
            f"WHERE a.doc = {doc} AND a.principal IN ({self.principal_marks})))"
        )

    def visible_match(self, expression: str) -> str:
        """FTS5: ``expression``, without the restricted versions the caller may not see."""
        restricted = tokens.phrase([tokens.RESTRICTED])
        if self.principals:
            allowed = " OR ".join(
                tokens.phrase([tokens.principal_word(p)]) for p in self.principals
            )
            restricted = f"({restricted} NOT ({allowed}))"
        return f"({expression} NOT {restricted})"

    def no_newer_visible(self, alias: str) -> str:
        """SQL: no newer version of the servable of ``alias`` is visible to the caller."""
        self.params["min_int"] = _MIN_INT
        return (
            "NOT EXISTS (SELECT 1 FROM search_documents n "
            f"WHERE n.owner IS {alias}.owner AND n.name = {alias}.name "
            "AND (coalesce(n.servable_version, :min_int), n.seq) > "
            f"(coalesce({alias}.servable_version, :min_int), {alias}.seq) "
            f"AND {self.visible_key('n.doc')})"
        )

    def score(self, doc: str) -> tuple[str, str]:
        """Extra sources and the score expression."""
        plan = self.plan
        if plan.scored_by is None:
            return "", "0.0"
        if plan.score_inline:
            return "", f"-bm25(search_text, {bm25_weights()})"
        self.params["score_match"] = plan.scored_by
        join = (
            " LEFT JOIN (SELECT rowid AS doc, -bm25(search_text, "
            f"{bm25_weights()}) AS score FROM search_text "
            f"WHERE search_text MATCH :score_match) scores ON scores.doc = {doc}"
        )
        return join, "coalesce(scores.score, 0.0)"

    def _fts_branches(self) -> list[_Branch]:
        plan = self.plan
        doc = "search_text.rowid"
        expression = "(" + " AND ".join(plan.positive) + ")"
        for negated in plan.negated:
            expression = f"({expression} NOT {negated})"
        self.params["match"] = self.visible_match(expression)
        residual = ""
        if plan.residual is not None:
            writer = SqlWriter(doc, correlated=True)
            residual = " AND " + writer.write(plan.residual)
            self.params.update(writer.params)
        join, score = self.score(doc)
        branches = []
        for (low, high), check_newer in self.ranges:
            sources = "search_text" + join
            where = f"search_text MATCH :match AND {doc} >= {low} AND {doc} < {high}{residual}"
            if check_newer:
                sources += " CROSS JOIN search_documents d ON d.doc = search_text.rowid"
                where += " AND " + self.no_newer_visible("d")
            branches.append(_Branch(sources, where, doc, score))
        return branches

    def _sql_branches(self) -> list[_Branch]:
        plan = self.plan
        conditions = (
            []
            if plan.residual is None
            else list(plan.residual.children)
            if isinstance(plan.residual, And)
            else [plan.residual]
        )
        # a value-index condition drives the query when there is one: it reads only
        # the matching index entries, never every version
        driver = next((c for c in conditions if isinstance(c, Sql)), None)
        branches = []
        for (low, high), check_newer in self.ranges:
            if driver is not None:
                writer = SqlWriter("k.doc", correlated=True)
                distinct = "DISTINCT " if driver.repeats else ""
                sources = (
                    f"(SELECT {distinct}doc FROM {driver.table} WHERE {driver.where} "
                    f"AND doc >= {low} AND doc < {high}) AS k"
                )
                self.params.update(driver.params)
                rest = [c for c in conditions if c is not driver]
            else:
                writer = SqlWriter("k.doc", correlated=False)
                sources = "search_documents AS k"
                rest = conditions
            where = [f"k.doc >= {low}", f"k.doc < {high}", self.visible_key("k.doc")]
            where.extend(writer.write(c) for c in rest)
            self.params.update(writer.params)
            join, score = self.score("k.doc")
            sources += join
            if check_newer:
                sources += " CROSS JOIN search_documents d ON d.doc = k.doc"
                where.append(self.no_newer_visible("d"))
            branches.append(_Branch(sources, " AND ".join(where), "k.doc", score))
        return branches

    def counts(self, connection: Connection) -> list[int]:
        """How many documents each branch finds (one statement)."""
        counts = ", ".join(
            f"(SELECT count(*) FROM {b.sources} WHERE {b.where})" for b in self.branches
        )
        return [int(n) for n in connection.exec_driver_sql(f"SELECT {counts}", self.params).one()]

    def union(self, branches: Sequence[_Branch], scored: bool = True) -> str:
        """The branches as one SELECT of ``doc, score`` (or ``doc`` alone)."""
        return " UNION ALL ".join(
            f"SELECT {b.doc} AS doc{f', {b.score} AS score' if scored else ''} "
            f"FROM {b.sources} WHERE {b.where}"
            for b in branches
        )


def _sort_keys(connection: Connection, sort: Sequence[Mapping[str, Any]] | None) -> list[str]:
    keys: list[str] = []
    for entry in sort or []:
        if not isinstance(entry, Mapping):
            raise QuerySyntaxError(
                f"a sort entry is {{'field_name': ..., 'order': ...}}, not {entry!r}"
            )
        field = entry.get("field_name", entry.get("field"))
        order = str(entry.get("order", "asc")).lower()
        if not isinstance(field, str) or not field:
            raise QuerySyntaxError(f"a sort entry needs a field_name: {dict(entry)!r}")
        if order not in ("asc", "desc"):
            raise QuerySyntaxError(f"the sort order of {field} is 'asc' or 'desc', not {order!r}")
        if field == "_score":
            keys.append(f"hits.score {order.upper()}")
            continue
        path_id = connection.exec_driver_sql(
            "SELECT id FROM search_paths WHERE path = :p", {"p": field}
        ).scalar()
        if path_id is None:
            continue  # no document has the field: every key would be missing
        numeric = connection.exec_driver_sql(
            "SELECT 1 FROM search_numbers WHERE path_id = :p LIMIT 1", {"p": path_id}
        ).scalar()
        table, column = ("search_numbers", "number") if numeric else ("search_strings", "value")
        pick = "min" if order == "asc" else "max"
        key = f"(SELECT {pick}({column}) FROM {table} WHERE doc = hits.doc AND path_id = {int(path_id)})"
        # documents without the field come last, in either order
        keys.append(f"{key} IS NULL, {key} {order.upper()}")
    return keys


def find(
    connection: Connection,
    node: Node,
    *,
    principals: set[str],
    limit: int | None,
    offset: int,
    only_latest: bool,
    sort: Sequence[Mapping[str, Any]] | None,
) -> Hits:
    """Find the visible documents matching ``node``: one page and the total."""
    plan = compile_query(connection, node)
    keys = _sort_keys(connection, sort)
    if plan.empty:
        return Hits([], [], 0)
    query = _Query(plan, principals, only_latest)
    if plan.scored_by is not None or plan.driver == "sql" or keys:
        # every match is visited anyway (to score or sort it): count in the same pass
        return _page(connection, query, query.branches, keys, limit, offset, None)
    # newest first straight from the index: the page stops early, the count does not
    counts = query.counts(connection)
    branches = [b for b, n in zip(query.branches, counts) if n]
    total = sum(counts)
    if not branches or (limit is not None and (limit == 0 or offset >= total)):
        return Hits([], [], total)
    return _page(connection, query, branches, keys, limit, offset, total)


def _page(
    connection: Connection,
    query: _Query,
    branches: list[_Branch],
    keys: list[str],
    limit: int | None,
    offset: int,
    total: int | None,
) -> Hits:
    order = [*keys]
    if query.plan.scored_by is not None:
        order.append("hits.score DESC")
    # within one range of keys, key order is newest first; across ranges, the sequence
    order.append(
        "hits.doc DESC" if len(branches) == 1 else f"(hits.doc >> 1) & {SEQ_LIMIT - 1} DESC"
    )
    ordering = ", ".join(order)
    params = dict(query.params, limit=-1 if limit is None else limit, offset=offset)
    if total is None:
        inner = query.union(branches)
        counted = "count(*) OVER ()"
    elif len(branches) > 1 and limit is not None:
        # each branch keeps its own first offset + limit (in key order, which FTS5
        # gives without sorting), then the page is cut from their union
        params["first"] = offset + limit
        inner = " UNION ALL ".join(
            f"SELECT * FROM (SELECT doc, score FROM ({query.union([b])}) AS hits "
            f"ORDER BY hits.doc DESC LIMIT :first)"
            for b in branches
        )
        counted = "0"
    else:
        inner = query.union(branches)
        counted = "0"
    # the page is chosen first; only its documents are read
    sql = (
        "SELECT hits.doc AS doc, hits.score AS score, hits.total AS total, "
        "d.document AS document FROM "
        f"(SELECT doc, score, {counted} AS total FROM ({inner}) AS hits "
        f"ORDER BY {ordering} LIMIT :limit OFFSET :offset) AS hits "
        f"JOIN search_documents d ON d.doc = hits.doc ORDER BY {ordering}"
    )
    rows = connection.exec_driver_sql(sql, params).all()
    if total is None:
        if rows:
            total = int(rows[0].total)
        else:  # an empty page says nothing about the total, unless it is the first
            total = sum(query.counts(connection)) if offset or limit == 0 else 0
    return Hits(
        [decode_document(row.document) for row in rows],
        [float(row.score) for row in rows],
        total,
    )


def facet_counts(
    connection: Connection,
    node: Node,
    *,
    principals: set[str],
    only_latest: bool,
    paths: Sequence[str],
    size: int,
) -> dict[str, list[dict[str, Any]]]:
    """Count the matching visible documents by each value of each path."""
    result: dict[str, list[dict[str, Any]]] = {path: [] for path in paths}
    plan = compile_query(connection, node)
    if plan.empty or not paths:
        return result
    marks = ", ".join(f":fp{i}" for i in range(len(paths)))
    ids = {
        row.id: row.path
        for row in connection.exec_driver_sql(
            f"SELECT id, path FROM search_paths WHERE path IN ({marks})",
            {f"fp{i}": p for i, p in enumerate(paths)},
        )
    }
    if not ids:
        return result
    query = _Query(plan, principals, only_latest)
    id_list = ", ".join(str(int(i)) for i in ids)
    sql = (
        f"WITH hits AS MATERIALIZED ({query.union(query.branches, scored=False)}) "
        "SELECT s.path_id AS path_id, s.value AS value, count(*) AS n, min(s.doc) AS example "
        "FROM hits CROSS JOIN search_strings s "
        f"ON s.doc = hits.doc AND s.path_id IN ({id_list}) "
        "GROUP BY s.path_id, s.value"
    )
    grouped: dict[str, list[tuple[int, str, int]]] = {path: [] for path in paths}
    for row in connection.exec_driver_sql(sql, query.params):
        grouped[ids[row.path_id]].append((int(row.n), str(row.value), int(row.example)))
    for path, counts in grouped.items():
        counts.sort(key=lambda item: (-item[0], item[1]))
        result[path] = [
            {"value": _as_written(connection, doc, path, value), "count": n}
            for n, value, doc in counts[:size]
        ]
    return result


def _as_written(connection: Connection, doc: int, path: str, folded: str) -> str:
    """A value as a document wrote it (the index keeps values folded)."""
    stored = connection.exec_driver_sql(
        "SELECT document FROM search_documents WHERE doc = :doc", {"doc": doc}
    ).scalar_one()
    for leaf_path, value in leaves(decode_document(stored)):
        if leaf_path == path and isinstance(value, str) and fold(value) == folded:
            return value
    return folded
