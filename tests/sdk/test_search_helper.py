"""The query builder behind ``client.query``: ``dlhub_sdk.utils.search``.

Every query the helper writes is parsed with luqum, the Lucene-syntax parser the
hub uses, so a test fails if the helper writes something the hub cannot read.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import numpy as np
import pytest
from luqum.parser import parser
from luqum.tree import (
    AndOperation,
    Group,
    Not,
    OrOperation,
    Phrase,
    Range,
    SearchField,
    Word,
)

from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from dlhub_sdk.utils.search import (
    DLHubSearchHelper,
    escape_term,
    filter_latest,
    get_method_details,
    quote_phrase,
)

# Every character with a meaning in Lucene, plus quotes, spaces and operator words.
TRICKY = [
    'a "quoted" word',
    "back\\slash",
    "ends with backslash \\",
    '+ - && || ! ( ) { } [ ] ^ " ~ * ? : \\ /',
    "10.1021/acs.jpcc.8b05213",
    "AND",
    "OR NOT",
    "field:value",
    "(unbalanced",
    "wild*card?",
    "über ünïcode ✓ — dash",
    "tab\tand space",
]


class RecordingClient:
    """Stands in for DLHubClient only to capture the query text the helper sends."""

    def __init__(self, documents: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.documents = documents or [{"dlhub": {"name": "x"}}]

    def search(
        self,
        query: str,
        advanced: bool = False,
        limit: int | None = None,
        only_latest: bool = True,
        sort: list[dict[str, str]] | None = None,
        get_info: bool = False,
    ) -> Any:
        self.calls.append(
            {
                "query": query,
                "advanced": advanced,
                "limit": limit,
                "only_latest": only_latest,
                "sort": sort,
                "get_info": get_info,
            }
        )
        if get_info:
            return self.documents, {"query": query}
        return self.documents


def parse(query: str) -> Any:
    """The luqum tree of a query (raises if the hub could not read it)."""
    return parser.parse(query)


def literal(node: Any) -> str:
    """The text a Phrase or Word node matches, with Lucene escapes undone."""
    text = node.value
    if isinstance(node, Phrase):
        text = text[1:-1]
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def same_query(left: str, right: str) -> bool:
    return repr(parse(left)) == repr(parse(right))


# --- the manual's example --------------------------------------------------------------


def test_manual_example_matches_the_advanced_query_of_the_manual() -> None:
    client = RecordingClient()
    helper = DLHubSearchHelper(client)
    helper.match_term("servable.type", "Keras Model").match_domains("chemistry").search()
    sent = client.calls[0]
    manual = 'servable.type:"Keras Model" AND dlhub.domains:"chemistry"'
    assert sent["query"] == manual
    assert same_query(sent["query"], manual)
    assert sent["advanced"] is True
    assert sent["only_latest"] is True
    assert sent["limit"] is None
    assert sent["sort"] is None
    assert sent["get_info"] is False


# --- escaping ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", TRICKY)
def test_phrases_match_any_text_literally(text: str) -> None:
    tree = parse("f:" + quote_phrase(text))
    assert isinstance(tree, SearchField)
    assert isinstance(tree.expr, Phrase)
    assert literal(tree.expr) == text


@pytest.mark.parametrize("text", TRICKY)
def test_escaped_terms_are_one_literal_word(text: str) -> None:
    tree = parse("f:" + escape_term(text))
    assert isinstance(tree, SearchField)
    assert isinstance(tree.expr, Word)
    assert literal(tree.expr) == text


@pytest.mark.parametrize("text", TRICKY)
def test_field_values_round_trip_through_the_parser(text: str) -> None:
    query = DLHubSearchHelper().match_field("dlhub.name", text).current_query()
    tree = parse(query)
    assert isinstance(tree, SearchField)
    assert tree.name == "dlhub.name"
    assert literal(tree.expr) == text


def test_special_characters_are_escaped_exactly() -> None:
    assert quote_phrase('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'
    assert escape_term("a+b c") == "a\\+b\\ c"
    assert escape_term("10.1/x:y") == "10.1\\/x\\:y"
    assert escape_term("a*b?") == "a\\*b\\?"
    assert escape_term("AND") == "\\AND"
    assert escape_term("ANDROID") == "ANDROID"


def test_line_breaks_are_kept_in_phrases_and_refused_in_bare_terms() -> None:
    tree = parse(DLHubSearchHelper().match_field("f", "two\nlines").current_query())
    assert literal(tree.expr) == "two\nlines"
    with pytest.raises(ValueError, match="line break"):
        DLHubSearchHelper().match_field("f", "two\nlines*", wildcard=True)


def test_wildcards_when_asked() -> None:
    helper = DLHubSearchHelper().match_field("dlhub.name", "my model*", wildcard=True)
    query = helper.current_query()
    assert query == "dlhub.name:my\\ model*"
    tree = parse(query)
    assert isinstance(tree.expr, Word)
    assert tree.expr.value.endswith("*") and not tree.expr.value.endswith("\\*")
    # other specials stay escaped, and without wildcard=True the star is literal
    assert DLHubSearchHelper().match_field("f", "a:b?", wildcard=True).current_query() == "f:a\\:b?"
    assert DLHubSearchHelper().match_field("f", "a*").current_query() == 'f:"a*"'
    assert DLHubSearchHelper().match_term("qm?", wildcard=True).current_query() == "qm?"
    assert DLHubSearchHelper().exclude_field("f", "x*", wildcard=True).current_query() == "NOT f:x*"


def test_numbers_booleans_and_datetimes() -> None:
    helper = DLHubSearchHelper()
    helper.match_field("dlhub.servable_version", 3).match_field("a.b", -2.5)
    helper.match_field("c", True).match_field("d", np.int64(7))
    moment = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    helper.match_field("dlhub.publication_date", moment)
    query = helper.current_query()
    assert query == (
        "dlhub.servable_version:3 AND a.b:\\-2.5 AND c:true AND d:7 "
        "AND dlhub.publication_date:1577836800000"
    )
    tree = parse(query)
    assert [literal(child.expr) for child in tree.children] == [
        "3",
        "-2.5",
        "true",
        "7",
        "1577836800000",
    ]


def test_bad_values_and_fields_are_refused() -> None:
    helper = DLHubSearchHelper()
    with pytest.raises(ValueError, match="empty"):
        helper.match_field("dlhub.name", "")
    with pytest.raises(TypeError, match="list"):
        helper.match_field("dlhub.name", ["a"])
    with pytest.raises(ValueError, match="nan"):
        helper.match_field("x", float("nan"))
    for field in ("", "dlhub name", "dlhub.name:x", "a..b", ".a", "a)", "*"):
        with pytest.raises(ValueError, match="not a field name"):
            helper.match_field(field, "x")
    assert not helper.initialized


# --- combining conditions ---------------------------------------------------------------


def test_free_terms() -> None:
    helper = DLHubSearchHelper().match_term("deep learning").match_term("keras")
    assert helper.current_query() == '"deep learning" AND "keras"'
    tree = parse(helper.current_query())
    assert isinstance(tree, AndOperation)
    assert [literal(c) for c in tree.children] == ["deep learning", "keras"]


def test_or_inside_and_is_grouped() -> None:
    helper = DLHubSearchHelper()
    helper.match_field("servable.type", "Keras Model")
    helper.match_domains(["chemistry", "materials science"], match_all=False)
    helper.match_owner("alice")
    query = helper.current_query()
    assert query == (
        'servable.type:"Keras Model" AND '
        '(dlhub.domains:"chemistry" OR dlhub.domains:"materials science") AND '
        'dlhub.owner:"alice"'
    )
    tree = parse(query)
    assert isinstance(tree, AndOperation)
    first, group, last = tree.children
    assert isinstance(first, SearchField) and isinstance(last, SearchField)
    assert isinstance(group, Group) and isinstance(group.expr, OrOperation)
    assert [literal(c.expr) for c in group.expr.children] == ["chemistry", "materials science"]


def test_required_false_ors_with_the_previous_condition() -> None:
    helper = DLHubSearchHelper()
    helper.match_field("servable.type", "Keras Model")
    helper.match_field("servable.type", "Torch Model", required=False)
    assert helper.current_query() == 'servable.type:"Keras Model" OR servable.type:"Torch Model"'
    helper.match_exists("dlhub.domains")
    assert same_query(
        helper.current_query(),
        '(servable.type:"Keras Model" OR servable.type:"Torch Model") AND dlhub.domains:*',
    )
    # the first condition has nothing to OR with: it simply starts the query
    assert DLHubSearchHelper().match_field("a", "x", required=False).current_query() == 'a:"x"'


def test_exclusions() -> None:
    helper = DLHubSearchHelper().match_domains("chemistry").exclude_field("dlhub.owner", "bob")
    helper.match_not_exists("servable.model_summary")
    query = helper.current_query()
    assert query == (
        'dlhub.domains:"chemistry" AND NOT dlhub.owner:"bob" AND NOT servable.model_summary:*'
    )
    tree = parse(query)
    assert isinstance(tree.children[1], Not) and isinstance(tree.children[2], Not)
    with pytest.raises(ValueError, match="exclusion"):
        helper.match_field("dlhub.owner", "carol", required=False)


def test_authors_all_or_any() -> None:
    authors = ["Ward, Logan", "Blaiszik, Ben"]
    every = DLHubSearchHelper().match_authors(authors).current_query()
    assert every == (
        'datacite.creators.creatorName:"Ward, Logan" AND '
        'datacite.creators.creatorName:"Blaiszik, Ben"'
    )
    assert isinstance(parse(every), AndOperation)
    anyone = DLHubSearchHelper().match_authors(authors, match_all=False).current_query()
    assert isinstance(parse(anyone), OrOperation)
    one = DLHubSearchHelper().match_authors("Ward, Logan").current_query()
    assert one == 'datacite.creators.creatorName:"Ward, Logan"'
    assert not DLHubSearchHelper().match_authors([]).initialized
    assert not DLHubSearchHelper().match_authors(None).initialized


def test_domains_all_or_any_after_other_conditions() -> None:
    helper = DLHubSearchHelper().match_owner("alice").match_domains(["a", "b"], match_all=True)
    assert (
        helper.current_query() == 'dlhub.owner:"alice" AND dlhub.domains:"a" AND dlhub.domains:"b"'
    )
    helper = DLHubSearchHelper().match_owner("alice").match_domains(("a", "b"), match_all=False)
    assert (
        helper.current_query() == 'dlhub.owner:"alice" AND (dlhub.domains:"a" OR dlhub.domains:"b")'
    )


def test_ranges() -> None:
    inclusive = (
        DLHubSearchHelper().match_range("dlhub.publication_date", 1000, 2000).current_query()
    )
    assert inclusive == "dlhub.publication_date:[1000 TO 2000]"
    tree = parse(inclusive)
    assert isinstance(tree.expr, Range)
    assert tree.expr.include_low and tree.expr.include_high
    exclusive = DLHubSearchHelper().match_range("dlhub.servable_version", 2, inclusive=False)
    assert exclusive.current_query() == "dlhub.servable_version:{2 TO *}"
    tree = parse(exclusive.current_query())
    assert not tree.expr.include_low and not tree.expr.include_high
    assert literal(tree.expr.high) == "*"
    text = DLHubSearchHelper().match_range("dlhub.name", "a b", "m").current_query()
    assert text == 'dlhub.name:["a b" TO "m"]'
    assert [literal(b) for b in (parse(text).expr.low, parse(text).expr.high)] == ["a b", "m"]
    start = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    dated = DLHubSearchHelper().match_range("dlhub.publication_date", start).current_query()
    assert dated == "dlhub.publication_date:[1609459200000 TO *]"
    negative = DLHubSearchHelper().match_range("x", -5, 5).current_query()
    assert literal(parse(negative).expr.low) == "-5"
    # an unbounded range is just "has a value"
    assert DLHubSearchHelper().match_range("dlhub.name").current_query() == "dlhub.name:*"


def test_exists() -> None:
    query = DLHubSearchHelper().match_exists("servable.model_summary").current_query()
    assert query == "servable.model_summary:*"
    assert isinstance(parse(query), SearchField)


def test_servable_owner_and_version() -> None:
    helper = DLHubSearchHelper().match_servable(
        "iris_svm", owner="alice", publication_date=1577836800000
    )
    assert helper.current_query() == (
        'dlhub.name:"iris_svm" AND dlhub.owner:"alice" AND dlhub.publication_date:1577836800000'
    )
    shorthand = DLHubSearchHelper().match_servable("alice/iris_svm", version=2).current_query()
    assert shorthand == 'dlhub.name:"iris_svm" AND dlhub.owner:"alice" AND dlhub.servable_version:2'
    with pytest.raises(ValueError, match="does not belong"):
        DLHubSearchHelper().match_servable("alice/iris_svm", owner="bob")
    assert not DLHubSearchHelper().match_servable().initialized
    assert not DLHubSearchHelper().match_owner(None).initialized
    assert DLHubSearchHelper().match_owner("bob").current_query() == 'dlhub.owner:"bob"'


def test_doi_matches_own_or_related_identifier() -> None:
    for given in (
        "10.1021/acs.jpcc.8b05213",
        "https://doi.org/10.1021/acs.jpcc.8b05213",
        "doi:10.1021/acs.jpcc.8b05213",
    ):
        query = DLHubSearchHelper().match_doi(given).current_query()
        assert query == (
            'datacite.identifier.identifier:"10.1021/acs.jpcc.8b05213" OR '
            'datacite.relatedIdentifiers.relatedIdentifier:"10.1021/acs.jpcc.8b05213"'
        )
    combined = DLHubSearchHelper().match_domains("chemistry").match_doi("10.1/x").current_query()
    tree = parse(combined)
    assert isinstance(tree, AndOperation)
    assert isinstance(tree.children[1], Group)
    assert not DLHubSearchHelper().match_doi(None).initialized


def test_initial_query_is_kept_as_one_clause() -> None:
    helper = DLHubSearchHelper(query="dlhub.owner:alice OR dlhub.owner:bob").match_domains("x")
    assert same_query(
        helper.current_query(), '(dlhub.owner:alice OR dlhub.owner:bob) AND dlhub.domains:"x"'
    )


# --- state and running -----------------------------------------------------------------------


def test_sort_reset_and_initialized() -> None:
    client = RecordingClient()
    helper = DLHubSearchHelper(client)
    assert not helper.initialized
    assert helper.current_query() == ""
    helper.match_owner("alice").add_sort("dlhub.publication_date", ascending=False).add_sort(
        "dlhub.name"
    )
    assert helper.initialized
    assert helper.sort == [
        {"field_name": "dlhub.publication_date", "order": "desc"},
        {"field_name": "dlhub.name", "order": "asc"},
    ]
    expected_sort = helper.sort
    helper.search(limit=5, only_latest=False)
    call = client.calls[-1]
    assert call["sort"] == expected_sort
    assert call["query"] == 'dlhub.owner:"alice"'
    assert (call["limit"], call["only_latest"]) == (5, False)
    # the query was reset after the search
    assert not helper.initialized and helper.sort == []
    assert "alice" in repr(DLHubSearchHelper().match_owner("alice"))
    with pytest.raises(ValueError, match="not a field name"):
        helper.add_sort("bad field")


def test_search_keeps_query_when_asked_and_returns_info() -> None:
    client = RecordingClient([{"dlhub": {"name": "a"}}])
    helper = DLHubSearchHelper(client).match_owner("alice")
    results, info = helper.search(info=True, reset_query=False)
    assert results == [{"dlhub": {"name": "a"}}]
    assert info == {"query": 'dlhub.owner:"alice"'}
    assert client.calls[-1]["get_info"] is True
    assert helper.initialized
    assert helper.reset_query() is helper
    assert not helper.initialized


def test_search_needs_a_query_and_a_client() -> None:
    with pytest.raises(ValueError, match="no query"):
        DLHubSearchHelper(RecordingClient()).search()
    with pytest.raises(RuntimeError, match="no client"):
        DLHubSearchHelper().match_owner("alice").search()


def test_all_builders_chain() -> None:
    helper = DLHubSearchHelper()
    chained = (
        helper.match_term("x")
        .match_field("a", "b")
        .exclude_field("c", "d")
        .match_range("e", 1, 2)
        .match_exists("f")
        .match_not_exists("g")
        .add_sort("h")
        .match_owner("o")
        .match_servable("s")
        .match_authors("A, B")
        .match_domains("dom")
        .match_doi("10.1/z")
    )
    assert chained is helper
    parse(helper.current_query())


# --- filter_latest -------------------------------------------------------------------------


def _doc(
    owner: str, name: str, version: int | None = None, date: int | str | None = None
) -> dict[str, Any]:
    dlhub: dict[str, Any] = {"owner": owner, "name": name, "shorthand_name": f"{owner}/{name}"}
    if version is not None:
        dlhub["servable_version"] = version
    if date is not None:
        dlhub["publication_date"] = date
    return {"dlhub": dlhub}


def test_filter_latest_by_version() -> None:
    results = [
        _doc("alice", "m", version=1, date=300),
        _doc("bob", "m", version=1, date=100),
        _doc("alice", "m", version=3, date=200),
        _doc("alice", "m", version=2, date=400),
        _doc("alice", "other", version=1),
    ]
    latest = filter_latest(results)
    assert [
        (d["dlhub"]["owner"], d["dlhub"]["name"], d["dlhub"]["servable_version"]) for d in latest
    ] == [
        ("alice", "m", 3),
        ("bob", "m", 1),
        ("alice", "other", 1),
    ]


def test_filter_latest_by_publication_date_and_string_values() -> None:
    results = [
        _doc("alice", "m", date="1000"),
        _doc("alice", "m", date="3000"),
        _doc("alice", "m", date=2000),
    ]
    assert filter_latest(results) == [results[1]]


def test_filter_latest_keeps_documents_it_cannot_group() -> None:
    loose = {"dlhub": {"name": "no-owner"}}
    shorthand_only = {"dlhub": {"shorthand_name": "carol/x", "servable_version": 1}}
    newer = {"dlhub": {"shorthand_name": "carol/x", "servable_version": 2}}
    assert filter_latest([loose, shorthand_only, newer, loose]) == [loose, newer, loose]
    assert filter_latest([]) == []


# --- get_method_details -------------------------------------------------------------------


def _servable_document() -> dict[str, Any]:
    model = PythonStaticMethodModel.create_model("math", "hypot")
    model.set_title("Hypotenuse").set_name("hypot").set_creators(["Pythagoras, Of Samos"])
    model.set_inputs("tuple", "two sides", element_types=["float", "float"])
    model.set_outputs("float", "the hypotenuse")
    model.set_unpack_inputs(True)
    return model.to_dict()


def test_get_method_details() -> None:
    document = _servable_document()
    original = copy.deepcopy(document)
    methods = get_method_details(document)
    assert list(methods) == ["run"]
    assert "method_details" not in methods["run"]
    assert methods["run"]["input"]["type"] == "tuple"
    assert methods["run"]["output"] == {"type": "float", "description": "the hypotenuse"}
    run = get_method_details(document, "run")
    assert run == methods["run"]
    assert document == original  # the document is not changed
    run["input"]["type"] = "changed"
    assert document == original  # and nothing returned is shared with it


def test_get_method_details_errors() -> None:
    document = _servable_document()
    with pytest.raises(KeyError, match="no method 'predict'; the methods are: run"):
        get_method_details(document, "predict")
    with pytest.raises(KeyError, match=r"servable\.methods"):
        get_method_details({"dlhub": {}})


def test_get_method_details_of_a_model() -> None:
    model = PythonStaticMethodModel.create_model("math", "hypot")
    model.set_title("Hypotenuse").set_name("hypot").set_creators(["Pythagoras, Of Samos"])
    model.set_inputs("float", "a").set_outputs("float", "b")
    assert get_method_details(model, "run")["input"] == {"type": "float", "description": "a"}
