"""Workers cannot see the hub's files: masked folders, another user, limits."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from dlhub_runtime.errors import WorkerCrashed
from dlhub_runtime.process import WorkerProcess, runtime_path
from dlhub_server.execution.isolation import sandbox_config, worker_identity

PROBE = """
import os

def read(path):
    with open(path) as fp:
        return fp.read()

def whoami(_):
    return [os.getuid(), os.getgid(), os.getcwd()]

def allocate(megabytes):
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)
"""


def _document(function: str) -> dict:
    return {
        "datacite": {"titles": [{"title": "probe"}]},
        "dlhub": {"name": "probe", "files": {"other": ["probe.py"]}},
        "servable": {
            "type": "Python static method",
            "shim": "python.PythonStaticMethodServable",
            "methods": {
                "run": {
                    "input": {"type": "string"},
                    "output": {"type": "string"},
                    "parameters": {},
                    "method_details": {
                        "module": "probe",
                        "method_name": function,
                        "autobatch": False,
                    },
                }
            },
        },
    }


@pytest.fixture
def hub_layout(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "hub-data"
    data.mkdir(mode=0o700)
    (data / "hub.db").write_text("secret tokens")
    os.chmod(data / "hub.db", 0o600)
    folder = tmp_path / "workers" / "w1"
    folder.mkdir(parents=True)
    (folder / "probe.py").write_text(PROBE)
    return {"data": data, "folder": folder}


def _worker(layout: dict[str, Path], memory_bytes: int | None = None) -> WorkerProcess:
    identity = worker_identity()
    folder = layout["folder"]
    if identity is not None:
        for path in [folder, *folder.iterdir()]:
            os.chown(path, identity.uid, identity.gid)
    config = sandbox_config(
        needed=[sys.base_prefix, runtime_path(), folder],
        private=[layout["data"]],
        identity=identity,
        memory_bytes=memory_bytes,
        cwd=folder,
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": runtime_path(), "HOME": str(folder)}
    launcher = [sys.executable, "-m", "dlhub_runtime.sandbox", json.dumps(config), "--"]
    return WorkerProcess(sys.executable, env=env, cwd=folder, launcher=launcher)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")


@needs_root
def test_worker_runs_as_nobody_and_cannot_read_the_database(hub_layout: dict[str, Path]) -> None:
    with _worker(hub_layout) as worker:
        worker.load(_document("whoami"), hub_layout["folder"], timeout=30)
        uid, gid, cwd = worker.call("run", "x", timeout=30).result()
        assert (uid, gid) == (worker_identity().uid, worker_identity().gid)  # type: ignore[union-attr]
        assert cwd == str(hub_layout["folder"])
    with _worker(hub_layout) as worker:
        worker.load(_document("read"), hub_layout["folder"], timeout=30)
        assert (
            "def read"
            in worker.call("run", str(hub_layout["folder"] / "probe.py"), timeout=30).result()
        )
        reply = worker.call("run", str(hub_layout["data"] / "hub.db"), timeout=30)
        assert not reply.ok
        assert reply.error["type"] in ("FileNotFoundError", "PermissionError")
        # root's home (where a default hub keeps its data) is masked too
        assert not worker.call("run", "/root/.bashrc", timeout=30).ok


def test_memory_limit_stops_a_greedy_servable(hub_layout: dict[str, Path]) -> None:
    with _worker(hub_layout, memory_bytes=512 * 1024 * 1024) as worker:
        worker.load(_document("allocate"), hub_layout["folder"], timeout=30)
        assert worker.call("run", 16, timeout=30).result() == 16 * 1024 * 1024
        try:
            reply = worker.call("run", 1024, timeout=30)
        except WorkerCrashed:
            return  # killed outright is an acceptable way to fail
        assert not reply.ok and reply.error["type"] == "MemoryError"


def test_plan_masks_untraversable_folders_but_keeps_what_is_needed(tmp_path: Path) -> None:
    identity = worker_identity()
    if identity is None:
        assert sandbox_config([tmp_path], [tmp_path], None, memory_bytes=1)["memory_bytes"] == 1
        return
    closed = tmp_path / "closed"
    (closed / "inner" / "env").mkdir(parents=True)
    os.chmod(closed, 0o700)
    private = tmp_path / "open" / "data"
    (private / "envs" / "k").mkdir(parents=True)
    os.chmod(tmp_path, 0o755)
    config = sandbox_config(
        [closed / "inner" / "env", private / "envs" / "k"], [private], identity, memory_bytes=None
    )
    kept = {k for m in config["masks"] for k in m["keep"]}
    assert {str(closed / "inner" / "env"), str(private / "envs" / "k")} <= kept
    # The outermost folder the worker cannot traverse is masked (here pytest's 0700
    # base folder, or the "closed" folder itself), never a needed path.
    folders = [Path(m["folder"]) for m in config["masks"]]
    assert any(closed == f or f in closed.parents for f in folders)
    assert any(private == f or f in private.parents for f in folders)
