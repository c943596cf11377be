"""Every operator of the advanced syntax, checked against the oracle over the corpus.

Each query runs for three callers (anonymous, alice, bob in the group ``lab``) with
and without ``only_latest``; the engine must return exactly the versions the
oracle (plain Python over the documents) finds.
"""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any

import pytest
from search_corpus import (
    Predicate,
    all_of,
    any_of,
    between,
    exists,
    expected_ids,
    has,
    ids,
    not_,
    text_has,
    values,
)
from sqlalchemy import Connection

from dlhub_server.search import search
from dlhub_server.search.analysis import fold, words

CALLERS = [
    pytest.param({"public"}, id="anonymous"),
    pytest.param({"public", "user:alice"}, id="alice"),
    pytest.param({"public", "user:bob", "group:lab"}, id="bob+lab"),
]

MS_2019_06_01 = 1559347200000
MS_2020_01_01 = 1577836800000


def word_matches(path: str, pattern: str) -> Predicate:
    """A word of a value at ``path`` matches a glob pattern."""
    return lambda d: any(
        fnmatch.fnmatchcase(w, pattern)
        for v in values(d, path)
        if isinstance(v, str)
        for w in words(v)
    )


def whole_value_matches(path: str, pattern: str) -> Predicate:
    return lambda d: any(
        isinstance(v, str) and fnmatch.fnmatchcase(fold(v), pattern) for v in values(d, path)
    )


def text_between(path: str, low: str, high: str) -> Predicate:
    return lambda d: any(isinstance(v, str) and low <= fold(v) < high for v in values(d, path))


def prefix_phrase(path: str, first: str, prefix: str) -> Predicate:
    def check(document: dict[str, Any]) -> bool:
        for value in values(document, path):
            found = words(str(value))
            if any(a == first and b.startswith(prefix) for a, b in itertools.pairwise(found)):
                return True
        return False

    return check


def near(first: str, second: str, distance: int) -> Predicate:
    """Both words in one full-text column with at most ``distance`` words between them."""

    def check(document: dict[str, Any]) -> bool:
        for column in _text(document):
            sequence = [w for value in column for w in ("_", *value)]
            at = [i for i, w in enumerate(sequence) if w == first]
            to = [i for i, w in enumerate(sequence) if w == second]
            if any(abs(i - j) - 1 <= distance for i in at for j in to):
                return True
        return False

    return check


def _text(document: dict[str, Any]) -> Any:
    from dlhub_server.search.indexer import analyze_document

    return analyze_document(document).text.values()


TYPE, DOMAINS, OWNER = "servable.type", "dlhub.domains", "dlhub.owner"
VERSION, DATE = "dlhub.servable_version", "dlhub.publication_date"

CASES: list[tuple[str, Predicate]] = [
    # the manual's example
    (
        'servable.type:"Keras Model" AND dlhub.domains:"chemistry"',
        all_of(has(TYPE, "Keras Model"), has(DOMAINS, "chemistry")),
    ),
    # field:value, field:"phrase": case-insensitive, whole value or words inside it
    ("dlhub.domains:chemistry", has(DOMAINS, "chemistry")),
    ('servable.type:"keras MODEL"', has(TYPE, "Keras Model")),
    ('servable.type:"model"', has(TYPE, "model")),
    ('dlhub.domains:"science"', has(DOMAINS, "science")),
    ('datacite.titles.title:"crystal hybrid"', has("datacite.titles.title", "crystal hybrid")),
    (
        'datacite.creators.creatorName:"Ward, Logan"',
        has("datacite.creators.creatorName", "Ward, Logan"),
    ),
    # boolean operators, + and -, parentheses, && || !
    (
        "dlhub.domains:biology OR dlhub.domains:astronomy",
        any_of(has(DOMAINS, "biology"), has(DOMAINS, "astronomy")),
    ),
    (
        'servable.type:"Keras Model" AND NOT dlhub.domains:chemistry',
        all_of(has(TYPE, "Keras Model"), not_(has(DOMAINS, "chemistry"))),
    ),
    ("NOT dlhub.owner:alice", not_(has(OWNER, "alice"))),
    ("-dlhub.domains:chemistry", not_(has(DOMAINS, "chemistry"))),
    (
        '+servable.type:"Torch Model" +dlhub.owner:bob',
        all_of(has(TYPE, "Torch Model"), has(OWNER, "bob")),
    ),
    (
        "dlhub.owner:alice dlhub.domains:physics",
        all_of(has(OWNER, "alice"), has(DOMAINS, "physics")),
    ),
    (
        '(dlhub.owner:alice OR dlhub.owner:bob) AND servable.type:"Torch Model"',
        all_of(any_of(has(OWNER, "alice"), has(OWNER, "bob")), has(TYPE, "Torch Model")),
    ),
    (
        "dlhub.domains:(biology OR astronomy)",
        any_of(has(DOMAINS, "biology"), has(DOMAINS, "astronomy")),
    ),
    (
        "dlhub.owner:alice && dlhub.domains:physics",
        all_of(has(OWNER, "alice"), has(DOMAINS, "physics")),
    ),
    ("dlhub.owner:alice || dlhub.owner:bob", any_of(has(OWNER, "alice"), has(OWNER, "bob"))),
    (
        "dlhub.domains:physics AND !dlhub.owner:alice",
        all_of(has(DOMAINS, "physics"), not_(has(OWNER, "alice"))),
    ),
    (
        "dlhub.owner:alice OR NOT dlhub.domains:chemistry",
        any_of(has(OWNER, "alice"), not_(has(DOMAINS, "chemistry"))),
    ),
    (
        "dlhub.domains:chemistry^2 AND dlhub.owner:carol",
        all_of(has(DOMAINS, "chemistry"), has(OWNER, "carol")),
    ),
    # wildcards
    ("servable.type:Ker*", word_matches(TYPE, "ker*")),
    ("servable.type:*orch", word_matches(TYPE, "*orch")),
    ("datacite.titles.title:cr?stal", word_matches("datacite.titles.title", "cr?stal")),
    ("dlhub.name:cr?stal_model_1*", whole_value_matches("dlhub.name", "cr?stal_model_1*")),
    ("dlhub.shorthand_name:alice\\/crys*", prefix_phrase("dlhub.shorthand_name", "alice", "crys")),
    ("dlhub.name:*_model_17", whole_value_matches("dlhub.name", "*_model_17")),
    # field existence
    ("servable.model_type:*", exists("servable.model_type")),
    ("_exists_:servable.options", exists("servable.options")),
    ("_exists_:servable.options.gpu", exists("servable.options.gpu")),
    ("NOT _exists_:servable.options", not_(exists("servable.options"))),
    (
        "dlhub.domains:physics AND NOT servable.model_type:*",
        all_of(has(DOMAINS, "physics"), not_(exists("servable.model_type"))),
    ),
    ("dlhub.version:[* TO *]", exists("dlhub.version")),
    # ranges on numbers and dates
    ("dlhub.servable_version:[2 TO 3]", between(VERSION, 2, 3)),
    ("dlhub.servable_version:{1 TO 3}", between(VERSION, 1, 3, inclusive=False)),
    ("dlhub.servable_version:>=2", between(VERSION, 2, None)),
    ("dlhub.servable_version:>2", between(VERSION, 2, None, inclusive=False)),
    (
        "servable.options.learning_rate:[0.002 TO 0.005]",
        between("servable.options.learning_rate", 0.002, 0.005),
    ),
    ("servable.options.epochs:{* TO 30]", between("servable.options.epochs", None, 30)),
    (
        f"dlhub.publication_date:[{MS_2019_06_01} TO {MS_2020_01_01}]",
        between(DATE, MS_2019_06_01, MS_2020_01_01),
    ),
    # ISO dates in bounds: a day-only upper bound includes the whole day (as Elasticsearch)
    (
        "dlhub.publication_date:[2019-06-01 TO 2019-12-31]",
        between(DATE, MS_2019_06_01, MS_2020_01_01 - 1),
    ),
    (
        "dlhub.publication_date:{2019-06-01 TO 2020-01-01}",
        between(DATE, MS_2019_06_01 + 86400000, MS_2020_01_01 - 1),
    ),
    ('dlhub.publication_date:["2019-06-01T00:00:00Z" TO *]', between(DATE, MS_2019_06_01, None)),
    (
        "dlhub.publication_date:[2019-06 TO 2019-07]",
        between(DATE, MS_2019_06_01, MS_2019_06_01 + 61 * 86400000 - 1),
    ),
    # text ranges compare folded strings
    ("dlhub.owner:[a TO c}", text_between(OWNER, "a", "c")),
    # numbers, booleans and a date as values
    ("dlhub.servable_version:2", has(VERSION, "2")),
    ("servable.options.gpu:true", has("servable.options.gpu", "true")),
    (
        "servable.options.gpu:false AND dlhub.owner:bob",
        all_of(has("servable.options.gpu", "false"), has(OWNER, "bob")),
    ),
    ("servable.options.learning_rate:0.003", has("servable.options.learning_rate", "0.003")),
    ("servable.options.epochs:20.0", has("servable.options.epochs", "20")),
    ("dlhub.publication_date:2019-01-01", between(DATE, 1546300800000, 1546387200000 - 1)),
    # DOIs, related DOIs, hashes under a file name
    (
        'datacite.identifier.identifier:"10.5555/dlhub.3"',
        has("datacite.identifier.identifier", "10.5555/dlhub.3"),
    ),
    (
        'datacite.relatedIdentifiers.relatedIdentifier:"10.1021/acs.jpc.4"',
        has("datacite.relatedIdentifiers.relatedIdentifier", "10.1021/acs.jpc.4"),
    ),
    # bare terms mixed in: the full text
    ("crystal AND dlhub.owner:alice", all_of(text_has("crystal"), has(OWNER, "alice"))),
    ('"band gap"', text_has("band gap")),
    ("crystal -polymer", all_of(text_has("crystal"), not_(text_has("polymer")))),
    ("crystal OR galaxy", any_of(text_has("crystal"), text_has("galaxy"))),
    ("cryst*", lambda d: any(w.startswith("cryst") for col in _text(d) for v in col for w in v)),
    ('"crystal predictor"~1', near("crystal", "predictor", 1)),
    # unicode
    ("dlhub.domains:química", has(DOMAINS, "química")),
    ("dlhub.domains:quimica", has(DOMAINS, "química")),
    (
        'datacite.creators.creatorName:"Müller, Jürgen"',
        has("datacite.creators.creatorName", "Müller, Jürgen"),
    ),
    ('datacite.creators.creatorName:"王, 伟"', has("datacite.creators.creatorName", "王, 伟")),
    ("中文", text_has("中文")),
    ("МОДЕЛЬ", text_has("модель")),
    # values of symbols only, and Lucene's special characters escaped
    ('servable.options.marker:"+"', lambda d: "+" in values(d, "servable.options.marker")),
    ('datacite.titles.title:"C++ (beta)"', has("datacite.titles.title", "C++ (beta)")),
    ("datacite.titles.title:C\\+\\+\\ \\(beta\\)", has("datacite.titles.title", "C++ (beta)")),
    ('"uses AND, OR and NOT"', text_has("uses and or and not")),
    # unknown fields match nothing (and their negation everything)
    ("no.such.path:x", lambda d: False),
    ("NOT no.such.path:x", lambda d: True),
    ("*", lambda d: True),
    ("*:*", lambda d: True),
]


@pytest.mark.parametrize("only_latest", [True, False], ids=["latest", "all-versions"])
@pytest.mark.parametrize("principals", CALLERS)
@pytest.mark.parametrize(("query", "predicate"), CASES, ids=[q for q, _ in CASES])
def test_query_finds_what_the_oracle_finds(
    db: Connection,
    documents: list[dict[str, Any]],
    query: str,
    predicate: Predicate,
    principals: set[str],
    only_latest: bool,
) -> None:
    page = search(
        db, query, advanced=True, principals=principals, limit=None, only_latest=only_latest
    )
    found = ids(page.results)
    assert len(found) == len(set(found)), "a version was returned twice"
    expected = expected_ids(documents, predicate, principals, only_latest)
    assert set(found) == expected
    assert page.total == len(expected)


def test_the_cases_are_not_trivial(documents: list[dict[str, Any]]) -> None:
    """Most cases select some versions but not all: a broken engine could not pass them."""
    everything = expected_ids(documents, lambda d: True)
    selective = [q for q, p in CASES if 0 < len(expected_ids(documents, p)) < len(everything)]
    assert len(selective) >= len(CASES) - 8
