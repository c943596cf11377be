"""A servable that fails in any way fails only its own call; the hub answers the next one at once."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from manual_examples import numpy_max
from servertools import publish_and_wait

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import ServableError, ServableTimeout, WorkerCrashed
from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from hubtools import PASSWORD

pytestmark = pytest.mark.slow

FAULTS = """
import os, time

def raises(x):
    raise KeyError(f"no entry {x}")

def exits(x):
    os._exit(1)

def sleeps(x):
    time.sleep(x)
    return x

def allocates(megabytes):
    return len(bytearray(int(megabytes) * 1024 * 1024))

def reads(path):
    with open(path, "rb") as fp:
        return len(fp.read())
"""


@pytest.fixture
def faulty(make_http: Callable[..., httpx.Client], tmp_path: Path) -> DLHubClient:
    http = make_http(warm_on_publish=True, worker_memory_mb=768, run_timeout=60)
    client = DLHubClient.login("erin", PASSWORD, register=True, http_client=http)
    folder = tmp_path / "faults"
    folder.mkdir()
    (folder / "faults.py").write_text(FAULTS)
    for function in ("raises", "exits", "sleeps", "allocates", "reads"):
        model = PythonStaticMethodModel.create_model("faults", function).add_file(
            str(folder / "faults.py")
        )
        model.set_inputs("python object", "anything", python_type="builtins.object")
        model.set_outputs("python object", "anything", python_type="builtins.object")
        publish_and_wait(client, model.set_title(function).set_name(function))
    publish_and_wait(client, numpy_max())
    return client


def _healthy(client: DLHubClient) -> None:
    started = time.monotonic()
    np.testing.assert_array_equal(
        client.run("erin/numpy_max", [[1.0, 4.0], [3.0, 2.0]]), [3.0, 4.0]
    )
    assert time.monotonic() - started < 30  # not stuck behind the failed call


def test_each_fault_fails_its_call_with_a_message_saying_which(faulty: DLHubClient, hub) -> None:
    with pytest.raises(ServableError, match="KeyError.*no entry 7"):
        faulty.run("erin/raises", 7)
    _healthy(faulty)

    with pytest.raises(WorkerCrashed, match="exited with code 1"):
        faulty.run("erin/exits", 1)
    _healthy(faulty)

    started = time.monotonic()
    with pytest.raises(ServableTimeout, match="did not finish within 1 s"):
        faulty.run("erin/sleeps", 30, timeout=1)
    assert time.monotonic() - started < 20
    assert faulty.run("erin/sleeps", 0) == 0
    _healthy(faulty)

    with pytest.raises(ServableError, match="MemoryError|out of memory"):
        faulty.run("erin/allocates", 2048)
    assert faulty.run("erin/allocates", 1) == 1024 * 1024
    _healthy(faulty)

    if os.geteuid() == 0:  # workers drop to an unprivileged user only when the hub runs as root
        database = hub.settings.database_url.removeprefix("sqlite:///")
        with pytest.raises(ServableError, match="PermissionError|FileNotFoundError"):
            faulty.run("erin/reads", database)
        with pytest.raises(ServableError, match="PermissionError|FileNotFoundError"):
            faulty.run("erin/reads", str(hub.settings.data_dir / "blobs"))
    _healthy(faulty)


def test_async_runs_of_failing_servables_end_failed(faulty: DLHubClient) -> None:
    future = faulty.run("erin/exits", 1, asynchronous=True, async_wait=0.05)
    with pytest.raises(WorkerCrashed):
        future.result(timeout=60)
    status = faulty.get_task_status(future.task_id)
    assert status["status"] == "failed" and "exited with code 1" in status["steps"][0]["log"]
    _healthy(faulty)
