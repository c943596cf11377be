"""Users and groups: creating them, disabling accounts, managing members.

Used by the REST routes and by the administrator's commands (``dlhub users ...``,
``dlhub groups ...``), which work on the registry directly.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from dlhub_server.auth import hash_password
from dlhub_server.errors import Conflict, Forbidden, InvalidRequest, NotFound
from dlhub_server.tables import Group, GroupMember, Token, User

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "add_group_member",
    "check_name",
    "check_password",
    "create_group",
    "create_user",
    "disable_user",
    "find_group",
    "find_user",
    "group_members",
    "group_names",
    "list_users",
    "remove_group_member",
]

MIN_PASSWORD_LENGTH = 8

# User and group names appear in "owner/name" and in "user:NAME": no slashes, colons or spaces.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(name: str, what: str = "user name") -> str:
    """Return ``name`` if it can name a user or group, else raise :class:`InvalidRequest`."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidRequest(
            f"{name!r} is not a valid {what}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            details=[{"field": what.replace(" ", "_"), "message": "invalid name"}],
        )
    return name


def check_password(password: str) -> str:
    """Return ``password`` if it is acceptable, else raise :class:`InvalidRequest`."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            details=[{"field": "password", "message": "too short"}],
        )
    return password


def find_user(session: Session, username: str) -> User | None:
    """The user with this name, or ``None``."""
    return session.scalar(select(User).where(User.username == username))


def create_user(session: Session, username: str, password: str) -> User:
    """Create an account.

    Raises:
        InvalidRequest: The name or password is not acceptable.
        Conflict: The name is taken.
    """
    check_name(username)
    check_password(password)
    if find_user(session, username) is not None:
        raise Conflict(f"the user name {username!r} is taken; choose another or log in")
    user = User(username=username, password_hash=hash_password(password), disabled=False)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every account, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def disable_user(session: Session, username: str) -> User:
    """Stop an account from logging in, and revoke its tokens.

    Raises:
        NotFound: No such user.
    """
    from dlhub_server.auth import revoke_token

    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    user.disabled = True
    for token in session.scalars(select(Token).where(Token.user_id == user.id)):
        revoke_token(session, token)
    return user


def find_group(session: Session, name: str) -> Group | None:
    """The group with this name, or ``None``."""
    return session.scalar(select(Group).where(Group.name == name))


def create_group(session: Session, name: str, owner: User | None = None) -> Group:
    """Create a group; its owner (if any) becomes its first member and manages it.

    Raises:
        InvalidRequest: The name is not acceptable.
        Conflict: The name is taken.
    """
    check_name(name, "group name")
    if find_group(session, name) is not None:
        raise Conflict(f"the group name {name!r} is taken; choose another")
    group = Group(name=name, owner_id=owner.id if owner else None)
    session.add(group)
    session.flush()
    if owner is not None:
        session.add(GroupMember(group_id=group.id, user_id=owner.id))
        session.flush()
    return group


def _group_for_manager(session: Session, name: str, manager: User | None) -> Group:
    group = find_group(session, name)
    if group is None:
        raise NotFound(f"no group named {name!r}")
    if manager is not None and group.owner_id != manager.id:
        raise Forbidden(f"only the owner of the group {name!r} can change its members")
    return group


def add_group_member(
    session: Session, group_name: str, username: str, manager: User | None = None
) -> None:
    """Add a user to a group (``manager``: who asks; ``None`` for the administrator).

    Raises:
        NotFound: No such group or user.
        Forbidden: ``manager`` does not own the group.
    """
    group = _group_for_manager(session, group_name, manager)
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    exists = session.get(GroupMember, (group.id, user.id))
    if exists is None:
        session.add(GroupMember(group_id=group.id, user_id=user.id))
        session.flush()


def remove_group_member(
    session: Session, group_name: str, username: str, manager: User | None = None
) -> None:
    """Remove a user from a group (no error if they were not in it)."""
    group = _group_for_manager(session, group_name, manager)
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    member = session.get(GroupMember, (group.id, user.id))
    if member is not None:
        session.delete(member)
        session.flush()


def group_members(session: Session, group: Group) -> list[str]:
    """User names of a group's members, sorted."""
    rows = session.scalars(
        select(User.username)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
        .order_by(User.username)
    )
    return list(rows)


def group_names(session: Session, user: User) -> list[str]:
    """Names of the groups ``user`` belongs to, sorted."""
    rows = session.scalars(
        select(Group.name)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user.id)
        .order_by(Group.name)
    )
    return list(rows)
