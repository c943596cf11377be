"""Bad publications and bad credentials: the right status, a message saying what to fix, nothing half-written."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from manual_examples import class_method, numpy_max
from servertools import count_rows, post_publication, zip_bytes
from sqlalchemy import select

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import (
    AuthenticationError,
    InvalidUpload,
    MetadataRejected,
    PayloadTooLarge,
)
from dlhub_server.hub import Hub
from dlhub_server.tables import Servable, ServableVersion, Task, Token, VersionAccess, VersionFile
from hubtools import PASSWORD


def _token(http: httpx.Client, username: str) -> str:
    answer = http.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _assert_nothing_written(hub: Hub) -> None:
    for table in (Servable, ServableVersion, VersionFile, VersionAccess, Task):
        assert count_rows(hub, table) == 0, table.__tablename__
    assert list(hub.storage.list()) == []


def _error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    return error


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    """A valid class-method document whose files are ``pickle.pkl`` and ``example.py``."""
    return class_method(tmp_path / "model").to_dict(simplify_paths=True)


@pytest.fixture
def good_files(tmp_path: Path, document: dict[str, Any]) -> dict[str, bytes]:
    """The files the document lists."""
    return {
        "pickle.pkl": (tmp_path / "model" / "pickle.pkl").read_bytes(),
        "example.py": (tmp_path / "model" / "example.py").read_bytes(),
    }


def test_document_missing_required_fields_lists_every_problem(
    http: httpx.Client,
    alice: DLHubClient,
    hub: Hub,
    document: dict[str, Any],
    good_files: dict[str, bytes],
) -> None:
    del document["datacite"]["titles"]
    del document["dlhub"]["name"]
    document["servable"]["methods"]["run"].pop("input")
    answer = post_publication(http, _token(http, "alice"), document, zip_bytes(good_files))

    error = _error(answer, 422, "invalid_metadata")
    fields = {p["field"] for p in error["details"]}
    assert {"datacite.titles", "dlhub.name", "servable.methods.run.input"} <= fields
    assert "set_title" in error["message"] and "set_name" in error["message"]
    _assert_nothing_written(hub)


def test_invalid_documents_through_the_client(alice: DLHubClient, hub: Hub) -> None:
    model = numpy_max()
    model.dlhub.dependencies = {"python": {"numpy": None}, "conda": {"numpy": None}}
    with pytest.raises(MetadataRejected) as caught:
        alice.publish_servable(model)
    assert caught.value.status_code == 422
    assert any(p["field"].startswith("dlhub.dependencies") for p in caught.value.problems)
    assert isinstance(caught.value, ValueError)  # an InvalidMetadata, as a local mistake would be
    _assert_nothing_written(hub)


@pytest.mark.parametrize(
    ("entries", "symlinks", "fragment"),
    [
        ({"../evil.py": b"import os"}, None, "climbs out of the folder"),
        ({"sub/../../evil.py": b"x"}, None, "climbs out of the folder"),
        ({"/etc/evil": b"x"}, None, "absolute path"),
        ({"C:/evil": b"x"}, None, "absolute path"),
        ({}, {"link.py": "/etc/passwd"}, "symbolic link"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "symlink"],
)
def test_unsafe_zips_are_refused(
    http: httpx.Client,
    alice: DLHubClient,
    hub: Hub,
    document: dict[str, Any],
    good_files: dict[str, bytes],
    entries: dict[str, bytes],
    symlinks: dict[str, str] | None,
    fragment: str,
) -> None:
    archive = zip_bytes({**good_files, **entries}, symlinks)
    error = _error(
        post_publication(http, _token(http, "alice"), document, archive), 422, "invalid_upload"
    )
    assert fragment in error["message"]
    bad = next(iter(entries or symlinks or {}))
    assert error["details"] == [{"field": f"file:{bad}", "message": error["details"][0]["message"]}]
    _assert_nothing_written(hub)


def test_every_unsafe_entry_is_listed(
    http: httpx.Client, alice: DLHubClient, hub: Hub, document: dict[str, Any]
) -> None:
    archive = zip_bytes({"../a": b"1", "/b": b"2"}, {"c": "/etc"})
    error = _error(
        post_publication(http, _token(http, "alice"), document, archive), 422, "invalid_upload"
    )
    assert [p["field"] for p in error["details"]] == ["file:../a", "file:/b", "file:c"]
    _assert_nothing_written(hub)


def test_missing_listed_file_and_broken_zip(
    http: httpx.Client,
    alice: DLHubClient,
    hub: Hub,
    document: dict[str, Any],
    good_files: dict[str, bytes],
) -> None:
    token = _token(http, "alice")
    error = _error(
        post_publication(
            http, token, document, zip_bytes({"pickle.pkl": good_files["pickle.pkl"]})
        ),
        422,
        "invalid_upload",
    )
    assert "not in the zip: example.py" in error["message"]
    error = _error(
        post_publication(http, token, document, b"this is not a zip"), 422, "invalid_upload"
    )
    assert "not a readable zip" in error["message"]
    error = _error(post_publication(http, token, document), 422, "invalid_upload")
    assert "pickle.pkl" in error["message"]
    error = _error(post_publication(http, token, "{not json"), 422, "invalid_metadata")
    assert "not valid JSON" in error["message"]
    _assert_nothing_written(hub)


def test_oversized_upload_is_refused(
    make_http: Callable[..., httpx.Client],
    document: dict[str, Any],
    good_files: dict[str, bytes],
    tmp_path: Path,
) -> None:
    http = make_http(max_upload_bytes=4096)
    alice = DLHubClient.login("alice", PASSWORD, register=True, http_client=http)
    archive = zip_bytes({**good_files, "weights.bin": os.urandom(8192)})
    error = _error(
        post_publication(http, alice._token, document, archive), 413, "payload_too_large"
    )
    assert "DLHUB_MAX_UPLOAD_BYTES" in error["message"] and "4096" in error["message"]

    model = class_method(tmp_path / "big")
    (tmp_path / "big" / "weights.bin").write_bytes(os.urandom(8192))
    model.add_file(str(tmp_path / "big" / "weights.bin"))
    with pytest.raises(PayloadTooLarge, match="at most 4096 bytes") as caught:
        alice.publish_servable(model)
    assert caught.value.status_code == 413  # the hub's answer
    # A large upload is checked against the hub's limit before it is sent.
    (tmp_path / "big" / "weights.bin").write_bytes(os.urandom(5 * 1024 * 1024))
    with pytest.raises(PayloadTooLarge, match="accepts at most 4096 bytes") as caught:
        alice.publish_servable(model)
    assert caught.value.status_code is None  # refused by the client, nothing sent
    _assert_nothing_written(http.app.state.hub)  # type: ignore[attr-defined]


def test_zip_unpacking_to_too_much_is_refused(
    make_http: Callable[..., httpx.Client], document: dict[str, Any], good_files: dict[str, bytes]
) -> None:
    http = make_http(max_unpacked_bytes=100_000, max_zip_entries=3)
    token = DLHubClient.login("alice", PASSWORD, register=True, http_client=http)._token
    # Zeros compress to almost nothing: small upload, big unpacked size.
    bomb = zip_bytes({**good_files, "zeros.bin": bytes(1_000_000)})
    error = _error(post_publication(http, token, document, bomb), 413, "payload_too_large")
    assert "DLHUB_MAX_UNPACKED_BYTES" in error["message"]
    crowded = zip_bytes({**good_files, "a": b"", "b": b""})
    error = _error(post_publication(http, token, document, crowded), 413, "payload_too_large")
    assert "DLHUB_MAX_ZIP_ENTRIES" in error["message"]
    _assert_nothing_written(http.app.state.hub)  # type: ignore[attr-defined]


def test_wrong_expired_and_revoked_tokens(http: httpx.Client, alice: DLHubClient, hub: Hub) -> None:
    alice.publish_servable(numpy_max())

    wrong = DLHubClient(token="dlh_not-a-real-token", http_client=http)
    with pytest.raises(AuthenticationError, match="not valid for this hub") as caught:
        wrong.list_servables()  # a bad token is an error even where no account is needed
    assert caught.value.status_code == 401
    answer = http.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert "Bearer" in _error(answer, 401, "unauthenticated")["message"]

    expiring = _token(http, "alice")
    with hub.transaction() as session:
        from dlhub_server.auth import hash_token

        row = session.scalar(select(Token).where(Token.token_hash == hash_token(expiring)))
        assert row is not None
        row.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    with pytest.raises(AuthenticationError, match="expired .* log in again"):
        DLHubClient(token=expiring, http_client=http).get_username()

    revoked = DLHubClient(token=_token(http, "alice"), http_client=http)
    assert revoked.get_username() == "alice"
    token = revoked._token
    revoked.logout()
    with pytest.raises(AuthenticationError, match="revoked"):
        DLHubClient(token=token, http_client=http).get_username()
    assert alice.get_username() == "alice"  # other tokens of the same user still work


def test_wrong_password_and_closed_signup(make_http: Callable[..., httpx.Client]) -> None:
    http = make_http()
    DLHubClient.login("alice", PASSWORD, register=True, http_client=http)
    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        DLHubClient.login("alice", "not the password", http_client=http)
    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        DLHubClient.login("nobody", PASSWORD, http_client=http)

    closed = make_http(signup="closed")
    from dlhub_sdk.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="dlhub users add carol"):
        DLHubClient.login("carol", PASSWORD, register=True, http_client=closed)


def test_bad_account_names_and_passwords(http: httpx.Client) -> None:
    for body, fragment in (
        ({"username": "a b", "password": PASSWORD}, "not a valid user name"),
        ({"username": "a/b", "password": PASSWORD}, "not a valid user name"),
        ({"username": "carol", "password": "short"}, "at least 8 characters"),
        ({"username": "carol"}, "body.password"),
    ):
        error = _error(http.post("/api/v1/users", json=body), 422, "invalid_request")
        assert fragment in error["message"]
    assert (
        http.post("/api/v1/users", json={"username": "carol", "password": PASSWORD}).status_code
        == 201
    )
    error = _error(
        http.post("/api/v1/users", json={"username": "carol", "password": PASSWORD}),
        409,
        "conflict",
    )
    assert "taken" in error["message"]


def test_repeated_wrong_passwords_are_rate_limited(http: httpx.Client, alice: DLHubClient) -> None:
    from dlhub_sdk.exceptions import RateLimited

    for _ in range(10):
        with pytest.raises(AuthenticationError):
            DLHubClient.login("alice", "wrong password", http_client=http)
    with pytest.raises(RateLimited, match="too many failed logins") as caught:
        DLHubClient.login("alice", PASSWORD, http_client=http)
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


def test_upload_errors_through_the_client(alice: DLHubClient, tmp_path: Path) -> None:
    model = class_method(tmp_path / "m")
    (tmp_path / "m" / "link.py").symlink_to(tmp_path / "m" / "example.py")
    # The SDK zips the target's bytes, not the link: publishing a linked file is fine.
    model.add_file(str(tmp_path / "m" / "link.py"))
    alice.publish_servable(model)
    assert "link.py" in alice.describe_servable("alice/example_class")["dlhub"]["file_hashes"]
    assert issubclass(InvalidUpload, ValueError)
