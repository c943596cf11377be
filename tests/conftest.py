"""Shared fixtures: every test runs with its own home, data dir and working folder."""

from __future__ import annotations

# Before anything can import TensorFlow, whose own SQLite lacks FTS5 (see dlhub_server).
import sqlite3  # noqa: F401  # isort: skip
import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
REFERENCE_SCHEMAS = REPO.parent / "shared" / "reference" / "dlhub_schemas"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and working directory; no DLHUB_* setting leaks in from outside."""
    home = tmp_path / "home"
    home.mkdir()
    # uv's package cache is shared by every test (and kept between runs): only the
    # user's own files move to the private HOME.
    monkeypatch.setenv(
        "UV_CACHE_DIR", os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    )
    monkeypatch.setenv("HOME", str(home))
    for key in list(os.environ):
        if key.startswith("DLHUB_"):
            monkeypatch.delenv(key)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


def _reference_validator(schema_name: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for path in REFERENCE_SCHEMAS.rglob("*.json"):
        # The original schemas write some pointers as "#definitions/x"; the old
        # RefResolver tolerated that, the referencing library wants "#/definitions/x".
        contents = json.loads(path.read_text().replace('"#definitions/', '"#/definitions/'))
        uri = path.relative_to(REFERENCE_SCHEMAS).as_posix()
        resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT7)))
    registry = Registry().with_resources(resources)
    schema = registry.contents(f"{schema_name}.json")
    return jsonschema.Draft7Validator(schema, registry=registry)


@pytest.fixture(scope="session")
def reference_validate() -> Any:
    """Validate a document against the project's own schemas and the original DLHub ones.

    The originals are read from ../shared/reference (the SDK never ships them).
    """
    if not REFERENCE_SCHEMAS.is_dir():
        pytest.skip("reference schemas not found beside the repository")
    from dlhub_sdk.utils.schemas import validate_against_dlhub_schema

    def validate(
        document: dict[str, Any], schema_name: str = "servable", ours: bool = True
    ) -> None:
        if ours:
            validate_against_dlhub_schema(document, schema_name)
        errors = sorted(_reference_validator(schema_name).iter_errors(document), key=str)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)

    return validate
