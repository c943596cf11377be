"""Fixtures for the ``dlhub`` command's tests: a hub in process, and the command run against it.

``cli(*args)`` runs ``dlhub ARGS`` with click's runner; every request goes to a hub
served in process (a Starlette TestClient at ``http://testserver``), and the stored
login lives in the test's private HOME (see tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from clitools import Hub, hub_in_process

from dlhub_sdk.client import DLHubClient


@pytest.fixture
def make_hub(tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """Start hubs in process (with optional setting changes); all are stopped at the end."""
    with ExitStack() as stack:
        started: list[Hub] = []

        def make(**changes: Any) -> Hub:
            hub = stack.enter_context(hub_in_process(tmp_path / f"hub{len(started)}", **changes))
            started.append(hub)
            return hub

        yield make


@pytest.fixture
def hub(make_hub: Callable[..., Hub]) -> Hub:
    """A hub in process with its default settings (open sign-up)."""
    return make_hub()


@pytest.fixture
def cli(hub: Hub) -> Callable[..., Result]:
    """``cli("search", "x")``: run ``dlhub`` against the in-process hub."""
    return hub.run


@pytest.fixture
def alice(hub: Hub) -> DLHubClient:
    """The user alice, logged in (her token stored in this test's HOME)."""
    return hub.register("alice")
