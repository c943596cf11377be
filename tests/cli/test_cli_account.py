"""`dlhub login`, `logout`, `whoami`: accounts from the terminal, and their error lines."""

from __future__ import annotations

import json

from clitools import PASSWORD, one_error_line

from dlhub_sdk import _credentials
from dlhub_sdk.client import DLHubClient
from dlhub_server.local import free_port


def test_register_then_whoami_then_logout(hub, cli) -> None:
    answer = cli("login", "--register", "--username", "carol", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert answer.exit_code == 0, answer.output
    assert "Created the account carol on http://testserver" in answer.output
    assert "Logged in to http://testserver as carol" in answer.output
    assert PASSWORD not in answer.output
    assert _credentials.load_credentials("http://testserver")["username"] == "carol"

    who = cli("whoami")
    assert who.exit_code == 0 and who.output.strip() == "carol on http://testserver"
    assert json.loads(cli("whoami", "--json").output) == {
        "url": "http://testserver",
        "username": "carol",
    }

    token = _credentials.load_credentials("http://testserver")["token"]
    out = cli("logout")
    assert out.exit_code == 0 and "Logged out of http://testserver" in out.output
    assert _credentials.load_credentials("http://testserver") is None
    # The token was revoked at the hub, not only forgotten here.
    revoked = hub.run("whoami", env={"DLHUB_TOKEN": token})
    assert "AuthenticationError" not in revoked.output
    assert "(log in with `dlhub login`" in one_error_line(revoked)


def test_login_prompts_for_the_user_name_and_reads_the_password_from_stdin(alice, cli) -> None:
    alice.logout()
    answer = cli("login", input="alice\n" + PASSWORD + "\n")
    assert answer.exit_code == 0, answer.output
    assert "User name: " in answer.output and "Password: " in answer.output
    assert "as alice" in answer.output

    piped = cli("login", "-u", "alice", "--password-stdin", "--json", input=PASSWORD + "\n")
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.output) == {
        "url": "http://testserver",
        "username": "alice",
        "registered": False,
    }


def test_wrong_password_says_so_in_one_line(alice, cli) -> None:
    alice.logout()
    answer = cli("login", "-u", "alice", "--password-stdin", input="not the password\n")
    line = one_error_line(answer)
    assert "wrong user name or password" in line
    assert "(check the user name and password; new users add --register)" in line
    assert "DLHubClient" not in line  # the SDK's advice for Python is replaced
    assert _credentials.load_credentials("http://testserver") is None


def test_registering_a_taken_name(alice, cli) -> None:
    answer = cli("login", "--register", "-u", "alice", "--password-stdin", input="other pw\n")
    line = one_error_line(answer)
    assert "alice" in line and "(pick another name, or log in to it without --register)" in line


def test_registering_when_signup_is_closed(make_hub) -> None:
    closed = make_hub(signup="closed")
    answer = closed.run("login", "--register", "-u", "dan", "--password-stdin", input="pw\n")
    line = one_error_line(answer)
    assert "`dlhub users add NAME`" in line


def test_empty_password_is_a_usage_error(cli) -> None:
    answer = cli("login", "-u", "alice", "--password-stdin", input="\n")
    assert answer.exit_code == 2 and "the password is empty" in answer.output


def test_not_logged_in(cli) -> None:
    line = one_error_line(cli("whoami"))
    assert line == (
        "Error: not logged in to the hub at http://testserver (log in with `dlhub login`, "
        "or make an account with `dlhub login --register`)"
    )
    out = cli("logout")
    assert out.exit_code == 0 and out.output.strip() == "Not logged in to http://testserver"
    assert json.loads(cli("logout", "--json").output)["logged_out"] is False


def test_a_token_from_the_environment_is_used(hub, alice) -> None:
    token = _credentials.load_credentials("http://testserver")["token"]
    _credentials.delete_credentials("http://testserver")
    answer = hub.run("whoami", env={"DLHUB_TOKEN": token})
    assert answer.exit_code == 0 and answer.output.startswith("alice on")


def test_hub_down(alice) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    from click.testing import CliRunner

    from dlhub_cli.main import main

    runner = CliRunner()
    for args in (["login", "-u", "alice", "--password-stdin"], ["servables"], ["whoami"]):
        answer = runner.invoke(main, ["--url", url, *args], input="pw\n", env={"DLHUB_TOKEN": "x"})
        line = one_error_line(answer)
        assert line.startswith(f"Error: cannot reach the DLHub hub at {url}"), line
        assert line.endswith("(start a hub with `dlhub serve`, or point DLHUB_URL / --url at one)")

    # DLHUB_URL works as well as --url.
    answer = runner.invoke(main, ["servables"], env={"DLHUB_URL": url})
    assert url in one_error_line(answer)


def test_logout_when_the_hub_is_gone_forgets_the_token(hub) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    _credentials.save_credentials(url, "dlh_token", "alice", None)
    from click.testing import CliRunner

    from dlhub_cli.main import main

    answer = CliRunner().invoke(main, ["--url", url, "logout"])
    assert answer.exit_code == 0, answer.output
    assert "could not be reached" in answer.output
    assert _credentials.load_credentials(url) is None


def test_client_login_and_command_share_the_stored_token(hub, alice) -> None:
    # What `dlhub login` stores is what DLHubClient() finds, and the other way round.
    client = DLHubClient(http_client=hub.http)
    assert client.get_username() == "alice"
    assert hub.run("whoami").output.startswith("alice")
