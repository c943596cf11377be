"""``dlhub login``, ``dlhub logout``, ``dlhub whoami``: your account on a hub."""

from __future__ import annotations

import sys

import click

from dlhub_cli._context import CliContext, pass_cli
from dlhub_cli._output import json_option, print_json
from dlhub_sdk import _credentials
from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import HubUnavailable

__all__ = ["login", "logout", "whoami"]


def _password(from_stdin: bool, register: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=register)
    return password


@click.command()
@click.option("--username", "-u", default=None, help="Your user name (asked for if not given).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.option("--register", is_flag=True, help="Create the account first (if the hub allows it).")
@json_option
@pass_cli
def login(
    cli: CliContext, username: str | None, password_stdin: bool, register: bool, as_json: bool
) -> None:
    """Log in to the hub; the token is kept in ~/.dlhub/credentials.

    \b
    Examples:
        dlhub login --register                      # a new account (asks for a password)
        echo "$PASSWORD" | dlhub login -u alice --password-stdin
    """
    if not username:
        username = str(click.prompt("User name")).strip()
    password = _password(password_stdin, register)
    if not password:
        raise click.UsageError("the password is empty")
    client = DLHubClient.login(
        username,
        password,
        base_url=cli.base_url,
        register=register,
        http_client=cli.http_client,
    )
    client.close()
    if as_json:
        print_json({"url": cli.base_url, "username": username, "registered": register})
        return
    if register:
        click.echo(f"Created the account {username} on {cli.base_url}")
    click.echo(f"Logged in to {cli.base_url} as {username}")


@click.command()
@json_option
@pass_cli
def logout(cli: CliContext, as_json: bool) -> None:
    """Log out: revoke the token at the hub and delete it from this computer.

    \b
    Example:
        dlhub logout
    """
    was_logged_in = cli.has_login()
    revoked = False
    if was_logged_in:
        client = cli.client()
        try:
            client.logout()
            revoked = True
        except HubUnavailable:
            # A hub that is gone cannot revoke anything; forgetting the token is what is left.
            _credentials.delete_credentials(cli.base_url)
    if as_json:
        print_json({"url": cli.base_url, "logged_out": was_logged_in, "revoked": revoked})
    elif not was_logged_in:
        click.echo(f"Not logged in to {cli.base_url}")
    elif revoked:
        click.echo(f"Logged out of {cli.base_url}")
    else:
        click.echo(
            f"Removed the token for {cli.base_url} from this computer (the hub could not be "
            "reached to revoke it)"
        )


@click.command()
@json_option
@pass_cli
def whoami(cli: CliContext, as_json: bool) -> None:
    """Show who you are logged in as (the hub checks the token).

    \b
    Example:
        dlhub whoami
    """
    username = cli.client().get_username()
    if as_json:
        print_json({"url": cli.base_url, "username": username})
    else:
        click.echo(f"{username} on {cli.base_url}")
