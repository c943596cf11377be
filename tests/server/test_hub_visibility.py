"""Private servables stay invisible (404, never 403) to everyone they are not shared with, on every route."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from manual_examples import class_method, numpy_max

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import (
    AuthenticationError,
    PermissionDenied,
    ServableNotFound,
    TaskNotFound,
)


def _routes(name: str) -> list[tuple[str, str]]:
    """Every route that reads or changes ``owner/name`` (method, path)."""
    base = f"/api/v1/servables/{name}"
    return [
        ("GET", base),
        ("GET", f"{base}/versions"),
        ("GET", f"{base}/versions/1"),
        ("GET", f"{base}/versions/1/files/pickle.pkl"),
        ("PATCH", base),
        ("PATCH", f"{base}/versions/1"),
        ("DELETE", f"{base}/versions/1"),
        ("DELETE", base),
    ]


def _assert_invisible(
    http: httpx.Client, client: DLHubClient, name: str, token: str | None
) -> None:
    """``client`` (and raw requests with ``token``) cannot tell that ``name`` exists."""
    assert name not in client.list_servables()
    assert all(d["dlhub"]["shorthand_name"] != name for d in client.get_servables(False))
    for call in (
        lambda: client.describe_servable(name),
        lambda: client.describe_servable(f"{name}:1"),
        lambda: client.describe_methods(name),
        lambda: client.get_versions(name),
    ):
        with pytest.raises(ServableNotFound):
            call()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for method, path in _routes(name):
        body = {"datacite": {"titles": [{"title": "hijacked"}]}} if method == "PATCH" else None
        answer = http.request(method, path, headers=headers, json=body)
        expected = 401 if token is None and method in ("PATCH", "DELETE") else 404
        assert answer.status_code == expected, (method, path, answer.text)
        if expected == 404:
            assert answer.json()["error"]["code"] == "servable_not_found"
    listing = http.get("/api/v1/servables", headers=headers, params={"latest": "false"}).json()
    assert all(d["dlhub"]["shorthand_name"] != name for d in listing["items"])


def test_private_servable_is_invisible_to_other_users_and_anonymous(
    http: httpx.Client,
    alice: DLHubClient,
    bob: DLHubClient,
    register: Callable[[str], DLHubClient],
    anonymous: DLHubClient,
    tmp_path: Path,
) -> None:
    carol = register("carol")
    model = class_method(tmp_path / "m").set_visibility(users=["carol"])
    task_id = alice.publish_servable(model)
    alice.publish_servable(numpy_max())  # public, for contrast

    _assert_invisible(http, bob, "alice/example_class", bob._token)
    _assert_invisible(http, anonymous, "alice/example_class", None)
    with pytest.raises(TaskNotFound):
        bob.get_task_status(task_id)
    assert http.get(f"/api/v1/tasks/{task_id}").status_code == 404

    # The owner and the user it is shared with see it; everyone sees the public one.
    for client in (alice, carol):
        assert "alice/example_class" in client.list_servables()
        assert client.describe_servable("alice/example_class")["dlhub"]["visible_to"] == [
            "user:carol"
        ]
    for client in (bob, anonymous):
        assert client.list_servables() == ["alice/numpy_max"]
        assert client.describe_servable("alice/numpy_max")["dlhub"]["owner"] == "alice"
    # Sharing is not ownership: carol can read but not change it.
    with pytest.raises(PermissionDenied, match="only alice can edit alice/example_class"):
        carol.edit_servable("alice/example_class", {"datacite": {"titles": [{"title": "Mine"}]}})


def test_group_visibility_follows_membership(
    http: httpx.Client, alice: DLHubClient, bob: DLHubClient, register: Callable[[str], DLHubClient]
) -> None:
    carol = register("carol")
    alice.create_group("chemistry")
    alice.add_group_member("chemistry", "carol")
    alice.publish_servable(numpy_max("shared").set_visibility(groups=["chemistry"]))

    assert carol.describe_servable("alice/shared")["dlhub"]["visible_to"] == ["group:chemistry"]
    assert carol.list_servables() == ["alice/shared"]
    _assert_invisible(http, bob, "alice/shared", bob._token)

    alice.add_group_member("chemistry", "bob")
    assert bob.describe_servable("alice/shared")["dlhub"]["servable_version"] == 1
    alice.remove_group_member("chemistry", "bob")
    with pytest.raises(ServableNotFound):
        bob.describe_servable("alice/shared")
    assert [g["name"] for g in carol.get_groups()] == ["chemistry"]


def test_each_version_has_its_own_visibility(alice: DLHubClient, anonymous: DLHubClient) -> None:
    alice.publish_servable(numpy_max())
    alice.publish_servable(numpy_max().set_visibility(users=["alice"]))

    # Anonymous callers see the newest version they may see; the private one does not exist for them.
    assert anonymous.describe_servable("alice/numpy_max")["dlhub"]["servable_version"] == 1
    assert [d["dlhub"]["servable_version"] for d in anonymous.get_versions("alice/numpy_max")] == [
        1
    ]
    with pytest.raises(ServableNotFound):
        anonymous.describe_servable("alice/numpy_max:2")
    assert alice.describe_servable("alice/numpy_max")["dlhub"]["servable_version"] == 2

    # Making it public by editing its metadata shows it to everyone.
    alice.edit_servable("alice/numpy_max:2", {"dlhub": {"visible_to": ["public"]}})
    assert anonymous.describe_servable("alice/numpy_max")["dlhub"]["servable_version"] == 2


def test_anonymous_clients_read_public_servables_but_cannot_change_anything(
    alice: DLHubClient, anonymous: DLHubClient
) -> None:
    alice.publish_servable(numpy_max())
    assert anonymous.list_servables() == ["alice/numpy_max"]
    for call in (
        anonymous.get_username,
        lambda: anonymous.publish_servable(numpy_max()),
        lambda: anonymous.delete_servable("alice/numpy_max"),
        lambda: anonymous.edit_servable("alice/numpy_max", {"dlhub": {"domains": ["x"]}}),
    ):
        with pytest.raises(AuthenticationError):
            call()
    assert alice.describe_servable("alice/numpy_max")["dlhub"]["domains"] == []
