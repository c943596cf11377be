"""Accounts and tokens: sign up, log in, log out, who am I; and what this hub is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from dlhub_server import accounts
from dlhub_server.auth import authenticate, issue_token, revoke_token
from dlhub_server.errors import Forbidden
from dlhub_server.routes._deps import CurrentHub, SignedInCaller
from dlhub_server.tables import Token, User

__all__ = ["router"]

router = APIRouter(tags=["accounts"])


class Credentials(BaseModel):
    """A user name and password."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.get("/info")
def hub_info(hub: CurrentHub) -> dict[str, Any]:
    """What this hub is and accepts (no account needed)."""
    from dlhub_sdk.version import __version__

    return {
        "service": "dlhub",
        "version": __version__,
        "api": "v1",
        "signup": hub.settings.signup,
        "max_upload_bytes": hub.settings.max_upload_bytes,
        "max_unpacked_bytes": hub.settings.max_unpacked_bytes,
        "max_zip_entries": hub.settings.max_zip_entries,
    }


@router.post("/users", status_code=201)
def create_account(body: Credentials, hub: CurrentHub) -> dict[str, Any]:
    """Create an account (only while sign-up is open: ``DLHUB_SIGNUP=open``)."""
    if hub.settings.signup != "open":
        raise Forbidden(
            "sign-up is closed on this hub; ask its administrator to run "
            f"`dlhub users add {body.username}`"
        )
    with hub.transaction() as session:
        user = accounts.create_user(session, body.username, body.password)
        return {"username": user.username, "created_at": user.created_at.isoformat()}


@router.post("/tokens", status_code=201)
def log_in(body: Credentials, hub: CurrentHub) -> dict[str, Any]:
    """Exchange a user name and password for a bearer token."""
    with hub.transaction() as session:
        user = authenticate(session, body.username, body.password, hub.throttle)
        text, token = issue_token(session, user, hub.settings.token_ttl_days)
        return {
            "token": text,
            "username": user.username,
            "expires_at": token.expires_at.isoformat(),
        }


@router.delete("/tokens/current", status_code=204)
def log_out(caller: SignedInCaller, hub: CurrentHub) -> Response:
    """Revoke the token this request was sent with."""
    with hub.transaction() as session:
        token = session.get(Token, caller.token_id)
        if token is not None:
            revoke_token(session, token)
    return Response(status_code=204)


@router.get("/me")
def who_am_i(caller: SignedInCaller, hub: CurrentHub) -> dict[str, Any]:
    """The caller's user name and groups."""
    with hub.transaction() as session:
        user = session.get(User, caller.viewer.user_id)
        assert user is not None
        return {
            "username": user.username,
            "groups": accounts.group_names(session, user),
            "created_at": user.created_at.isoformat(),
        }
