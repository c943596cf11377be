"""What a worker may see: the sandbox configuration for one worker process.

The hub hides its own files from servable code. Given the paths a worker needs
(its environment, the interpreter, its folder), :func:`sandbox_config` lists the
folders to mask: the hub's private folders, and every folder on the way to a
needed path that the worker's user could not traverse anyway (``/root`` when the
hub runs from root's home). Masked folders show only the needed paths inside
them; ``dlhub_runtime.sandbox`` applies the plan in the worker process.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["WorkerIdentity", "sandbox_config", "worker_identity"]


class WorkerIdentity:
    """The unprivileged account workers run as when the hub runs as root."""

    def __init__(self, uid: int, gid: int, name: str) -> None:
        self.uid, self.gid, self.name = uid, gid, name

    def __repr__(self) -> str:
        return f"WorkerIdentity({self.name!r}, uid={self.uid}, gid={self.gid})"


def worker_identity(name: str = "nobody") -> WorkerIdentity | None:
    """The account to drop to, or ``None`` when the hub is not root (nothing to drop)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(
            f"the worker user {name!r} does not exist; set DLHUB_WORKER_USER"
        ) from None
    return WorkerIdentity(entry.pw_uid, entry.pw_gid, name)


def _traversable(path: Path, identity: WorkerIdentity) -> bool:
    info = path.stat()
    mode = info.st_mode
    if info.st_uid == identity.uid:
        return bool(mode & stat.S_IXUSR)
    if info.st_gid == identity.gid:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _outermost(paths: Iterable[Path]) -> list[Path]:
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(_inside(path, k) for k in kept):
            kept.append(path)
    return kept


def sandbox_config(
    needed: Iterable[str | os.PathLike[str]],
    private: Iterable[str | os.PathLike[str]],
    identity: WorkerIdentity | None,
    *,
    memory_bytes: int | None,
    max_processes: int | None = 512,
    cwd: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The configuration ``dlhub_runtime.sandbox`` applies before it starts a worker.

    Args:
        needed: Paths the worker must reach (environment, interpreter prefix, its folder).
        private: The hub's folders the worker must not see (data folder, storage).
        identity: The user to run as (``None``: stay who we are; no masks either).
        memory_bytes: Address-space limit of the worker.
        max_processes: Limit on processes of the worker's user.
        cwd: The worker's working folder.
    """
    config: dict[str, Any] = {"memory_bytes": memory_bytes, "max_processes": max_processes}
    if cwd is not None:
        config["cwd"] = os.fspath(cwd)
    if identity is None:
        return config
    needed_paths = _outermost(Path(os.path.realpath(p)) for p in needed)
    masks: dict[Path, set[Path]] = {}
    for folder in (Path(os.path.realpath(p)) for p in private):
        masks[folder] = {p for p in needed_paths if _inside(p, folder) and p != folder}
    for path in needed_paths:
        for ancestor in reversed(path.parents):
            if not _traversable(ancestor, identity):
                masks.setdefault(ancestor, set()).add(path)
                break
    ordered = sorted(masks, key=lambda p: len(p.parts))
    plan = []
    for folder in ordered:
        hidden_by = [outer for outer in ordered if outer != folder and _inside(folder, outer)]
        # a folder inside another masked one is already hidden, unless it lies in a path kept there
        if any(not any(_inside(folder, k) for k in masks[outer]) for outer in hidden_by):
            continue
        plan.append({"folder": str(folder), "keep": [str(k) for k in sorted(masks[folder])]})
    config.update(masks=plan, uid=identity.uid, gid=identity.gid)
    return config
