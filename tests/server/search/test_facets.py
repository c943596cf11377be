"""Counts for the catalog: by servable type, domain, owner and author."""

from __future__ import annotations

from collections import Counter
from typing import Any

from search_corpus import expected_ids, has, values
from sqlalchemy import Connection

from dlhub_server.search import FACET_FIELDS, facets
from dlhub_server.search.analysis import fold


def expected_counts(
    documents: list[dict[str, Any]], version_ids: set[str], path: str
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for document in documents:
        if document["dlhub"]["id"] in version_ids:
            counts.update({fold(v) for v in values(document, path) if isinstance(v, str)})
    return counts


def test_facets_of_every_field_match_the_corpus(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    found = facets(db, "dlhub.domains:chemistry", advanced=True, size=100)
    assert list(found) == list(FACET_FIELDS)
    matching = expected_ids(documents, has("dlhub.domains", "chemistry"))
    for path in FACET_FIELDS:
        counted = {fold(e["value"]): e["count"] for e in found[path]}
        assert counted == dict(expected_counts(documents, matching, path)), path
        counts = [e["count"] for e in found[path]]
        assert counts == sorted(counts, reverse=True)


def test_facet_values_are_shown_as_written(db: Connection) -> None:
    found = facets(db, "*", size=100)
    types = {e["value"] for e in found["servable.type"]}
    assert "Keras Model" in types and "Scikit-learn estimator" in types
    authors = {e["value"] for e in found["datacite.creators.creatorName"]}
    assert {"Müller, Jürgen", "王, 伟"} <= authors


def test_facets_follow_only_latest_size_and_fields(
    db: Connection, documents: list[dict[str, Any]]
) -> None:
    latest = facets(db, "*", fields=["dlhub.owner"], size=100)["dlhub.owner"]
    every = facets(db, "*", fields=["dlhub.owner"], size=100, only_latest=False)["dlhub.owner"]
    assert sum(e["count"] for e in every) > sum(e["count"] for e in latest)
    assert sum(e["count"] for e in latest) == len(expected_ids(documents, lambda d: True))
    top = facets(db, "*", fields=["dlhub.owner"], size=2)["dlhub.owner"]
    assert top == latest[:2]
    assert facets(db, "no.such.path:x", advanced=True) == {path: [] for path in FACET_FIELDS}
    assert facets(db, "*", fields=["no.such.path"]) == {"no.such.path": []}
