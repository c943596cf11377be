"""Fixtures for the hub's tests: a hub in process on a temporary data folder, and its users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dlhub_sdk.client import DLHubClient
from dlhub_server.app import create_app
from dlhub_server.hub import Hub
from dlhub_server.settings import Settings
from hubtools import PASSWORD, TestClient


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a hub whose data lives in the test's temporary folder.

    Servables run in the hub's own interpreter and no worker starts at publication
    (tests of the execution issue turn these back on where they matter).
    """
    return Settings.from_env(
        data_dir=tmp_path / "hub", environments="shared", warm_on_publish=False
    )


@pytest.fixture
def make_http(settings: Settings) -> Iterator[Callable[..., httpx.Client]]:
    """Start a hub in process with optional setting changes; returns its test client."""
    clients: list[Any] = []

    def make(**changes: Any) -> httpx.Client:
        app = create_app(settings.replace(**changes))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def http(make_http: Callable[..., httpx.Client]) -> httpx.Client:
    """An HTTP client talking to a hub in process (a Starlette TestClient)."""
    return make_http()


@pytest.fixture
def hub(http: Any) -> Hub:
    """The parts of the hub behind ``http`` (database, storage, settings)."""
    hub: Hub = http.app.state.hub
    return hub


@pytest.fixture
def register(http: httpx.Client) -> Callable[[str], DLHubClient]:
    """Create an account and return a client logged in to it."""

    def make(username: str) -> DLHubClient:
        return DLHubClient.login(username, PASSWORD, register=True, http_client=http)

    return make


@pytest.fixture
def alice(register: Callable[[str], DLHubClient]) -> DLHubClient:
    """A logged-in user."""
    return register("alice")


@pytest.fixture
def bob(register: Callable[[str], DLHubClient]) -> DLHubClient:
    """Another logged-in user."""
    return register("bob")


@pytest.fixture
def anonymous(http: httpx.Client) -> DLHubClient:
    """A client with no account."""
    return DLHubClient(anonymous=True, http_client=http)
