"""Helpers for runtime tests: hand-built documents and clean imports."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _make_document(
    shim: str,
    methods: dict[str, dict[str, Any]],
    files: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A minimal servable document, as the hub hands it to a worker."""
    servable: dict[str, Any] = {"shim": shim, "methods": methods}
    if options is not None:
        servable["options"] = options
    return {
        "datacite": {"titles": [{"title": "test"}]},
        "dlhub": {"name": "test", "files": files or {}},
        "servable": servable,
    }


def _sdk_document(model: Any) -> dict[str, Any]:
    """The document an SDK model writes, with the fields publication requires filled in."""
    model.set_title("Runtime test").set_name("runtime-test").set_creators(["Doe, Jane"])
    return dict(model.to_dict())


@pytest.fixture
def make_document() -> Callable[..., dict[str, Any]]:
    """Build a minimal document: ``make_document(shim, methods, files=None, options=None)``."""
    return _make_document


@pytest.fixture
def sdk_document() -> Callable[[Any], dict[str, Any]]:
    """The document of an SDK model: ``sdk_document(model)``."""
    return _sdk_document


@pytest.fixture
def clean_imports(tmp_path: Path) -> Iterator[None]:
    """Restore sys.path and forget modules imported from the test's folder afterwards."""
    saved_path = list(sys.path)
    yield
    sys.path[:] = saved_path
    root = str(tmp_path)
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(root):
            del sys.modules[name]
