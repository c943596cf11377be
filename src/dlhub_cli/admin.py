"""``dlhub users ...`` and ``dlhub groups ...``: the administrator's commands.

They work on the hub's registry directly (run them where the hub's data is), so
they need no account and work while sign-up is closed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from dlhub_cli._settings import data_dir_option, hub_settings

__all__ = ["groups", "users"]


@contextmanager
def _registry(data_dir: Path | None) -> Iterator[Any]:
    """A registry session that commits at the end; hub errors become clean messages."""
    from dlhub_server.errors import ApiError
    from dlhub_server.hub import Hub

    hub = Hub.open(hub_settings(data_dir))
    try:
        with hub.transaction() as session:
            yield session
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        hub.close()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@click.group()
def users() -> None:
    """Manage the hub's accounts (run where the hub's data is).

    \b
    Examples:
        dlhub users add alice              # asks for her password
        dlhub users list
        dlhub users disable alice
    """


@users.command("add")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@data_dir_option
def add_user(name: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Create the account NAME (asks for its password).

    \b
    Examples:
        dlhub users add alice
        echo "$PASSWORD" | dlhub users add alice --password-stdin
    """
    from dlhub_server.accounts import create_user

    password = _read_password(password_stdin)
    with _registry(data_dir) as session:
        create_user(session, name, password)
    click.echo(f"created user {name}")


@users.command("list")
@data_dir_option
def list_users(data_dir: Path | None) -> None:
    """List the accounts: name, state and creation date.

    \b
    Example:
        dlhub users list --data-dir /srv/dlhub
    """
    from dlhub_server.accounts import list_users as all_users

    with _registry(data_dir) as session:
        for user in all_users(session):
            state = "disabled" if user.disabled else "active"
            click.echo(f"{user.username}\t{state}\t{user.created_at:%Y-%m-%d}")


@users.command("disable")
@click.argument("name")
@data_dir_option
def disable_user(name: str, data_dir: Path | None) -> None:
    """Disable the account NAME and revoke its tokens.

    \b
    Example:
        dlhub users disable alice
    """
    from dlhub_server.accounts import disable_user as disable

    with _registry(data_dir) as session:
        disable(session, name)
    click.echo(f"disabled user {name}")


@click.group()
def groups() -> None:
    """Manage the hub's groups (for sharing servables with set_visibility(groups=...)).

    \b
    Examples:
        dlhub groups add chemists
        dlhub groups add-member chemists alice
    """


@groups.command("add")
@click.argument("name")
@data_dir_option
def add_group(name: str, data_dir: Path | None) -> None:
    """Create the group NAME.

    \b
    Example:
        dlhub groups add chemists
    """
    from dlhub_server.accounts import create_group

    with _registry(data_dir) as session:
        create_group(session, name)
    click.echo(f"created group {name}")


@groups.command("add-member")
@click.argument("group")
@click.argument("user")
@data_dir_option
def add_member(group: str, user: str, data_dir: Path | None) -> None:
    """Add USER to GROUP.

    \b
    Example:
        dlhub groups add-member chemists alice
    """
    from dlhub_server.accounts import add_group_member

    with _registry(data_dir) as session:
        add_group_member(session, group, user)
    click.echo(f"added {user} to {group}")
