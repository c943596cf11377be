"""Groups: named sets of users that servables can be shared with (``set_visibility(groups=...)``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlhub_server import accounts
from dlhub_server.errors import NotFound
from dlhub_server.routes._deps import CurrentHub, SignedInCaller
from dlhub_server.tables import Group, User

__all__ = ["router"]

router = APIRouter(prefix="/groups", tags=["groups"])


class NewGroup(BaseModel):
    """The name of a group to create."""

    name: str = Field(min_length=1, max_length=64)


def _view(session: Session, group: Group) -> dict[str, Any]:
    return {
        "name": group.name,
        "owner": group.owner.username if group.owner is not None else None,
        "members": accounts.group_members(session, group),
    }


def _visible_group(session: Session, caller: SignedInCaller, name: str) -> Group:
    group = accounts.find_group(session, name)
    # Only members and the group's owner learn that a group exists.
    if group is None or (
        name not in caller.viewer.groups and group.owner_id != caller.viewer.user_id
    ):
        raise NotFound(f"no group named {name!r} that you belong to")
    return group


@router.post("", status_code=201)
def create_group(body: NewGroup, caller: SignedInCaller, hub: CurrentHub) -> dict[str, Any]:
    """Create a group; the caller owns it and is its first member."""
    with hub.transaction() as session:
        owner = session.get(User, caller.viewer.user_id)
        group = accounts.create_group(session, body.name, owner)
        return _view(session, group)


@router.get("")
def my_groups(caller: SignedInCaller, hub: CurrentHub) -> dict[str, Any]:
    """The groups the caller belongs to or owns."""
    with hub.transaction() as session:
        groups = session.scalars(
            select(Group)
            .where(
                Group.name.in_(sorted(caller.viewer.groups))
                | (Group.owner_id == caller.viewer.user_id)
            )
            .order_by(Group.name)
        )
        items = [_view(session, g) for g in groups]
        return {"items": items, "total": len(items)}


@router.get("/{name}")
def get_group(name: str, caller: SignedInCaller, hub: CurrentHub) -> dict[str, Any]:
    """A group the caller belongs to or owns, with its members."""
    with hub.transaction() as session:
        return _view(session, _visible_group(session, caller, name))


@router.put("/{name}/members/{username}")
def add_member(name: str, username: str, caller: SignedInCaller, hub: CurrentHub) -> dict[str, Any]:
    """Add a user to a group (its owner only)."""
    with hub.transaction() as session:
        group = _visible_group(session, caller, name)
        owner = session.get(User, caller.viewer.user_id)
        accounts.add_group_member(session, group.name, username, manager=owner)
        return _view(session, group)


@router.delete("/{name}/members/{username}", status_code=204)
def remove_member(name: str, username: str, caller: SignedInCaller, hub: CurrentHub) -> Response:
    """Remove a user from a group (its owner only)."""
    with hub.transaction() as session:
        group = _visible_group(session, caller, name)
        owner = session.get(User, caller.viewer.user_id)
        accounts.remove_group_member(session, group.name, username, manager=owner)
    return Response(status_code=204)
