"""Each DLHubSearchHelper method end to end: helper -> query string -> the engine.

The helper runs its queries through :class:`EngineClient`, which answers
``search(...)`` the way the hub's route does: with the engine, for one caller.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from search_corpus import (
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

from dlhub_sdk.utils.search import DLHubSearchHelper, filter_latest
from dlhub_server.search import search


class EngineClient:
    """Runs the helper's queries with the search engine for one caller."""

    def __init__(self, connection: Connection, principals: set[str]) -> None:
        self.connection = connection
        self.principals = principals
        self.queries: list[str] = []

    def search(
        self,
        query: str,
        advanced: bool = False,
        limit: int | None = None,
        only_latest: bool = True,
        sort: list[dict[str, str]] | None = None,
        get_info: bool = False,
    ) -> Any:
        self.queries.append(query)
        page = search(
            self.connection,
            query,
            advanced=advanced,
            principals=self.principals,
            limit=limit,
            only_latest=only_latest,
            sort=sort,
        )
        if get_info:
            return page.results, {"total": page.total, "query": query}
        return page.results


@pytest.fixture
def client(db: Connection) -> EngineClient:
    return EngineClient(db, {"public", "user:alice"})


def check(
    client: EngineClient,
    helper: DLHubSearchHelper,
    documents: list[Any],
    predicate: Any,
    only_latest: bool = True,
) -> list[Any]:
    results = helper.search(only_latest=only_latest)
    expected = expected_ids(documents, predicate, client.principals, only_latest)
    assert set(ids(results)) == expected
    assert expected, "the case should find something"
    return results


def test_manual_example(client: EngineClient, documents: list[Any]) -> None:
    helper = DLHubSearchHelper(client)
    results = helper.match_term("servable.type", "Keras Model").match_domains("chemistry").search()
    assert client.queries == ['servable.type:"Keras Model" AND dlhub.domains:"chemistry"']
    expected = expected_ids(
        documents,
        all_of(has("servable.type", "Keras Model"), has("dlhub.domains", "chemistry")),
        client.principals,
    )
    assert set(ids(results)) == expected and expected


def test_match_term_free_text_and_field(client: EngineClient, documents: list[Any]) -> None:
    check(client, DLHubSearchHelper(client).match_term("band gap"), documents, text_has("band gap"))
    check(
        client,
        DLHubSearchHelper(client).match_term("crystal").match_term("dlhub.owner", "carol"),
        documents,
        all_of(text_has("crystal"), has("dlhub.owner", "carol")),
    )
    check(
        client,
        DLHubSearchHelper(client).match_term("cryst*", wildcard=True),
        documents,
        text_has("crystal"),
    )


def test_match_field_with_text_numbers_booleans_and_wildcards(
    client: EngineClient, documents: list[Any]
) -> None:
    check(
        client,
        DLHubSearchHelper(client).match_field("dlhub.servable_version", 2),
        documents,
        has("dlhub.servable_version", "2"),
    )
    check(
        client,
        DLHubSearchHelper(client).match_field("servable.options.gpu", True),
        documents,
        has("servable.options.gpu", "true"),
    )
    check(
        client,
        DLHubSearchHelper(client).match_field("servable.options.learning_rate", 0.003),
        documents,
        has("servable.options.learning_rate", "0.003"),
    )
    check(
        client,
        DLHubSearchHelper(client).match_field("dlhub.name", "crystal_model_1*", wildcard=True),
        documents,
        lambda d: any(str(v).startswith("crystal_model_1") for v in values(d, "dlhub.name")),
    )
    # without wildcard=True, * is a literal character: no name has the word "cryst"
    assert DLHubSearchHelper(client).match_field("dlhub.name", "cryst*").search() == []


def test_match_field_alternatives(client: EngineClient, documents: list[Any]) -> None:
    helper = DLHubSearchHelper(client).match_field("servable.type", "Keras Model")
    helper.match_field("servable.type", "Torch Model", required=False)
    helper.match_domains("physics")
    check(
        client,
        helper,
        documents,
        all_of(
            any_of(has("servable.type", "Keras Model"), has("servable.type", "Torch Model")),
            has("dlhub.domains", "physics"),
        ),
    )


def test_exclude_field(client: EngineClient, documents: list[Any]) -> None:
    helper = (
        DLHubSearchHelper(client).match_domains("chemistry").exclude_field("dlhub.owner", "alice")
    )
    check(
        client,
        helper,
        documents,
        all_of(has("dlhub.domains", "chemistry"), not_(has("dlhub.owner", "alice"))),
    )
    helper = (
        DLHubSearchHelper(client)
        .match_domains("physics")
        .exclude_field("servable.type", "Ker*", wildcard=True)
    )
    check(
        client,
        helper,
        documents,
        all_of(has("dlhub.domains", "physics"), not_(has("servable.type", "keras"))),
    )


def test_match_range_numbers_datetimes_and_iso_dates(
    client: EngineClient, documents: list[Any]
) -> None:
    check(
        client,
        DLHubSearchHelper(client).match_range("dlhub.servable_version", 2, 3),
        documents,
        between("dlhub.servable_version", 2, 3),
    )
    check(
        client,
        DLHubSearchHelper(client).match_range("dlhub.servable_version", 1, 3, inclusive=False),
        documents,
        between("dlhub.servable_version", 1, 3, inclusive=False),
    )
    check(
        client,
        DLHubSearchHelper(client).match_range("servable.options.epochs", stop=30),
        documents,
        between("servable.options.epochs", None, 30),
    )
    start = dt.datetime(2019, 6, 1)
    stop = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    low, high = (
        int(start.replace(tzinfo=dt.timezone.utc).timestamp() * 1000),
        int(stop.timestamp() * 1000),
    )
    check(
        client,
        DLHubSearchHelper(client).match_range("dlhub.publication_date", start, stop),
        documents,
        between("dlhub.publication_date", low, high),
    )
    # ISO dates as text (written as phrases by the helper) work on the millisecond field
    check(
        client,
        DLHubSearchHelper(client).match_range("dlhub.publication_date", "2019-06-01", "2019-12-31"),
        documents,
        between("dlhub.publication_date", low, high - 1),
    )
    # both ends open: the field exists
    check(
        client,
        DLHubSearchHelper(client).match_range("servable.options.epochs"),
        documents,
        exists("servable.options.epochs"),
    )


def test_match_exists_and_not_exists(client: EngineClient, documents: list[Any]) -> None:
    check(
        client,
        DLHubSearchHelper(client).match_exists("servable.model_type"),
        documents,
        exists("servable.model_type"),
    )
    check(
        client,
        DLHubSearchHelper(client).match_domains("physics").match_not_exists("servable.options"),
        documents,
        all_of(has("dlhub.domains", "physics"), not_(exists("servable.options"))),
    )


def test_add_sort(client: EngineClient, documents: list[Any]) -> None:
    helper = (
        DLHubSearchHelper(client)
        .match_domains("physics")
        .add_sort("dlhub.publication_date", ascending=True)
    )
    results = check(client, helper, documents, has("dlhub.domains", "physics"))
    dates = [d["dlhub"]["publication_date"] for d in results]
    assert dates == sorted(dates)
    helper = (
        DLHubSearchHelper(client).match_domains("physics").add_sort("dlhub.owner", ascending=False)
    )
    helper.add_sort("dlhub.publication_date", ascending=False)
    results = helper.search()
    keys = [(d["dlhub"]["owner"], d["dlhub"]["publication_date"]) for d in results]
    assert keys == sorted(keys, reverse=True)
    # a field some documents lack: those come last, in both directions
    for ascending in (True, False):
        results = (
            DLHubSearchHelper(client)
            .match_domains("physics")
            .add_sort("servable.options.epochs", ascending=ascending)
            .search()
        )
        epochs = [d["servable"].get("options", {}).get("epochs") for d in results]
        present = [e for e in epochs if e is not None]
        assert epochs[: len(present)] == sorted(present, reverse=not ascending)
        assert all(e is None for e in epochs[len(present) :])


def test_match_owner_and_match_servable(client: EngineClient, documents: list[Any]) -> None:
    check(
        client, DLHubSearchHelper(client).match_owner("bob"), documents, has("dlhub.owner", "bob")
    )
    target = next(
        d
        for d in documents
        if d["dlhub"]["servable_version"] == 2 and d["dlhub"]["visible_to"] == ["public"]
    )
    owner, name = target["dlhub"]["owner"], target["dlhub"]["name"]
    same = all_of(has("dlhub.owner", owner), lambda d: d["dlhub"]["name"] == name)
    check(
        client,
        DLHubSearchHelper(client).match_servable(name, owner=owner),
        documents,
        same,
        only_latest=False,
    )
    check(
        client,
        DLHubSearchHelper(client).match_servable(f"{owner}/{name}"),
        documents,
        same,
        only_latest=False,
    )
    results = (
        DLHubSearchHelper(client)
        .match_servable(f"{owner}/{name}", version=2)
        .search(only_latest=False)
    )
    assert ids(results) == [target["dlhub"]["id"]]
    by_date = DLHubSearchHelper(client).match_servable(
        name, owner, publication_date=target["dlhub"]["publication_date"]
    )
    assert ids(by_date.search(only_latest=False)) == [target["dlhub"]["id"]]


def test_match_authors_all_or_any(client: EngineClient, documents: list[Any]) -> None:
    path = "datacite.creators.creatorName"
    check(
        client,
        DLHubSearchHelper(client).match_authors("Müller, Jürgen"),
        documents,
        has(path, "Müller, Jürgen"),
    )
    pair = ["Ward, Logan", "王, 伟"]
    check(
        client,
        DLHubSearchHelper(client).match_authors(pair),
        documents,
        all_of(has(path, pair[0]), has(path, pair[1])),
    )
    check(
        client,
        DLHubSearchHelper(client).match_authors(pair, match_all=False),
        documents,
        any_of(has(path, pair[0]), has(path, pair[1])),
    )


def test_match_domains_all_or_any(client: EngineClient, documents: list[Any]) -> None:
    path = "dlhub.domains"
    check(
        client,
        DLHubSearchHelper(client).match_domains(["chemistry", "physics"]),
        documents,
        all_of(has(path, "chemistry"), has(path, "physics")),
    )
    check(
        client,
        DLHubSearchHelper(client).match_domains(["chemistry", "química"], match_all=False),
        documents,
        any_of(has(path, "chemistry"), has(path, "química")),
    )


def test_match_doi_finds_own_and_related_dois(client: EngineClient, documents: list[Any]) -> None:
    own = "10.5555/dlhub.12"
    related = "10.1021/acs.jpc.12"
    for doi in (own, f"https://doi.org/{own}", f"doi:{own}"):
        results = DLHubSearchHelper(client).match_doi(doi).search(only_latest=False)
        expected = expected_ids(
            documents, has("datacite.identifier.identifier", own), client.principals, False
        )
        assert set(ids(results)) == expected and expected
    results = DLHubSearchHelper(client).match_doi(related).search(only_latest=False)
    expected = expected_ids(
        documents,
        has("datacite.relatedIdentifiers.relatedIdentifier", related),
        client.principals,
        False,
    )
    assert set(ids(results)) == expected and expected


def test_search_limit_info_and_reset(client: EngineClient, documents: list[Any]) -> None:
    helper = DLHubSearchHelper(client).match_domains("chemistry")
    results, info = helper.search(limit=3, info=True, reset_query=False)
    assert len(results) == 3
    assert info["total"] == len(
        expected_ids(documents, has("dlhub.domains", "chemistry"), client.principals)
    )
    assert helper.initialized  # reset_query=False kept it
    helper.search()
    assert not helper.initialized


def test_filter_latest_agrees_with_only_latest(db: Connection) -> None:
    client = EngineClient(db, {"public"})
    every = DLHubSearchHelper(client).match_domains("chemistry").search(only_latest=False)
    newest = DLHubSearchHelper(client).match_domains("chemistry").search(only_latest=True)
    assert len(every) > len(newest)
    assert set(ids(filter_latest(every))) == set(ids(newest))
