"""Helpers for the hub's tests: raw requests, zips, task waits, registry counts."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
from sqlalchemy import func, select

from dlhub_server.hub import Hub


def count_rows(hub: Hub, table: Any) -> int:
    """Rows in one of the registry's tables."""
    with hub.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def stored_blobs(hub: Hub) -> list[str]:
    """Hashes of every blob in the hub's storage."""
    return list(hub.storage.list())


def sha256(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def zip_bytes(entries: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    """A zip holding ``entries`` (and symbolic links ``name -> target``), built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) | 0
            archive.writestr(info, target)
    return buffer.getvalue()


def post_publication(
    http: httpx.Client, token: str | None, document: Any, archive: bytes | None = None
) -> httpx.Response:
    """Send a publication request by hand (to check the hub's answer to bad input)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    files = {"file": ("files.zip", archive, "application/zip")} if archive is not None else None
    text = document if isinstance(document, str) else json.dumps(document)
    return http.post("/api/v1/servables", headers=headers, data={"document": text}, files=files)


def wait_for_task(client: Any, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll a task until it is no longer pending or running; returns its last status."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = client.get_task_status(task_id)
        if status["status"] not in ("pending", "running"):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(
                f"task {task_id} still {status['status']} after {timeout} s: {status}"
            )
        time.sleep(0.05)


def publish_and_wait(client: Any, model: Any, timeout: float = 300.0) -> dict[str, Any]:
    """Publish a model and wait until its environment is built; fails with the task's log."""
    status = wait_for_task(client, client.publish_servable(model), timeout)
    assert status["status"] == "succeeded", status["steps"]
    return status
