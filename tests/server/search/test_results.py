"""Pages, totals, ranking, plain queries and what results look like."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from search_corpus import expected_ids, has, ids, text_has
from sqlalchemy import Connection

from dlhub_server.search import SearchPage, search


def test_results_are_the_documents_as_published_with_native_types(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    by_id = {d["dlhub"]["id"]: d for d in documents}
    page = search(db, "dlhub.servable_version:2", advanced=True, limit=5)
    assert isinstance(page, SearchPage)
    assert page.results
    for result in page.results:
        assert result == by_id[result["dlhub"]["id"]]
        assert isinstance(result["dlhub"]["publication_date"], int)
        assert isinstance(result["dlhub"]["servable_version"], int)
    with_options = search(db, "servable.options.gpu:true", advanced=True, limit=1).results[0]
    assert with_options["servable"]["options"]["gpu"] is True
    assert isinstance(with_options["servable"]["options"]["learning_rate"], float)


def test_limit_none_returns_everything_and_pages_cover_it_exactly(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    for query, advanced in [("*", False), ("model", False), ("dlhub.domains:chemistry", True)]:
        every = search(db, query, advanced=advanced, limit=None, only_latest=False)
        assert len(every.results) == every.total
        assert len(every.scores) == every.total
        pages: list[str] = []
        for offset in range(0, every.total + 7, 7):
            page = search(db, query, advanced=advanced, limit=7, offset=offset, only_latest=False)
            assert page.total == every.total
            assert len(page.results) == min(7, max(0, every.total - offset))
            pages.extend(ids(page.results))
        assert pages == ids(every.results)


def test_plain_query_without_limit_has_no_hidden_cap(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    everything = search(db, "*", limit=None, only_latest=False, principals={"public"})
    assert everything.total == len([d for d in documents if d["dlhub"]["visible_to"] == ["public"]])
    assert everything.total > 200


def test_limit_zero_and_offsets_past_the_end(db: Connection) -> None:
    total = search(db, "model").total
    assert total > 0
    assert search(db, "model", limit=0) == SearchPage([], [], total)
    assert search(db, "model", limit=10, offset=total) == SearchPage([], [], total)
    assert search(db, "model", limit=None, offset=total + 5).total == total
    with pytest.raises(ValueError, match="limit"):
        search(db, "model", limit=-1)
    with pytest.raises(ValueError, match="offset"):
        search(db, "model", offset=-3)


def test_queries_without_free_text_list_the_newest_first(db: Connection) -> None:
    page = search(db, "dlhub.domains:physics", advanced=True, limit=None, only_latest=False)
    dates = [d["dlhub"]["publication_date"] for d in page.results]
    assert dates == sorted(dates, reverse=True)
    assert set(page.scores) == {0.0}


def test_ranking_puts_the_title_match_first(db: Connection) -> None:
    page = search(db, "band gap", limit=5)
    names = [d["dlhub"]["name"] for d in page.results]
    # the other version mentions "band gap" three times, but only in its abstract
    assert names[:2] == ["band_gap_title", "band_gap_abstract"]
    assert page.scores[0] > page.scores[1] > 0
    assert page.scores == sorted(page.scores, reverse=True)
    advanced = search(db, 'servable.type:"Keras Model" AND "band gap"', advanced=True)
    assert [d["dlhub"]["name"] for d in advanced.results] == ["band_gap_title", "band_gap_abstract"]


def test_scores_rank_mixed_queries_too(db: Connection) -> None:
    # free text inside an OR with a range: scored by the text part
    page = search(db, '"band gap" OR dlhub.servable_version:[3 TO *]', advanced=True, limit=None)
    assert page.results[0]["dlhub"]["name"] == "band_gap_title"
    assert page.scores[0] > 0 and page.scores[-1] == 0.0


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("band gap", "band gap"),
        ("BAND   Gap", "band gap"),
        ('"semiconductor screening"', "semiconductor screening"),
        ("crystal predictor", None),
        ("regress*", "regression"),
        ("10.5555/dlhub.3", "10 5555 dlhub 3"),
        ("über netz", "uber netz"),
        ("arzte", "ärzte"),
        ("中文", "中文"),
        ("модель", "модель"),
        ("naïve café", "naive cafe"),
    ],
)
def test_plain_queries_match_every_word_in_the_full_text(
    db: Connection, documents: list[dict[str, Any]], query: str, text: str | None
) -> None:
    if text is None:
        predicate = lambda d: text_has("crystal")(d) and text_has("predictor")(d)  # noqa: E731
    elif query.endswith("*"):
        predicate = lambda d: text_has("regression")(d)  # noqa: E731
    else:
        predicate = text_has(text)
    page = search(db, query, limit=None)
    expected = expected_ids(documents, predicate)
    assert set(ids(page.results)) == expected and expected


def test_plain_queries_never_fail(db: Connection) -> None:
    for query in ["a AND", '"unterminated', "(((", "field:[1 TO", "!!!", "-", "a:b:c", "*?"]:
        page = search(db, query)
        assert page.total >= 0
    assert search(db, "!!!").total == 0
    assert search(db, "").total == search(db, "*").total > 0
    # punctuation between words is not a word that must be found
    assert search(db, "band - gap !").total == search(db, "band gap").total > 0


def test_unicode_fields_owners_and_authors(db: Connection, documents: list[dict[str, Any]]) -> None:
    page = search(db, "dlhub.domains:физика", advanced=True)
    assert [d["dlhub"]["name"] for d in page.results] == ["unicode_model"]
    page = search(db, 'datacite.titles.title:"ÜBER-NETZ"', advanced=True)
    assert [d["dlhub"]["name"] for d in page.results] == ["unicode_model"]
    authors = "datacite.creators.creatorName"
    page = search(db, f'{authors}:"王"', advanced=True, limit=None)
    assert set(ids(page.results)) == expected_ids(documents, has(authors, "王"))


def test_documents_are_not_shared_between_results(db: Connection) -> None:
    first = search(db, "dlhub.owner:alice", advanced=True, limit=1).results[0]
    kept = copy.deepcopy(first)
    first["dlhub"]["name"] = "changed"
    again = search(db, "dlhub.owner:alice", advanced=True, limit=1).results[0]
    assert again == kept
