"""Malformed advanced queries fail with QuerySyntaxError, pointing at the error."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from dlhub_server.search import QuerySyntaxError, facets, search
from dlhub_server.search.sqlite import compiler


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("dlhub.name:x AND", 16, "ends too early"),
        ("(dlhub.name:x", 13, "ends too early"),
        ("dlhub.name:x)", 12, "unexpected '\\)'"),
        ("dlhub.servable_version:[1 TO]", 28, "unexpected ']'"),
        ('dlhub.name:"unterminated', 11, "unterminated phrase"),
        ("a AND OR b", 6, "unexpected 'OR'"),
        (":x", 0, "unexpected ':'"),
        ("dlhub.name:", 11, "ends too early"),
        ("dlhub:name:x", 6, "field inside a field"),
        ("dlhub.domains:(chemistry OR dlhub.owner:bob)", 28, "field inside a field"),
        ("learning~2", 0, "fuzzy"),
        ("dlhub.name:/ab.*/", 11, "regular expressions"),
        ("[1 TO 2]", 0, "needs a field"),
        ("dlhub.servable_version:[a TO 5]", 24, "both be numbers"),
        ("dlhub.servable_version:[2020-01-01 TO b]", 38, "both be numbers"),
        ("_exists_:dlhub.na*", 0, "_exists_ takes a field name"),
        ("my\\ mod?l", 0, "needs a field"),
    ],
)
def test_malformed_queries_name_the_position(
    db: Connection, query: str, position: int, message: str
) -> None:
    with pytest.raises(QuerySyntaxError, match=message) as caught:
        search(db, query, advanced=True)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.position == position
    assert error.fragment == query[position : position + 30]
    assert error.query == query
    assert error.details == {
        "message": error.message,
        "position": position,
        "fragment": error.fragment,
    }
    where = "at the end of the query" if position >= len(query) else f"at position {position}"
    assert where in str(error)
    with pytest.raises(QuerySyntaxError):
        facets(db, query, advanced=True)


def test_the_same_text_is_fine_as_a_plain_query(db: Connection) -> None:
    assert search(db, "a AND OR b").total >= 0
    assert search(db, "learning~2").total >= 0


def test_too_broad_wildcards_are_refused(db: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # the corpus has a few hundred hashes; the limit (1024 words) is lowered to see it act
    monkeypatch.setattr(compiler, "MAX_EXPANSIONS", 50)
    assert search(db, "dlhub.file_hashes:0*", advanced=True, only_latest=False).total > 0
    with pytest.raises(QuerySyntaxError, match="more than 50 different words"):
        search(db, "dlhub.file_hashes:*a*", advanced=True)


@pytest.mark.parametrize(
    ("sort", "message"),
    [
        ([{"order": "asc"}], "needs a field_name"),
        ([{"field_name": "dlhub.name", "order": "up"}], "'asc' or 'desc'"),
        (["dlhub.name"], "a sort entry is"),
    ],
)
def test_malformed_sorts(db: Connection, sort: list[object], message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        search(db, "*", sort=sort)  # type: ignore[arg-type]


def nested(levels: int) -> str:
    query = "dlhub.owner:alice"
    for _ in range(levels):
        query = f"(dlhub.owner:bob OR (dlhub.domains:physics AND NOT {query}))"
    return query


def test_deeply_nested_queries_work_up_to_a_limit(db: Connection) -> None:
    assert search(db, nested(5), advanced=True).total > 0  # 15 levels
    for query in (nested(6), "(" * 5000 + "a" + ")" * 5000, "NOT " * 3000 + "a"):
        with pytest.raises(QuerySyntaxError, match="too deeply: at most 16 levels"):
            search(db, query, advanced=True)


def test_a_query_must_be_text(db: Connection) -> None:
    with pytest.raises(QuerySyntaxError, match="text"):
        search(db, ["dlhub.name:x"], advanced=True)  # type: ignore[arg-type]
