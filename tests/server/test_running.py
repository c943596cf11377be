"""Running Python servables end to end: hub in process, real worker processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from manual_examples import class_method, numpy_max
from servertools import publish_and_wait

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import (
    InputRejected,
    InputValidationError,
    ServableError,
    ServableNotFound,
)
from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from dlhub_sdk.utils.futures import DLHubFuture
from dlhub_sdk.utils.types import compose_argument_block
from hubtools import PASSWORD

APP = """
import numpy as np


def add(x, y):
    return x + y


def scale(x, factor=2.0):
    print("scaling by", factor)
    return np.asarray(x) * factor


def count_lines(path):
    with open(path) as fp:
        return len(fp.read().splitlines())


def total_size(paths):
    import os
    return sum(os.path.getsize(p) for p in paths)
"""


@pytest.fixture
def running(make_http: Callable[..., httpx.Client]) -> DLHubClient:
    """A user of a hub that warms workers at publication."""
    http = make_http(warm_on_publish=True)
    return DLHubClient.login("carol", PASSWORD, register=True, http_client=http)


def _app_model(folder: Path, function: str, name: str) -> PythonStaticMethodModel:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP)
    model = PythonStaticMethodModel.create_model("app", function).add_file(str(folder / "app.py"))
    return model.set_title(f"App {function}").set_name(name)


def test_static_method_sync_debug_parameters_async_and_versions(running: DLHubClient) -> None:
    publish_and_wait(running, numpy_max())
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(running.run("carol/numpy_max", x), np.max(x, axis=0))

    output, metadata = running.run("carol/numpy_max", x, parameters={"axis": 1}, debug=True)
    np.testing.assert_array_equal(output, np.max(x, axis=1))
    assert metadata["success"] is True and metadata["error_message"] == ""
    assert metadata["timing"]["run"] >= 0

    future = running.run("carol/numpy_max", x, asynchronous=True, async_wait=0.05)
    assert isinstance(future, DLHubFuture)
    np.testing.assert_array_equal(future.result(timeout=60), np.max(x, axis=0))
    np.testing.assert_array_equal(running.get_result(future.task_id), np.max(x, axis=0))
    assert running.get_result(future.task_id, verbose=True)["success"] is True

    # A second version with another default; the first stays callable when pinned
    model = numpy_max()
    model.servable.methods["run"].parameters = {"axis": 1}
    publish_and_wait(running, model)
    np.testing.assert_array_equal(running.run("carol/numpy_max", x), np.max(x, axis=1))
    np.testing.assert_array_equal(running.run("carol/numpy_max:1", x), np.max(x, axis=0))
    with pytest.raises(ServableNotFound):
        running.run("carol/numpy_max:9", x)


def test_closing_the_client_stops_watching_its_runs(running: DLHubClient) -> None:
    from dlhub_sdk.exceptions import TaskNotFinished

    publish_and_wait(running, numpy_max())
    x = np.arange(4.0).reshape(2, 2)
    future = running.run("carol/numpy_max", x, asynchronous=True, async_wait=60)
    running.close()  # the watcher stops at once; the run goes on at the hub
    with pytest.raises(TaskNotFinished, match=f"closed before task {future.task_id} ended"):
        future.result(timeout=5)
    again = DLHubClient(token=running._token, http_client=running._hub._client)
    deadline = time.monotonic() + 60
    while True:
        try:
            np.testing.assert_array_equal(again.get_result(future.task_id), [2.0, 3.0])
            break
        except TaskNotFinished:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_validate_input_rejects_before_running(running: DLHubClient) -> None:
    publish_and_wait(running, numpy_max())
    with pytest.raises(InputValidationError, match=r"input\[1\]"):
        running.run("carol/numpy_max", [[1.0, 2.0], [3.0]], validate_input=True)
    # the hub checks too, for callers that skip the client's check
    with pytest.raises(InputRejected, match="declared types"):
        running._post_run("carol/numpy_max", {"inputs": "text", "validate_input": True}, None)
    good = running.run("carol/numpy_max", [[1.0, 5.0], [3.0, 2.0]], validate_input=True)
    np.testing.assert_array_equal(good, [3.0, 5.0])


def test_servable_error_carries_the_remote_traceback(running: DLHubClient) -> None:
    publish_and_wait(running, numpy_max())
    with pytest.raises(ServableError) as info:
        running.run("carol/numpy_max", "not an array")
    assert "traceback from the servable" in str(info.value)
    assert info.value.remote_traceback
    output, metadata = running.run("carol/numpy_max", "not an array", debug=True)
    assert output is None and metadata["success"] is False
    assert isinstance(metadata["exc"], ServableError)


def test_class_method_equals_the_in_process_call(running: DLHubClient, tmp_path: Path) -> None:
    publish_and_wait(running, class_method(tmp_path / "cm", a=3))
    assert running.run("carol/example_class", 2.0) == 3 * 2.0 + 1
    assert running.run("carol/example_class", 2.0, parameters={"b": 10}) == 3 * 2.0 + 10


def test_unpacked_tuple_inputs(running: DLHubClient, tmp_path: Path) -> None:
    model = _app_model(tmp_path / "add", "add", "adder")
    model.set_inputs(
        "tuple",
        "Two numbers",
        element_types=[compose_argument_block("float", "x"), compose_argument_block("float", "y")],
    )
    model.set_outputs("float", "Sum").set_unpack_inputs(True)
    publish_and_wait(running, model)
    assert running.run("carol/adder", (1.5, 2.0)) == 3.5
    assert running.run("carol/adder", [1.5, 2.0], validate_input=True) == 3.5


def test_file_inputs_single_and_list(running: DLHubClient, tmp_path: Path) -> None:
    single = _app_model(tmp_path / "lines", "count_lines", "line_counter")
    single.set_inputs("file", "A text file", file_types=["text/plain"]).set_outputs(
        "integer", "Lines"
    )
    publish_and_wait(running, single)
    data = tmp_path / "data.txt"
    data.write_text("a\nb\nc\n")
    assert running.run("carol/line_counter", str(data), validate_input=True) == 3

    many = _app_model(tmp_path / "sizes", "total_size", "sizer")
    many.set_inputs("list", "Files", item_type=compose_argument_block("file", "a file"))
    many.set_outputs("integer", "Bytes")
    publish_and_wait(running, many)
    other = tmp_path / "other.bin"
    other.write_bytes(b"x" * 100)
    assert running.run("carol/sizer", [str(data), str(other)]) == 6 + 100


def test_run_serial_and_a_pipeline(running: DLHubClient, tmp_path: Path) -> None:
    from dlhub_sdk.models.pipeline import PipelineModel

    publish_and_wait(running, numpy_max())
    scale = _app_model(tmp_path / "scale", "scale", "scaler")
    scale.set_inputs("ndarray", "Values", shape=[None]).set_outputs(
        "ndarray", "Scaled", shape=[None]
    )
    scale.servable.methods["run"].parameters = {"factor": 2.0}
    publish_and_wait(running, scale)
    x = np.array([[1.0, 7.0], [4.0, 2.0]])
    expected = np.max(x, axis=0) * 2.0
    np.testing.assert_array_equal(
        running.run_serial(["carol/numpy_max", "carol/scaler"], x), expected
    )

    pipeline = PipelineModel.create_model().set_title("Max then scale").set_name("max_scale")
    pipeline.add_step("carol/numpy_max", "column maxima")
    pipeline.add_step("carol/scaler", "times three", parameters={"factor": 3.0})
    publish_and_wait(running, pipeline)
    np.testing.assert_array_equal(running.run("carol/max_scale", x), np.max(x, axis=0) * 3.0)
    # the caller's parameters go to the last step only (numpy's max knows no "factor")
    scaled = running.run("carol/max_scale", x, parameters={"factor": 10.0})
    np.testing.assert_array_equal(scaled, np.max(x, axis=0) * 10.0)


def test_private_servables_cannot_be_run_by_others(
    running: DLHubClient, make_http: Callable[..., httpx.Client]
) -> None:
    model = numpy_max("secret_max").set_visibility(users=["carol"])
    publish_and_wait(running, model)
    other = DLHubClient.login("dave", PASSWORD, register=True, http_client=running._hub._client)
    with pytest.raises(ServableNotFound):
        other.run("carol/secret_max", [[1.0]])
    np.testing.assert_array_equal(running.run("carol/secret_max", [[1.0, 2.0]]), [1.0, 2.0])


def test_python_object_inputs_fail_clearly(running: DLHubClient) -> None:
    publish_and_wait(running, numpy_max())

    class Opaque:
        pass

    with pytest.raises(ValueError, match=r"input\[0\].*Opaque"):
        running.run("carol/numpy_max", [Opaque()])


def test_client_side_throttle_is_off_until_set(running: DLHubClient) -> None:
    import time

    publish_and_wait(running, numpy_max())
    assert running._fx_client.max_requests is None
    running._fx_client.max_requests = 2
    running._fx_client.period = 0.5
    started = time.monotonic()
    for _ in range(3):
        running.run("carol/numpy_max", [[1.0]])
    assert time.monotonic() - started >= 0.45


def test_anonymous_callers_must_log_in_to_run(running: DLHubClient) -> None:
    from dlhub_sdk.exceptions import AuthenticationError

    publish_and_wait(running, numpy_max())
    anonymous = DLHubClient(anonymous=True, http_client=running._hub._client)
    with pytest.raises(AuthenticationError, match="log in"):
        anonymous.run("carol/numpy_max", [[1.0]])


def test_input_size_and_call_rate_limits(make_http: Callable[..., httpx.Client]) -> None:
    from dlhub_sdk.exceptions import PayloadTooLarge, RateLimited

    http = make_http(max_input_bytes=4096, runs_per_second=2)
    client = DLHubClient.login("judy", PASSWORD, register=True, http_client=http)
    publish_and_wait(client, numpy_max())
    with pytest.raises(PayloadTooLarge, match="DLHUB_MAX_INPUT_BYTES"):
        client.run("judy/numpy_max", np.zeros((100, 100)))
    with pytest.raises(RateLimited, match="calls per second") as info:
        for _ in range(10):
            client.run("judy/numpy_max", [[1.0]])
    assert info.value.status_code == 429


def test_curl_users_send_and_receive_json(running: DLHubClient) -> None:
    publish_and_wait(running, numpy_max())
    http = running._hub._client
    answer = http.post(
        "/api/v1/servables/carol/numpy_max/run",
        json={"inputs": [[1, 5], [3, 2]], "parameters": {"axis": 1}},
        headers={"Authorization": f"Bearer {running._token}"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["success"] is True
    from dlhub_runtime.codec import from_json

    np.testing.assert_array_equal(from_json(body["output"]), [5, 3])
    bad = http.post(
        "/api/v1/servables/carol/numpy_max/run",
        content=b"{not json",
        headers={"Authorization": f"Bearer {running._token}", "Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and "cannot be read" in bad.json()["error"]["message"]


IDENTITY = "def identity(x):\n    return x\n"


def test_large_arrays_cross_the_hub_undecoded_and_unchanged(
    running: DLHubClient, tmp_path: Path
) -> None:
    import msgpack

    from dlhub_runtime.codec import from_json, to_json_compatible

    (tmp_path / "identity.py").write_text(IDENTITY)
    model = PythonStaticMethodModel.create_model("identity", "identity")
    model.add_file(str(tmp_path / "identity.py"))
    model.set_inputs("ndarray", "x", shape=[None, 3]).set_outputs("ndarray", "x", shape=[None, 3])
    publish_and_wait(running, model.set_title("Identity").set_name("identity"))
    x = np.random.default_rng(0).random((40_000, 3))  # 960 KB: above the pass-through size

    np.testing.assert_array_equal(running.run("carol/identity", x), x)
    np.testing.assert_array_equal(running.run("carol/identity", x, validate_input=True), x)
    with pytest.raises(InputValidationError):
        running.run("carol/identity", x[:, :2], validate_input=True)
    future = running.run("carol/identity", x, asynchronous=True, async_wait=0.05)
    np.testing.assert_array_equal(future.result(timeout=60), x)
    np.testing.assert_array_equal(running.get_result(future.task_id), x)  # stored as it came

    # a JSON caller gets the same output as JSON
    http = running._hub._client
    auth = {"Authorization": f"Bearer {running._token}"}
    as_json = http.post(
        "/api/v1/servables/carol/identity/run", json={"inputs": to_json_compatible(x)}, headers=auth
    )
    np.testing.assert_array_equal(from_json(as_json.json()["output"]), x)

    # an array whose header and bytes disagree is refused by the hub, before any worker
    header = msgpack.packb(["<f8", [1_000_000]])
    broken = msgpack.ExtType(1, len(header).to_bytes(4, "big") + header + b"\0" * 80_000)
    answer = http.post(
        "/api/v1/servables/carol/identity/run",
        content=msgpack.packb({"inputs": broken}),
        headers={**auth, "Content-Type": "application/msgpack"},
    )
    assert answer.status_code == 400
    assert "array payload holds 80000 bytes" in answer.json()["error"]["message"]
