"""DLHubClient's credentials: where the token comes from, the stored file, login and logout."""

from __future__ import annotations

import io
import json
import socket
import stat
from pathlib import Path

import httpx
import pytest
from manual_examples import numpy_max

import dlhub_sdk
from dlhub_sdk import _credentials
from dlhub_sdk.client import DLHubClient, parse_name
from dlhub_sdk.exceptions import AuthenticationError, BadRequest, Conflict, HubUnavailable
from hubtools import PASSWORD

TOKENS = Path(".dlhub") / "credentials" / "DLHub_Client_tokens.json"


def test_login_stores_the_token_readable_only_by_the_user(
    http: httpx.Client, isolated_home: Path
) -> None:
    client = DLHubClient.login("alice", PASSWORD, register=True, http_client=http)
    path = isolated_home / TOKENS
    assert path == _credentials.credentials_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entry = json.loads(path.read_text())["hubs"]["http://testserver"]
    assert entry["username"] == "alice" and entry["token"].startswith("dlh_")
    assert client.get_username() == "alice"
    assert not list(path.parent.glob("*.tmp"))

    # A new client finds the stored token by itself.
    again = DLHubClient(http_client=http)
    assert again.get_username() == "alice"
    with pytest.raises(Conflict, match="taken"):
        DLHubClient.login("alice", PASSWORD, register=True, http_client=http)


def test_token_argument_and_environment_come_before_the_file(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    DLHubClient.login("alice", PASSWORD, register=True, http_client=http)
    bob = DLHubClient.login(
        "bob", PASSWORD, register=True, http_client=http
    )  # the file now holds bob
    alice_token = http.post(
        "/api/v1/tokens", json={"username": "alice", "password": PASSWORD}
    ).json()["token"]

    assert DLHubClient(http_client=http).get_username() == "bob"
    monkeypatch.setenv("DLHUB_TOKEN", alice_token)
    assert DLHubClient(http_client=http).get_username() == "alice"
    assert DLHubClient(token=bob._token, http_client=http).get_username() == "bob"


def test_without_credentials_a_script_is_told_to_log_in(http: httpx.Client) -> None:
    with pytest.raises(AuthenticationError, match="run `dlhub login`") as caught:
        DLHubClient(http_client=http)
    assert "anonymous=True" in str(caught.value)
    assert caught.value.status_code is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_interactive_terminal_is_asked_for_the_password(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    DLHubClient.login("alice", PASSWORD, register=True, http_client=http)
    (isolated_home / TOKENS).unlink()
    monkeypatch.setattr("sys.stdin", _Terminal("alice\n"))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)

    client = DLHubClient(http_client=http)
    assert client.get_username() == "alice"
    assert (isolated_home / TOKENS).is_file()

    # force_login ignores the stored token and asks again.
    asked: list[str] = []

    def getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return PASSWORD

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr("sys.stdin", _Terminal("alice\n"))
    DLHubClient(http_client=http, force_login=True)
    assert asked == ["Password: "]


def test_logout_revokes_the_token_and_deletes_the_file(
    http: httpx.Client, isolated_home: Path
) -> None:
    client = DLHubClient.login("alice", PASSWORD, register=True, http_client=http)
    token = client._token
    client.publish_servable(numpy_max())
    client.logout()
    assert not (isolated_home / TOKENS).exists()
    answer = http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]["message"]
    with pytest.raises(AuthenticationError, match="run `dlhub login`"):
        DLHubClient(http_client=http)


def test_an_expired_stored_token_counts_as_no_login(
    http: httpx.Client, isolated_home: Path
) -> None:
    DLHubClient.login("alice", PASSWORD, register=True, http_client=http)
    path = isolated_home / TOKENS
    data = json.loads(path.read_text())
    data["hubs"]["http://testserver"]["expires_at"] = "2000-01-01T00:00:00+00:00"
    path.write_text(json.dumps(data))
    with pytest.raises(AuthenticationError, match="run `dlhub login`"):
        DLHubClient(http_client=http)


def test_logins_to_several_hubs_are_kept_apart(isolated_home: Path) -> None:
    _credentials.save_credentials("http://a:5000/", "dlh_a", "alice", None)
    _credentials.save_credentials("http://b:5000", "dlh_b", "bob", None)
    assert _credentials.load_credentials("http://a:5000")["token"] == "dlh_a"  # type: ignore[index]
    _credentials.delete_credentials("http://a:5000")
    assert _credentials.load_credentials("http://a:5000") is None
    assert _credentials.load_credentials("http://b:5000")["token"] == "dlh_b"  # type: ignore[index]
    _credentials.delete_credentials("http://b:5000")
    assert not (isolated_home / TOKENS).exists()


def test_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DLHubClient(anonymous=True).base_url == "http://127.0.0.1:5000"
    monkeypatch.setenv("DLHUB_URL", "http://hub.example.org:8080/")
    assert DLHubClient(anonymous=True).base_url == "http://hub.example.org:8080"
    assert DLHubClient("http://other:1", anonymous=True).base_url == "http://other:1"


def test_a_hub_that_is_not_running_is_reported_clearly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = DLHubClient(f"http://127.0.0.1:{port}", anonymous=True, http_timeout=5)
    with pytest.raises(HubUnavailable, match=rf"127\.0\.0\.1:{port}.*dlhub serve"):
        client.list_servables()
    with pytest.raises(HubUnavailable):
        DLHubClient.login("alice", PASSWORD, base_url=f"http://127.0.0.1:{port}")


def test_servable_names() -> None:
    assert parse_name("alice/model") == ("alice", "model", None)
    assert parse_name("alice/model:12") == ("alice", "model", 12)
    for bad in ("model", "alice/", "/model", "a/b/c", "alice/model:latest", "alice/model:0"):
        with pytest.raises(BadRequest, match="owner/name"):
            parse_name(bad)


def test_the_client_is_exported_lazily() -> None:
    assert dlhub_sdk.DLHubClient is DLHubClient
    assert "DLHubClient" in dlhub_sdk.__all__
    with pytest.raises(AttributeError):
        dlhub_sdk.NoSuchThing  # noqa: B018


def test_large_uploads_show_progress_on_a_terminal(
    alice: DLHubClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from manual_examples import class_method

    import dlhub_sdk.client

    monkeypatch.setattr(dlhub_sdk.client, "_LARGE_UPLOAD", 100)  # our example zip is larger
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    alice.publish_servable(class_method(tmp_path / "m"))
    assert "uploading" in terminal.getvalue()
    assert alice.describe_servable("alice/example_class")["dlhub"]["servable_version"] == 1


def test_importing_the_sdk_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, dlhub_sdk; print(sorted(m for m in ('httpx', 'rich', 'dlhub_sdk.client') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_openapi_lists_every_route_the_client_uses(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/api/v1/users", "post"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/current", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/servables", "post"),
        ("/api/v1/servables", "get"),
        ("/api/v1/servables/{owner}/{name}", "patch"),
        ("/api/v1/servables/{owner}/{name}/versions/{version}", "delete"),
        ("/api/v1/tasks/{task_id}", "get"),
    ):
        assert method in paths[path], (path, method)
    assert "multipart/form-data" in paths["/api/v1/servables"]["post"]["requestBody"]["content"]
