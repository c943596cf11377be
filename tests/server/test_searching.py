"""Search through the hub: indexed in the publication's transaction, visibility inside the query."""

from __future__ import annotations

import pytest
from manual_examples import numpy_max

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import BadRequest


def _publish(
    client: DLHubClient, name: str, title: str, domains: list[str], **extra: object
) -> None:
    model = numpy_max(name).set_title(title).set_domains(domains)
    model.set_creators(extra.get("authors", ["Ward, Logan"]))  # type: ignore[arg-type]
    if "doi" in extra:
        model.add_related_resource(str(extra["doi"]), "DOI", "IsDescribedBy")
    if "users" in extra:
        model.set_visibility(users=extra["users"])  # type: ignore[arg-type]
    client.publish_servable(model)


@pytest.fixture
def corpus(alice: DLHubClient, bob: DLHubClient) -> None:
    _publish(
        alice,
        "band_gap",
        "Band gap predictor for crystals",
        ["materials science"],
        doi="10.1000/gap",
    )
    _publish(alice, "band_gap", "Band gap predictor for crystals, retrained", ["materials science"])
    _publish(
        alice, "solubility", "Solubility of small molecules", ["chemistry"], authors=["Chard, Ryan"]
    )
    _publish(bob, "secret_gap", "Secret band gap model", ["materials science"], users=["bob"])
    _publish(
        bob,
        "toxicity",
        "Toxicity of molecules",
        ["chemistry", "biology"],
        authors=["Chard, Ryan", "Ward, Logan"],
    )


def _names(documents: list[dict]) -> list[str]:
    return [d["dlhub"]["shorthand_name"] for d in documents]


def test_free_text_ranks_title_matches_and_keeps_the_latest(
    corpus: None, alice: DLHubClient
) -> None:
    found = alice.search("band gap")
    assert _names(found) == ["alice/band_gap"]
    assert found[0]["dlhub"]["servable_version"] == 2
    every = alice.search("band gap", only_latest=False)
    assert sorted(d["dlhub"]["servable_version"] for d in every) == [1, 2]


def test_advanced_queries_and_native_types(corpus: None, alice: DLHubClient) -> None:
    query = 'servable.type:"Python static method" AND dlhub.domains:"chemistry"'
    assert sorted(_names(alice.search(query, advanced=True))) == [
        "alice/solubility",
        "bob/toxicity",
    ]
    found = alice.search("dlhub.servable_version:[2 TO *]", advanced=True)
    assert _names(found) == ["alice/band_gap"]
    assert isinstance(found[0]["dlhub"]["publication_date"], int)
    with pytest.raises(BadRequest, match="cannot be parsed"):
        alice.search('servable.type:"unclosed AND (', advanced=True)


def test_visibility_applies_inside_the_query(
    corpus: None, alice: DLHubClient, bob: DLHubClient, anonymous: DLHubClient
) -> None:
    assert "bob/secret_gap" not in _names(alice.search("gap"))
    assert "bob/secret_gap" in _names(bob.search("gap"))
    _, info = anonymous.search("gap", get_info=True)
    assert info["total"] == 1  # counts do not reveal the private one


def test_helper_and_shortcuts(corpus: None, alice: DLHubClient) -> None:
    assert sorted(_names(alice.search_by_servable(owner="alice"))) == [
        "alice/band_gap",
        "alice/solubility",
    ]
    assert [
        d["dlhub"]["servable_version"]
        for d in alice.search_by_servable("band_gap", "alice", version=1)
    ] == [1]
    assert _names(alice.search_by_authors(["Chard, Ryan", "Ward, Logan"])) == ["bob/toxicity"]
    assert sorted(_names(alice.search_by_authors("Chard, Ryan"))) == [
        "alice/solubility",
        "bob/toxicity",
    ]
    assert _names(alice.search_by_related_doi("10.1000/gap", only_latest=False)) == [
        "alice/band_gap"
    ]
    helper = alice.query.match_term("servable.type", "Python static method").match_domains(
        "chemistry"
    )
    assert sorted(_names(helper.search())) == ["alice/solubility", "bob/toxicity"]


def test_limits_page_without_a_silent_cap(alice: DLHubClient) -> None:
    for number in range(12):
        _publish(alice, f"model_{number}", f"Model number {number}", ["physics"])
    assert len(alice.search("model", limit=None)) == 12
    assert len(alice.search("model", limit=5)) == 5
    import dlhub_sdk._searching as searching

    original = searching.SEARCH_PAGE
    searching.SEARCH_PAGE = 5  # walk several pages
    try:
        assert len(alice.search("model")) == 12
    finally:
        searching.SEARCH_PAGE = original


def test_facets_and_deletion_leave_the_index(corpus: None, alice: DLHubClient) -> None:
    counts = alice.facets("dlhub.domains:*", advanced=True)
    domains = {item["value"]: item["count"] for item in counts["dlhub.domains"]}
    assert domains["chemistry"] == 2
    alice.delete_servable("alice/solubility")
    assert "alice/solubility" not in _names(alice.search("solubility molecules"))
