"""Request bodies with a size limit: a 413 as soon as the limit is passed, not after reading it all."""

from __future__ import annotations

from fastapi import Request
from starlette.types import Message

from dlhub_server.errors import PayloadTooLarge

__all__ = ["limited_body"]


def _too_large(size: int, limit: int, setting: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request is {size} bytes; this hub accepts at most {limit} bytes ({setting}): "
        "send less data (e.g. a smaller batch, or leave large data out of the servable), or ask "
        "the hub's administrator to raise the limit",
        details={"limit": limit},
    )


def limited_body(request: Request, limit: int, setting: str) -> Request:
    """The request with a body that stops with a 413 once more than ``limit`` bytes arrived.

    Args:
        request: The incoming request.
        limit: Most bytes accepted.
        setting: The ``DLHUB_*`` setting that sets the limit, named in the message.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit, setting)
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise _too_large(received, limit, setting)
        return message

    return Request(request.scope, receive)
