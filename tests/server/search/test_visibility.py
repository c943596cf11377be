"""Private versions never show, and never count, for callers they are not shared with."""

from __future__ import annotations

from typing import Any

import pytest
from search_corpus import expected_ids, has, ids, visible
from sqlalchemy import Connection

from dlhub_server.search import facets, search

CALLERS = [
    {"public"},
    {"public", "user:alice"},
    {"public", "user:bob"},
    {"public", "user:erin", "group:lab"},
    {"public", "user:carol", "group:consortium"},
]

QUERIES = [
    ("*", False),
    ("model", False),
    ("crystal predictor", False),
    ("dlhub.domains:chemistry OR dlhub.domains:physics", True),
    ("dlhub.servable_version:[1 TO 5]", True),
    ("NOT servable.type:Keras*", True),
]


@pytest.mark.parametrize("principals", CALLERS, ids=lambda p: "+".join(sorted(p)))
@pytest.mark.parametrize(("query", "advanced"), QUERIES)
def test_results_and_totals_hold_only_visible_versions(
    db: Connection,
    documents: list[dict[str, Any]],
    principals: set[str],
    query: str,
    advanced: bool,
) -> None:
    by_id = {d["dlhub"]["id"]: d for d in documents}
    for only_latest in (True, False):
        page = search(
            db, query, advanced=advanced, principals=principals, limit=None, only_latest=only_latest
        )
        assert all(visible(by_id[i], principals) for i in ids(page.results))
        assert page.total == len(page.results)
        small = search(
            db, query, advanced=advanced, principals=principals, limit=5, only_latest=only_latest
        )
        assert small.total == page.total  # the total of a page counts the same versions


def test_private_versions_are_invisible_to_anonymous_callers_and_to_others(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    private = [d for d in documents if d["dlhub"]["visible_to"] != ["public"]]
    assert len(private) >= 20
    for document in private:
        name = document["dlhub"]["name"]
        query = f'dlhub.name:"{name}" AND dlhub.servable_version:{document["dlhub"]["servable_version"]}'
        for principals in CALLERS:
            found = search(db, query, advanced=True, principals=principals, only_latest=False)
            assert (document["dlhub"]["id"] in ids(found.results)) == visible(document, principals)


def test_the_owner_always_sees_their_versions(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    for owner in ("alice", "bob", "carol", "dave", "erin"):
        mine = {d["dlhub"]["id"] for d in documents if d["dlhub"]["owner"] == owner}
        found = search(
            db,
            f"dlhub.owner:{owner}",
            advanced=True,
            principals={"public", f"user:{owner}"},
            only_latest=False,
        )
        assert set(ids(found.results)) == mine


def test_private_versions_do_not_change_totals_of_others(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    public = [d for d in documents if d["dlhub"]["visible_to"] == ["public"]]
    anonymous = search(db, "*", principals={"public"}, only_latest=False, limit=1)
    assert anonymous.total == len(public)
    # a caller given every group still does not see what is shared with another user only
    groups = search(
        db, "*", principals={"public", "group:lab", "group:consortium"}, only_latest=False, limit=1
    )
    shared = [
        d for d in documents if set(d["dlhub"]["visible_to"]) & {"group:lab", "group:consortium"}
    ]
    assert groups.total == len(public) + len(shared)


def test_only_latest_keeps_the_newest_version_the_caller_may_see(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    # servables whose newest version is shared with group:consortium, older ones public
    hidden_newest = [
        d
        for d in documents
        if d["dlhub"]["visible_to"] == ["group:consortium"] and d["dlhub"]["servable_version"] > 1
    ]
    assert hidden_newest
    for newest in hidden_newest:
        name, owner = newest["dlhub"]["name"], newest["dlhub"]["owner"]
        query = f'dlhub.name:"{name}"'
        anonymous = search(db, query, advanced=True, principals={"public"})
        member = search(db, query, advanced=True, principals={"public", "group:consortium"})
        owner_view = search(db, query, advanced=True, principals={"public", f"user:{owner}"})
        older = newest["dlhub"]["servable_version"] - 1
        assert [d["dlhub"]["servable_version"] for d in anonymous.results] == [older]
        assert ids(member.results) == [newest["dlhub"]["id"]]
        assert ids(owner_view.results) == [newest["dlhub"]["id"]]
        assert anonymous.total == member.total == 1


def test_facets_count_only_visible_versions(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    for principals in CALLERS:
        counts = facets(db, "*", principals=principals, fields=["dlhub.owner"], size=50)
        expected: dict[str, int] = {}
        for version_id in expected_ids(documents, lambda d: True, principals):
            owner = next(d for d in documents if d["dlhub"]["id"] == version_id)["dlhub"]["owner"]
            expected[owner] = expected.get(owner, 0) + 1
        assert {e["value"]: e["count"] for e in counts["dlhub.owner"]} == expected


def test_a_restricted_version_does_not_hide_a_public_match(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    anonymous = search(db, "dlhub.owner:alice", advanced=True, principals={"public"})
    expected = expected_ids(documents, has("dlhub.owner", "alice"), {"public"})
    assert set(ids(anonymous.results)) == expected
