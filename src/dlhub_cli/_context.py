"""What every command shares: which hub to talk to, ``--debug``, and making the client."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import click

from dlhub_sdk import _credentials
from dlhub_sdk.client import DEFAULT_URL, DLHubClient
from dlhub_sdk.exceptions import AuthenticationError

__all__ = ["CliContext", "pass_cli"]


@dataclass
class CliContext:
    """The ``obj`` of the ``dlhub`` group's click context.

    Attributes:
        url: The hub's URL (``--url``, else ``DLHUB_URL``, else the client's default).
        debug: Show tracebacks instead of one-line errors (``--debug``).
        http_client: An ``httpx.Client`` to send every request with, for running the
            commands against a hub served in process
            (``main.main(args, obj=CliContext(http_client=TestClient(app)))``).
    """

    url: str | None = None
    debug: bool = False
    http_client: Any = None
    _clients: list[DLHubClient] = field(default_factory=list, repr=False)

    @property
    def base_url(self) -> str:
        """The URL of the hub the commands talk to."""
        if self.url:
            return self.url.rstrip("/")
        if self.http_client is not None:
            return str(self.http_client.base_url).rstrip("/")
        return (os.environ.get("DLHUB_URL") or DEFAULT_URL).rstrip("/")

    def token(self) -> str | None:
        """The token for this hub: ``DLHUB_TOKEN``, else the one ``dlhub login`` stored."""
        token = os.environ.get("DLHUB_TOKEN")
        if token:
            return token
        stored = _credentials.load_credentials(self.base_url)
        return str(stored["token"]) if stored is not None else None

    def has_login(self) -> bool:
        """Whether a token is at hand for this hub."""
        return self.token() is not None

    def client(self, *, login: bool = True) -> DLHubClient:
        """A client for the hub, closed when the command ends.

        Args:
            login: The command needs an account. Without one it fails at once (a
                command never stops to ask for a password); with ``login=False``
                the client is anonymous unless a token is at hand.

        Raises:
            AuthenticationError: ``login`` and no token is at hand.
        """
        token = self.token()
        if login and token is None:
            raise AuthenticationError(f"not logged in to the hub at {self.base_url}")
        client = DLHubClient(
            self.base_url, token=token, anonymous=token is None, http_client=self.http_client
        )
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every client made for this command."""
        while self._clients:
            self._clients.pop().close()


pass_cli = click.make_pass_decorator(CliContext, ensure=True)
