"""Helpers shared by the hub's and the command's tests: the in-process test client, the password."""

from __future__ import annotations

import warnings
from typing import Any

#: The password of every account the tests make.
PASSWORD = "correct horse battery"


def _test_client_class() -> Any:
    # Starlette warns at import that httpx is deprecated in favour of httpx2, which is not
    # installed here; the TestClient works the same with httpx.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Using `httpx` with `starlette.testclient`", category=Warning
        )
        from starlette.testclient import TestClient

    return TestClient


#: Starlette's TestClient: a hub app served in this process.
TestClient = _test_client_class()
