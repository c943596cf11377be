"""Owner-only editing of a version's metadata and deleting of versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from manual_examples import class_method, numpy_max
from servertools import count_rows

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import MetadataRejected, PermissionDenied, ServableNotFound
from dlhub_server.hub import Hub
from dlhub_server.tables import ServableVersion, VersionFile


def test_owner_edits_metadata_and_the_hub_keeps_its_fields(alice: DLHubClient) -> None:
    alice.publish_servable(numpy_max())
    before = alice.describe_servable("alice/numpy_max")

    after = alice.edit_servable(
        "alice/numpy_max",
        {
            "datacite": {"titles": [{"title": "Column maximum"}]},
            "dlhub": {"domains": ["statistics"]},
            "servable": {"methods": {"run": {"output": {"description": "Largest of each column"}}}},
        },
    )
    assert after == alice.describe_servable("alice/numpy_max")
    assert after["datacite"]["titles"] == [{"title": "Column maximum"}]
    assert after["dlhub"]["domains"] == ["statistics"]
    run = after["servable"]["methods"]["run"]
    assert run["output"] == {
        **before["servable"]["methods"]["run"]["output"],
        "description": "Largest of each column",
    }
    assert run["input"] == before["servable"]["methods"]["run"]["input"]
    for field in (
        "owner",
        "id",
        "shorthand_name",
        "publication_date",
        "servable_version",
        "file_hashes",
    ):
        assert after["dlhub"][field] == before["dlhub"][field]

    # Sending back the whole document, hub fields included, is fine when they are unchanged.
    after["datacite"]["titles"] = [{"title": "Round trip"}]
    assert (
        alice.edit_servable("alice/numpy_max:1", after)["datacite"]["titles"][0]["title"]
        == "Round trip"
    )


def test_edits_that_are_refused(alice: DLHubClient, tmp_path: Path) -> None:
    alice.publish_servable(class_method(tmp_path / "m"))
    cases = [
        ({"dlhub": {"owner": "mallory"}}, "dlhub.owner"),
        ({"dlhub": {"servable_version": 7}}, "dlhub.servable_version"),
        ({"dlhub": {"file_hashes": {}}}, "dlhub.file_hashes"),
        ({"dlhub": {"name": "renamed"}}, "dlhub.name"),
        ({"dlhub": {"files": {"pickle": "other.pkl"}}}, "dlhub.files"),
        ({"datacite": {"titles": None}}, "datacite.titles"),
        ({"servable": {"methods": {"run": {"input": None}}}}, "servable.methods.run.input"),
        ({"dlhub": {"visible_to": []}}, "dlhub.visible_to"),
    ]
    for changes, field in cases:
        with pytest.raises(MetadataRejected) as caught:
            alice.edit_servable("alice/example_class", changes)
        assert field in {p["field"] for p in caught.value.problems}, (
            changes,
            caught.value.problems,
        )
    assert alice.describe_servable("alice/example_class")["datacite"]["titles"] == [
        {"title": "Example class"}
    ]


def test_only_the_owner_edits_or_deletes(alice: DLHubClient, bob: DLHubClient) -> None:
    alice.publish_servable(numpy_max())
    with pytest.raises(PermissionDenied, match="only alice can edit alice/numpy_max"):
        bob.edit_servable("alice/numpy_max", {"dlhub": {"domains": ["x"]}})
    with pytest.raises(PermissionDenied, match="only alice can delete alice/numpy_max"):
        bob.delete_servable("alice/numpy_max")
    with pytest.raises(PermissionDenied):
        bob.delete_servable("alice/numpy_max", version=1)
    assert alice.describe_servable("alice/numpy_max")["dlhub"]["domains"] == []


def test_delete_one_version_then_all(alice: DLHubClient, hub: Hub, tmp_path: Path) -> None:
    alice.publish_servable(class_method(tmp_path / "one", a=1))
    alice.publish_servable(class_method(tmp_path / "two", a=2))
    alice.publish_servable(numpy_max())
    assert len(list(hub.storage.list())) == 3  # example.py is shared, the pickles differ

    assert alice.delete_servable("alice/example_class:1") == [1]
    with pytest.raises(ServableNotFound):
        alice.describe_servable("alice/example_class:1")
    assert alice.describe_servable("alice/example_class")["dlhub"]["servable_version"] == 2
    assert len(list(hub.storage.list())) == 2  # the first pickle went, example.py stays

    # Numbers are never reused: the next version is 3.
    alice.publish_servable(class_method(tmp_path / "three", a=3))
    assert [d["dlhub"]["servable_version"] for d in alice.get_versions("alice/example_class")] == [
        3,
        2,
    ]

    assert alice.delete_servable("alice/example_class") == [2, 3]
    with pytest.raises(ServableNotFound):
        alice.describe_servable("alice/example_class")
    assert alice.list_servables() == ["alice/numpy_max"]
    assert count_rows(hub, ServableVersion) == 1
    assert count_rows(hub, VersionFile) == 0
    assert list(hub.storage.list()) == []
    with pytest.raises(ServableNotFound):
        alice.delete_servable("alice/example_class")
