"""The real thing: ``dlhub serve`` in its own process, killed and started again on the same data."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from manual_examples import class_method, numpy_max
from servertools import sha256, wait_for_task

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import ServableNotFound
from dlhub_server.local import start_hub
from hubtools import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[str, subprocess.Popen[bytes]]]]:
    """Start ``dlhub serve`` on a free port; every process started is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(data_dir: Path, **environment: str) -> tuple[str, subprocess.Popen[bytes]]:
        hub = start_hub(
            data_dir, environment=environment, log=tmp_path / f"serve-{len(started)}.log"
        )
        started.append(hub.process)
        return hub.url, hub.process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_publish_describe_then_survive_a_kill(serve, tmp_path: Path) -> None:
    data = tmp_path / "hub-data"
    url, process = serve(data, DLHUB_MAX_UPLOAD_BYTES="1000000", DLHUB_ENVIRONMENTS="shared")

    alice = DLHubClient.login("alice", PASSWORD, base_url=url, register=True)
    bob = DLHubClient.login("bob", PASSWORD, base_url=url, register=True)
    task_id = alice.publish_servable(class_method(tmp_path / "model", a=7))
    private = [
        alice.publish_servable(numpy_max("private").set_visibility(users=["alice"]))
        for _ in range(2)
    ]
    # the environment build adds to the document: compare it once the builds are over
    for task in [task_id, *private]:
        status = wait_for_task(alice, task)
        assert status["status"] == "succeeded", status["steps"]
    described = alice.describe_servable("alice/example_class")
    pickled = (tmp_path / "model" / "pickle.pkl").read_bytes()
    assert described["dlhub"]["file_hashes"]["pickle.pkl"] == sha256(pickled)
    with pytest.raises(ServableNotFound):
        bob.describe_servable("alice/private")

    # An upload over the limit gets the hub's 413 even though it is refused before it is read.
    answer = httpx.post(
        f"{url}/api/v1/servables",
        headers={"Authorization": f"Bearer {alice._token}"},
        data={"document": "{}"},
        files={"file": ("files.zip", os.urandom(2_000_000), "application/zip")},
    )
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/api/v1/info", timeout=2)

    alice.close()
    bob.close()

    url, _ = serve(data, DLHUB_ENVIRONMENTS="shared")
    again = DLHubClient(url, token=alice._token)  # tokens survive the restart
    assert again.get_username() == "alice"
    assert again.describe_servable("alice/example_class") == described
    assert again.list_servables() == ["alice/example_class", "alice/private"]
    assert [d["dlhub"]["servable_version"] for d in again.get_versions("alice/private")] == [2, 1]
    task = again.get_task_status(task_id)
    assert task["result"]["name"] == "alice/example_class"
    download = httpx.get(
        f"{url}/api/v1/servables/alice/example_class/versions/1/files/pickle.pkl",
        headers={"Authorization": f"Bearer {alice._token}"},
    )
    assert download.content == pickled

    bob_again = DLHubClient.login("bob", PASSWORD, base_url=url)
    with pytest.raises(ServableNotFound):
        bob_again.describe_servable("alice/private")
    assert again.publish_servable(numpy_max("private").set_visibility(users=["alice"]))
    assert again.describe_servable("alice/private")["dlhub"]["servable_version"] == 3
    again.close()
    bob_again.close()


SLEEPER = "import time\n\ndef sleeps(x):\n    time.sleep(x)\n    return x\n"


def test_async_runs_survive_or_fail_cleanly_across_a_hub_kill(serve, tmp_path: Path) -> None:
    from servertools import publish_and_wait, wait_for_task

    from dlhub_sdk.models.servables.python import PythonStaticMethodModel

    data = tmp_path / "hub"
    url, process = serve(data, DLHUB_ENVIRONMENTS="shared")
    client = DLHubClient.login("frank", PASSWORD, base_url=url, register=True)
    folder = tmp_path / "sleeper"
    folder.mkdir()
    (folder / "sleeper.py").write_text(SLEEPER)
    model = PythonStaticMethodModel.create_model("sleeper", "sleeps").add_file(
        str(folder / "sleeper.py")
    )
    model.set_inputs("number", "seconds").set_outputs("number", "seconds")
    publish_and_wait(client, model.set_title("Sleeper").set_name("sleeper"))

    finished = client.run("frank/sleeper", 0, asynchronous=True, async_wait=0.05)
    assert finished.result(timeout=60) == 0
    in_flight = client.run("frank/sleeper", 60, asynchronous=True, async_wait=0.05)
    deadline = time.monotonic() + 30
    while client.get_task_status(in_flight.task_id)["status"] != "running":
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)

    in_flight.cancel()
    token = client._token
    client.close()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    url, _ = serve(data, DLHUB_ENVIRONMENTS="shared")  # a new port: the stored login does not apply
    client = DLHubClient(base_url=url, token=token)

    status = wait_for_task(client, in_flight.task_id, timeout=10)
    assert status["status"] == "failed"
    assert "hub stopped" in status["steps"][0]["log"]
    assert client.get_result(finished.task_id) == 0  # a finished result outlives the process
    assert client.run("frank/sleeper", 0) == 0
    client.close()


def test_port_zero_takes_a_free_port_and_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    import socket
    import sys

    hub = start_hub(tmp_path / "data")  # --port 0 --port-file underneath
    try:
        port = int(hub.url.rsplit(":", 1)[1])
        assert port > 0
        assert f"DLHub hub at http://127.0.0.1:{port}" in hub.log.read_text()

        with socket.create_connection(("127.0.0.1", port)):
            pass  # the hub holds the port
        taken = subprocess.run(
            [sys.executable, "-m", "dlhub_cli.main", "serve", "--port", str(port),
             "--data-dir", str(tmp_path / "other")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert taken.returncode == 1
        assert taken.stderr.strip().splitlines() == [
            f"Error: cannot listen on 127.0.0.1:{port}: Address already in use (another "
            "program may hold the port: pick another with --port, or --port 0 for any free one)"
        ]
        assert not (tmp_path / "other").exists()  # refused before touching any data
    finally:
        hub.stop()
