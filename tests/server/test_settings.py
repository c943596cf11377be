"""The settings table: parsing, validation, and the generated docs/settings.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlhub_server.settings import (
    CLIENT_SETTINGS,
    SETTINGS,
    Settings,
    SettingsError,
    settings_markdown,
)

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "settings.md"


def test_docs_are_generated_from_the_table() -> None:
    assert DOCS.read_text() == settings_markdown(), (
        "docs/settings.md is stale: run `python -m dlhub_server.settings docs/settings.md`"
    )
    for setting in (*SETTINGS, *CLIENT_SETTINGS):
        assert f"`{setting.name}`" in DOCS.read_text()


def test_every_variable_the_code_reads_is_documented() -> None:
    documented = {s.name for s in (*SETTINGS, *CLIENT_SETTINGS)}
    used: dict[str, str] = {}
    for package in ("dlhub_server", "dlhub_sdk", "dlhub_cli"):
        for path in (REPO / "src" / package).rglob("*.py"):
            for name in re.findall(r"\bDLHUB_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()):
                used.setdefault(name, str(path.relative_to(REPO)))
    undocumented = {name: where for name, where in used.items() if name not in documented}
    assert not undocumented, f"add these to the table in dlhub_server/settings.py: {undocumented}"


def test_defaults_follow_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"DLHUB_DATA_DIR": str(tmp_path)})
    assert settings.data_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path}/hub.sqlite3"
    assert settings.storage_url == f"{tmp_path}/blobs"
    assert (settings.executor, settings.signup) == ("local", "open")
    home = Settings.from_env({})
    assert home.data_dir == Path.home() / ".dlhub" / "server"


def test_environment_and_overrides(tmp_path: Path) -> None:
    env = {"DLHUB_SIGNUP": "closed", "DLHUB_MAX_ZIP_ENTRIES": "12", "DLHUB_TOKEN_TTL_DAYS": "0.5"}
    settings = Settings.from_env(env, data_dir=tmp_path)
    assert (settings.signup, settings.max_zip_entries, settings.token_ttl_days) == (
        "closed",
        12,
        0.5,
    )
    assert settings.data_dir == tmp_path
    assert Settings.from_env(env, signup="open").signup == "open"


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("DLHUB_SIGNUP", "maybe", "use one of open, closed"),
        ("DLHUB_EXECUTOR", "cloud", "use one of local, ray"),
        ("DLHUB_MAX_UPLOAD_BYTES", "-1", "positive integer"),
        ("DLHUB_MAX_UPLOAD_BYTES", "lots", "invalid literal"),
        ("DLHUB_UV_OFFLINE", "perhaps", "true or false"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=f"{variable}={value!r} is not valid: .*{fragment}"):
        Settings.from_env({variable: value})


def test_unknown_override() -> None:
    with pytest.raises(SettingsError, match="unknown settings"):
        Settings.from_env({}, colour="blue")
