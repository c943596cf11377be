"""The administrator's commands (``dlhub users ...``, ``dlhub groups ...``) on a hub's data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dlhub_cli.main import main
from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import AuthenticationError, PermissionDenied
from dlhub_server.app import create_app
from dlhub_server.settings import Settings
from hubtools import PASSWORD, TestClient


def _run(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_accounts_made_on_the_hub_work_while_signup_is_closed(tmp_path: Path) -> None:
    data = str(tmp_path / "hub")
    assert "created user alice" in _run(
        "users", "add", "alice", "--password-stdin", "--data-dir", data, stdin=f"{PASSWORD}\n"
    )
    _run(
        "users", "add", "bob", "--data-dir", data, stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )  # asked twice
    _run("groups", "add", "chemistry", "--data-dir", data)
    _run("groups", "add-member", "chemistry", "alice", "--data-dir", data)
    listing = _run("users", "list", "--data-dir", data)
    assert [line.split("\t")[:2] for line in listing.splitlines()] == [
        ["alice", "active"],
        ["bob", "active"],
    ]

    http = TestClient(create_app(Settings.from_env(data_dir=tmp_path / "hub", signup="closed")))
    alice = DLHubClient.login("alice", PASSWORD, http_client=http)
    assert http.get("/api/v1/me", headers={"Authorization": f"Bearer {alice._token}"}).json()[
        "groups"
    ] == ["chemistry"]
    with pytest.raises(PermissionDenied, match="sign-up is closed"):
        DLHubClient.login("mallory", PASSWORD, register=True, http_client=http)

    # Disabling an account stops its logins and its existing tokens at once.
    assert "disabled user alice" in _run("users", "disable", "alice", "--data-dir", data)
    with pytest.raises(AuthenticationError, match="revoked|disabled"):
        alice.get_groups()
    with pytest.raises(AuthenticationError, match="disabled"):
        DLHubClient.login("alice", PASSWORD, http_client=http)
    assert "alice\tdisabled" in _run("users", "list", "--data-dir", data)


def test_admin_errors_are_plain_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DLHUB_DATA_DIR", str(tmp_path / "hub")
    )  # the variable works like --data-dir
    runner = CliRunner()
    _run("users", "add", "alice", "--password-stdin", stdin=f"{PASSWORD}\n")
    for args, stdin, message in (
        (
            ["users", "add", "alice", "--password-stdin"],
            f"{PASSWORD}\n",
            "user name 'alice' is taken",
        ),
        (
            ["users", "add", "bad name", "--password-stdin"],
            f"{PASSWORD}\n",
            "not a valid user name",
        ),
        (["users", "add", "carol", "--password-stdin"], "short\n", "at least 8 characters"),
        (["users", "disable", "nobody"], None, "no user named 'nobody'"),
        (["groups", "add-member", "nogroup", "alice"], None, "no group named 'nogroup'"),
    ):
        result = runner.invoke(main, args, input=stdin)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    monkeypatch.setenv("DLHUB_SIGNUP", "sometimes")
    result = runner.invoke(main, ["users", "list"])
    assert result.exit_code == 2 and "DLHUB_SIGNUP='sometimes' is not valid" in result.output
