"""How text is cut into words, and how queries are read into conditions."""

from __future__ import annotations

import pytest

from dlhub_server.search.analysis import fold, number_key, parse_date, parse_number, words
from dlhub_server.search.query import (
    And,
    Exact,
    Exists,
    Glob,
    MatchAll,
    MatchNone,
    Near,
    Not,
    Number,
    Or,
    Range,
    Words,
    parse_query,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Keras Model", ["keras", "model"]),
        ("my_model-v2.1", ["my", "model", "v2", "1"]),
        ("Über Ärger ﬁle", ["uber", "arger", "file"]),
        ("Straße", ["strasse"]),
        ("中文模型 test", ["中", "文", "模", "型", "test"]),
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),
        ("C++ (beta)", ["c", "beta"]),
        ("+", []),
        ("x" * 300, ["x" * 200]),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_fold_keeps_word_boundaries() -> None:
    assert fold("Ärger-ÉCOLE") == "arger-ecole"


def test_numbers_and_their_keys() -> None:
    assert parse_number("3") == 3 and isinstance(parse_number("3"), int)
    assert parse_number("-2.5") == -2.5
    assert parse_number("1e-3") == 0.001
    for text in ("", "abc", "1.2.3", "nan", "inf", "1 2"):
        assert parse_number(text) is None
    assert number_key(3) == number_key(3.0) == "3"
    assert number_key(-2.5) == "m2p5"
    assert number_key(1.5e-7) == "1p5em07"
    assert number_key(10**30) == number_key(1e30)
    assert all(c.isalnum() for c in number_key(-1.25e-300))


def test_iso_dates_cover_their_span() -> None:
    day = parse_date("2020-01-31")
    assert day is not None and (day.start, day.end) == (1580428800000, 1580515200000)
    month = parse_date("2020-02")
    assert month is not None and month.end - month.start == 29 * 86400000
    moment = parse_date("2020-01-31T12:00:00Z")
    assert moment is not None and moment.end - moment.start == 1000
    zoned = parse_date("2020-01-31T12:00+02:00")
    assert zoned is not None and zoned.start == 1580464800000 and zoned.end - zoned.start == 60000
    fraction = parse_date("2020-01-31T12:00:00.250Z")
    assert fraction is not None and fraction.start == 1580472000250
    for text in ("2020", "2020-13-01", "2020-02-30", "31/01/2020", "2020-01-31T25:00"):
        assert parse_date(text) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("deep learning", And((Words(None, ("deep",)), Words(None, ("learning",))))),
        (
            '"deep learning" keras',
            And((Words(None, ("deep", "learning")), Words(None, ("keras",)))),
        ),
        ("10.1021/acs.jpcc", Words(None, ("10", "1021", "acs", "jpcc"))),
        ("learn*", Words(None, ("learn",), prefix=True)),
        ("", MatchAll()),
        ("*", MatchAll()),
        ("+++", MatchNone()),
        ("deep - learning", And((Words(None, ("deep",)), Words(None, ("learning",))))),
    ],
)
def test_plain_queries(query: str, expected: object) -> None:
    assert parse_query(query, advanced=False) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            'servable.type:"Keras Model" AND dlhub.domains:"chemistry"',
            And(
                (Words("servable.type", ("keras", "model")), Words("dlhub.domains", ("chemistry",)))
            ),
        ),
        ("a:x b:y", And((Words("a", ("x",)), Words("b", ("y",))))),
        ("a:x OR NOT b:y", Or((Words("a", ("x",)), Not(Words("b", ("y",)))))),
        ("a:(x OR y)", Or((Words("a", ("x",)), Words("a", ("y",))))),
        (
            "a:x || b:y && c:z",
            Or((Words("a", ("x",)), And((Words("b", ("y",)), Words("c", ("z",)))))),
        ),
        ("a:3", Or((Words("a", ("3",)), Number("a", 3)))),
        ("a:\\-2.5", Or((Words("a", ("2", "5")), Number("a", -2.5)))),
        ('a:"+"', Exact("a", "+")),
        ("a:*", Exists("a")),
        ("_exists_:a.b", Exists("a.b")),
        ("a:[1 TO 5}", Range("a", 1, 5, True, False, "number")),
        ("a:>=2", Range("a", 2, None, True, True, "number")),
        ("a:<2", Range("a", None, 2, True, False, "number")),
        ("a:[* TO *]", Exists("a")),
        ("a:[Alpha TO m]", Range("a", "alpha", "m", True, True, "text")),
        (
            "a:[2020-01-01 TO 2020-01-31]",
            Range("a", 1577836800000, 1580515200000, True, False, "number"),
        ),
        (
            "a:{2020-01-01 TO 2020-01-31}",
            Range("a", 1577923200000, 1580428800000, True, False, "number"),
        ),
        ("a:Ker*", Words("a", ("ker",), prefix=True)),
        ("a:my\\ mod*", Words("a", ("my", "mod"), prefix=True)),
        ("a:K?ras", Glob("a", "k?ras", whole_value=False)),
        ("a:*_v\\[1\\]?", Glob("a", "*_v[[]1]?", whole_value=True)),
        ('"a b"~2', Near(None, ("a", "b"), 2)),
        ("x^3", Words(None, ("x",))),
        ("NOT NOT x", Words(None, ("x",))),
        ("*:*", MatchAll()),
    ],
)
def test_advanced_queries(query: str, expected: object) -> None:
    assert parse_query(query, advanced=True) == expected


def test_a_date_value_also_matches_its_day() -> None:
    assert parse_query("a:2020-01-31", advanced=True) == Or(
        (
            Words("a", ("2020", "01", "31")),
            Range("a", 1580428800000, 1580515200000, True, False, "number"),
        )
    )
