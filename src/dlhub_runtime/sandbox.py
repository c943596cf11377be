"""Start a worker inside a sandbox: hidden folders, another user, resource limits.

The hub runs ``python -m dlhub_runtime.sandbox CONFIG_JSON -- COMMAND...``; this
module applies the configuration to its own process and then ``exec``s the
command, so the limits hold for the worker and everything it starts.

When it runs as root it:

1. enters a private mount namespace and lays an empty, read-only ``tmpfs`` over
   each *masked* folder, after which only the *kept* paths inside it are visible
   again (bind mounts). The hub masks its data folder (database, blob store)
   and every folder the worker user could not traverse (such as ``/root``),
   keeping only the servable's environment, the interpreter and the worker's
   own folder;
2. drops to an unprivileged user (no supplementary groups, no new privileges),
   so the servable can neither undo the mounts nor read the hub's files.

As any user it sets memory, core-file and process-count limits. (The worker
itself exits when the hub dies.) Linux only.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from typing import Any

__all__ = ["apply", "main"]

_CLONE_NEWNS = 0x00020000
_MS_RDONLY = 1
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), 2), f"umount {target}")  # MNT_DETACH


def _prepare_mountpoint(path: str, is_dir: bool) -> None:
    """An empty directory or file at ``path`` to mount onto."""
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a"):
            pass


def _mask(folder: str, keep: list[str], staging: str) -> None:
    """Cover ``folder`` with an empty tmpfs in which only the ``keep`` paths reappear."""
    keep = [k for k in keep if os.path.exists(k)]
    staged = []
    for index, path in enumerate(keep):
        spot = os.path.join(staging, f"{len(os.listdir(staging))}-{index}")
        is_dir = os.path.isdir(path)
        _prepare_mountpoint(spot, is_dir)
        _mount(path, spot, None, _MS_BIND | _MS_REC)
        staged.append((spot, path, is_dir))
    # the folder is about to disappear under the tmpfs: nothing below it exists after this
    _mount("tmpfs", folder, "tmpfs", 0, "mode=0755,size=1m")
    for spot, path, is_dir in staged:
        target = os.path.join(folder, os.path.relpath(path, folder))
        _prepare_mountpoint(target, is_dir)
        _mount(spot, target, None, _MS_BIND | _MS_REC)
    _mount(None, folder, None, _MS_REMOUNT | _MS_RDONLY | _MS_BIND)


def _hide_folders(masks: list[dict[str, Any]]) -> None:
    _check(_libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    staging = f"/tmp/.dlhub-sandbox-{os.getpid()}"
    os.makedirs(staging, mode=0o700, exist_ok=True)
    _mount("tmpfs", staging, "tmpfs", 0, "mode=0700,size=1m")
    try:
        for mask in masks:
            _mask(mask["folder"], list(mask.get("keep", [])), staging)
    finally:
        _umount(staging)
        os.rmdir(staging)


def _limit(kind: int, value: int | None) -> None:
    if value is None:
        return
    _soft, hard = resource.getrlimit(kind)
    new_hard = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (min(value, new_hard), new_hard))


def apply(config: dict[str, Any]) -> None:
    """Apply a sandbox configuration to the current process.

    Keys: ``masks`` (list of ``{"folder", "keep"}``), ``uid``/``gid`` (drop to
    them when running as root), ``memory_bytes`` (address-space limit),
    ``max_processes``, ``cwd``.
    """
    root = os.geteuid() == 0
    if root and config.get("masks"):
        _hide_folders(config["masks"])
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_AS, config.get("memory_bytes"))
    if root and config.get("uid") is not None:
        gid = int(config.get("gid", config["uid"]))
        os.setgroups([])
        os.setgid(gid)
        os.setuid(int(config["uid"]))
    _limit(resource.RLIMIT_NPROC, config.get("max_processes"))
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    if config.get("cwd"):
        os.chdir(config["cwd"])


def main(argv: list[str] | None = None) -> None:
    """``python -m dlhub_runtime.sandbox CONFIG_JSON -- COMMAND [ARGS...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write(
            "usage: python -m dlhub_runtime.sandbox CONFIG_JSON -- COMMAND [ARGS...]\n"
        )
        raise SystemExit(2)
    config = json.loads(args[0])
    command = args[2:]
    try:
        apply(config)
    except OSError as exc:
        sys.stderr.write(f"dlhub sandbox: cannot isolate the worker: {exc}\n")
        raise SystemExit(70) from None
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
