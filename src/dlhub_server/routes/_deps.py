"""What every route needs: the hub, and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from dlhub_server.accounts import group_names
from dlhub_server.auth import user_for_token
from dlhub_server.errors import Unauthenticated
from dlhub_server.hub import Hub
from dlhub_server.visibility import ANONYMOUS, Viewer

__all__ = [
    "Caller",
    "CurrentCaller",
    "CurrentHub",
    "SignedInCaller",
    "get_caller",
    "get_hub",
    "get_signed_in_caller",
]


async def get_hub(request: Request) -> Hub:
    """The hub this app serves."""
    hub: Hub = request.app.state.hub
    return hub


CurrentHub = Annotated[Hub, Depends(get_hub)]


@dataclass(frozen=True)
class Caller:
    """Who sent the request.

    Attributes:
        viewer: Identity and groups, for visibility decisions.
        token_id: Registry id of the token used (``None`` when anonymous).
    """

    viewer: Viewer
    token_id: int | None = None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated(
            "send the token as 'Authorization: Bearer <token>' (get one with `dlhub login`)"
        )
    return value.strip()


async def get_caller(request: Request, hub: CurrentHub) -> Caller:
    """The caller: anonymous without a token, the token's user with a valid one.

    Raises:
        Unauthenticated: A token was sent but is wrong, expired or revoked.
    """
    text = _bearer(request)
    if text is None:
        return Caller(ANONYMOUS)
    # Checked against the registry on every request, so a revocation or a disabled
    # account (even by `dlhub users disable` in another process) takes effect at once.
    return await run_in_threadpool(_caller_from_registry, hub, text)


def _caller_from_registry(hub: Hub, text: str) -> Caller:
    with hub.transaction() as session:
        user, token = user_for_token(session, text)
        viewer = Viewer(user.id, user.username, frozenset(group_names(session, user)))
        return Caller(viewer, token.id)


async def get_signed_in_caller(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    """The caller, who must have sent a valid token.

    Raises:
        Unauthenticated: No token was sent.
    """
    if caller.viewer.anonymous:
        raise Unauthenticated(
            "this needs an account: log in (`dlhub login` or DLHubClient.login(...)) and send "
            "the token as 'Authorization: Bearer <token>'"
        )
    return caller


CurrentCaller = Annotated[Caller, Depends(get_caller)]
SignedInCaller = Annotated[Caller, Depends(get_signed_in_caller)]
