"""The local executor with real worker processes: warm reuse, faults, limits, concurrency."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from dlhub_server.execution.environments import EnvironmentBuilder
from dlhub_server.execution.executor import ExecutorLimits, LocalExecutor, ServableTarget
from dlhub_server.execution.isolation import worker_identity
from dlhub_server.storage import FolderBlobStore

pytestmark = pytest.mark.slow

APP = """
import os, time

def add(x, y=1):
    print("adding", x)
    return x + y

def boom(x):
    raise ValueError(f"bad value {x}")

def die(x):
    os._exit(1)

def sleep(seconds):
    time.sleep(seconds)
    return seconds

def allocate(megabytes):
    return len(bytearray(megabytes * 1024 * 1024))

def read(path):
    with open(path) as fp:
        return fp.read()
"""


def _document(function: str) -> dict:
    return {
        "datacite": {"titles": [{"title": function}]},
        "dlhub": {"name": function, "files": {"other": ["app.py"]}},
        "servable": {
            "type": "Python static method",
            "shim": "python.PythonStaticMethodServable",
            "methods": {
                "run": {
                    "input": {"type": "number"},
                    "output": {"type": "number"},
                    "parameters": {"y": 1} if function == "add" else {},
                    "method_details": {
                        "module": "app",
                        "method_name": function,
                        "autobatch": False,
                    },
                }
            },
        },
    }


@pytest.fixture
def hub(tmp_path: Path):
    data = tmp_path / "data"
    store = FolderBlobStore(data / "blobs")
    import io

    blob = store.put(io.BytesIO(APP.encode()))
    (data / "hub.db").write_text("secret")
    environment = EnvironmentBuilder(data / "environments", mode="shared").build([])

    def target(function: str) -> ServableTarget:
        return ServableTarget(
            f"v-{function}", _document(function), {"app.py": blob.sha256}, environment
        )

    def make(**limits) -> LocalExecutor:
        return LocalExecutor(
            data / "workers", store.open, [data], worker_identity(), ExecutorLimits(**limits)
        )

    executors: list[LocalExecutor] = []

    def factory(**limits) -> LocalExecutor:
        executors.append(make(**limits))
        return executors[-1]

    yield {"target": target, "executor": factory, "data": data}
    for executor in executors:
        executor.close()


def test_warm_worker_is_reused_and_parameters_override(hub) -> None:
    executor = hub["executor"]()
    target = hub["target"]("add")
    first = executor.run(target, "run", 2, capture_output=True)
    assert first.ok and first.output == 3 and "adding 2" in first.stdout
    assert executor.run(target, "run", 2, {"y": 10}).output == 12
    assert executor.stats() == {"v-add": {"idle": 1, "busy": 0}}


def test_a_raising_servable_fails_only_its_call(hub) -> None:
    executor = hub["executor"]()
    outcome = executor.run(hub["target"]("boom"), "run", 7)
    assert not outcome.ok
    assert outcome.error["type"] == "ValueError" and "bad value 7" in outcome.error["message"]
    assert "boom" in outcome.error["traceback"]
    assert executor.run(hub["target"]("add"), "run", 1).output == 2


def test_os_exit_crash_is_reported_and_the_worker_replaced(hub) -> None:
    executor = hub["executor"]()
    outcome = executor.run(hub["target"]("die"), "run", 1)
    assert (
        outcome.error["type"] == "WorkerCrashed"
        and "exited with code 1" in outcome.error["message"]
    )
    assert executor.run(hub["target"]("add"), "run", 1).output == 2


def test_hanging_servable_times_out_and_the_next_call_is_prompt(hub) -> None:
    executor = hub["executor"]()
    started = time.monotonic()
    outcome = executor.run(hub["target"]("sleep"), "run", 60, timeout=1.5)
    assert outcome.error["type"] == "ServableTimeout" and "1.5 s" in outcome.error["message"]
    assert time.monotonic() - started < 15
    quick = executor.run(hub["target"]("sleep"), "run", 0)
    assert quick.ok and quick.output == 0


def test_memory_limit(hub) -> None:
    executor = hub["executor"](memory_bytes=768 * 1024 * 1024)
    outcome = executor.run(hub["target"]("allocate"), "run", 2048)
    assert not outcome.ok
    assert outcome.error["type"] in ("MemoryError", "WorkerCrashed")
    assert executor.run(hub["target"]("allocate"), "run", 8).output == 8 * 1024 * 1024


@pytest.mark.skipif(
    os.geteuid() != 0, reason="workers drop to another user only when the hub is root"
)
def test_servable_cannot_read_the_hub_database(hub) -> None:
    executor = hub["executor"]()
    outcome = executor.run(hub["target"]("read"), "run", str(hub["data"] / "hub.db"))
    assert not outcome.ok and outcome.error["type"] in ("FileNotFoundError", "PermissionError")


def test_concurrent_callers_share_a_bounded_pool(hub) -> None:
    executor = hub["executor"](per_servable=2)
    target = hub["target"]("sleep")
    results: list[object] = []

    def call() -> None:
        outcome = executor.run(target, "run", 0.3)
        results.append(outcome.output if outcome.ok else outcome.error)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [0.3] * 6
    assert sum(executor.stats()["v-sleep"].values()) <= 2


def test_least_recently_used_worker_makes_room(hub) -> None:
    executor = hub["executor"](max_workers=1)
    assert executor.run(hub["target"]("add"), "run", 1).output == 2
    assert executor.run(hub["target"]("sleep"), "run", 0).output == 0
    assert executor.run(hub["target"]("add"), "run", 5).output == 6
    stats = executor.stats()
    assert sum(p["idle"] + p["busy"] for p in stats.values()) <= 1


def test_idle_workers_are_reaped(hub) -> None:
    executor = hub["executor"](idle_seconds=0.2)
    executor.run(hub["target"]("add"), "run", 1)
    time.sleep(0.5)
    executor.reap()
    assert executor.stats()["v-add"] == {"idle": 0, "busy": 0}


def test_file_hashes_are_materialised(hub) -> None:
    executor = hub["executor"]()
    executor.run(hub["target"]("add"), "run", 1)
    copied = hub["data"] / "workers" / "v-add" / "files" / "app.py"
    assert (
        hashlib.sha256(copied.read_bytes()).hexdigest() == hashlib.sha256(APP.encode()).hexdigest()
    )
