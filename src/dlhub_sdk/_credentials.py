"""The stored login: ``~/.dlhub/credentials/DLHub_Client_tokens.json``.

The file maps each hub URL to the token ``dlhub login`` got from it, so one
user can be logged in to several hubs::

    {"hubs": {"http://127.0.0.1:5000": {"token": "dlh_...", "username": "alice",
                                         "expires_at": "2025-02-01T12:00:00+00:00"}}}

It is written atomically (temporary file, then rename) and readable only by its owner.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["credentials_path", "delete_credentials", "load_credentials", "save_credentials"]

TOKENS_FILE = "DLHub_Client_tokens.json"


def credentials_path() -> Path:
    """Where the tokens are stored (under the current user's home)."""
    return Path.home() / ".dlhub" / "credentials" / TOKENS_FILE


def _read() -> dict[str, Any]:
    try:
        data = json.loads(credentials_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"hubs": {}}
    if not isinstance(data, dict) or not isinstance(data.get("hubs"), dict):
        return {"hubs": {}}
    return data


def _write(data: dict[str, Any]) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Created 0600 from the start: the token is never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fp:
            json.dump(data, fp, indent=2)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _key(base_url: str) -> str:
    return base_url.rstrip("/")


def load_credentials(base_url: str) -> dict[str, Any] | None:
    """The stored login for a hub (``{"token", "username", "expires_at"}``), if still valid."""
    entry = _read()["hubs"].get(_key(base_url))
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        return None
    expires = entry.get("expires_at")
    if isinstance(expires, str):
        try:
            if dt.datetime.fromisoformat(expires) <= dt.datetime.now(dt.timezone.utc):
                return None
        except ValueError:
            pass
    return entry


def save_credentials(base_url: str, token: str, username: str, expires_at: str | None) -> Path:
    """Store the login for a hub; returns the file's path."""
    data = _read()
    data["hubs"][_key(base_url)] = {"token": token, "username": username, "expires_at": expires_at}
    _write(data)
    return credentials_path()


def delete_credentials(base_url: str) -> None:
    """Forget the login for a hub; the file goes when it holds no other hub's login."""
    data = _read()
    data["hubs"].pop(_key(base_url), None)
    if data["hubs"]:
        _write(data)
    else:
        credentials_path().unlink(missing_ok=True)
