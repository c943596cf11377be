"""A real worker subprocess: loading, calls, captured output, files, failures and crashes."""

from __future__ import annotations

import io
import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlhub_runtime import (
    FileRef,
    ServableError,
    ServableLoadError,
    WorkerCrashed,
    WorkerProcess,
    WorkerTimeout,
    decode,
    encode,
)
from dlhub_runtime.protocol import read_frame, write_frame
from dlhub_runtime.worker import Worker

SERVABLE = """
import ctypes
import os
import subprocess
import sys
import time

def echo(x, suffix=""):
    print("python says", x)
    sys.stderr.write("to stderr\\n")
    os.write(1, b"raw descriptor\\n")
    ctypes.CDLL(None).printf(b"from C")  # no newline: stays in the C buffer
    return f"{x}{suffix}"

def fail(x):
    raise ValueError(f"cannot handle {x!r}")

def leave(x):
    sys.exit(3)

def die(x):
    os._exit(1)

def segfault(x):
    ctypes.string_at(0)

def hang(x):
    child = subprocess.Popen(["sleep", "60"])
    with open(x, "w") as fp:
        fp.write(str(child.pid))
    time.sleep(60)

def ask(x):
    return input()

def read_files(paths):
    if isinstance(paths, str):
        paths = [paths]
    return [(os.path.basename(p), open(p).read(), p) for p in paths]

def write_file(text):
    with open("result.txt", "w") as fp:
        fp.write(text)
    return "result.txt"

def unsendable(x):
    return [x, object()]
"""

METHODS = [
    "echo",
    "fail",
    "leave",
    "die",
    "segfault",
    "hang",
    "ask",
    "read_files",
    "write_file",
    "unsendable",
]


def _document(folder: Path) -> dict[str, Any]:
    methods: dict[str, Any] = {
        name: {
            "parameters": {},
            "method_details": {"module": "faulty_servable", "method_name": name},
        }
        for name in METHODS
    }
    methods["echo"]["parameters"] = {"suffix": "!"}
    methods["write_file"]["output"] = {"type": "file", "description": "a file"}
    methods["sqrt"] = {"method_details": {"module": "numpy", "method_name": "sqrt"}}
    return {
        "dlhub": {"name": "faulty", "files": {"other": ["faulty_servable.py"]}},
        "servable": {"shim": "python.PythonStaticMethodServable", "methods": methods},
    }


@pytest.fixture
def servable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "servable"
    folder.mkdir()
    (folder / "faulty_servable.py").write_text(textwrap.dedent(SERVABLE))
    return folder


@pytest.fixture
def worker(tmp_path: Path, servable_folder: Path) -> Iterator[WorkerProcess]:
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    # without PYTHONUNBUFFERED, C stdio buffers its output as it would in production
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = WorkerProcess(sys.executable, env=env, cwd=workdir)
    reply = process.load(_document(servable_folder), servable_folder, timeout=30)
    assert reply.ok and reply.timing["load"] >= 0
    yield process
    process.kill()


def test_several_calls_with_parameters_and_arrays(worker: WorkerProcess) -> None:
    assert worker.call("echo", "a").result() == "a!"
    assert worker.call("echo", "b", {"suffix": "?"}).result() == "b?"
    array = np.arange(12.0).reshape(3, 4)
    reply = worker.call("sqrt", array)
    np.testing.assert_array_equal(reply.result(), np.sqrt(array))
    assert reply.timing["run"] >= 0
    assert worker.alive


def test_large_arrays_cross_quickly(worker: WorkerProcess) -> None:
    array = np.random.default_rng(0).random(2_500_000)  # 20 MB each way
    start = time.perf_counter()
    result = worker.call("sqrt", array, timeout=30).result()
    assert time.perf_counter() - start < 10  # generous: CI machines are shared
    np.testing.assert_array_equal(result, np.sqrt(array))


def test_sklearn_servable_in_a_worker(tmp_path: Path) -> None:
    import pickle

    from sklearn.linear_model import LogisticRegression

    x = np.random.default_rng(1).random((40, 3))
    y = (x[:, 0] > 0.5).astype(int)
    estimator = LogisticRegression().fit(x, y)
    folder = tmp_path / "sk"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(estimator))
    document = {
        "dlhub": {"files": {"model": "model.pkl"}},
        "servable": {
            "shim": "sklearn.ScikitLearnServable",
            "options": {"serialization_method": "pickle"},
            "methods": {
                "run": {"parameters": {}, "method_details": {"method_name": "_predict_proba"}}
            },
        },
    }
    with WorkerProcess(cwd=tmp_path) as process:
        process.load(document, folder, timeout=60)
        for _ in range(3):
            result = process.call("run", x[:5], timeout=30).result()
            np.testing.assert_array_equal(result, estimator.predict_proba(x[:5]))


def test_captured_output_includes_c_level_prints(worker: WorkerProcess) -> None:
    reply = worker.call("echo", 1, capture_output=True)
    assert reply.result() == "1!"
    assert "python says 1" in reply.stdout
    assert "raw descriptor" in reply.stdout
    assert "from C" in reply.stdout
    assert reply.stderr == "to stderr\n"


def test_uncaptured_prints_never_reach_the_channel(worker: WorkerProcess) -> None:
    for _ in range(3):
        reply = worker.call("echo", "x", capture_output=False, timeout=10)
        assert (reply.result(), reply.stdout) == ("x!", "")
    time.sleep(0.2)  # the stderr drain thread is asynchronous
    assert "python says x" in worker.stderr_tail()


def test_servable_error_comes_back_with_its_traceback(worker: WorkerProcess) -> None:
    reply = worker.call("fail", 42)
    assert not reply.ok
    assert reply.error is not None
    assert reply.error["type"] == "ValueError"
    assert reply.error["message"] == "cannot handle 42"
    assert 'faulty_servable.py", line' in reply.error["traceback"]
    assert "dlhub_runtime" not in reply.error["traceback"]  # starts in the servable's code
    with pytest.raises(ServableError, match="ValueError: cannot handle 42") as caught:
        reply.result()
    assert "raise ValueError" in caught.value.remote_traceback
    assert worker.call("echo", "next").result() == "next!"  # the worker keeps serving


def test_sys_exit_and_stdin_are_errors_not_exits(worker: WorkerProcess) -> None:
    reply = worker.call("leave", None)
    assert reply.error is not None and reply.error["type"] == "SystemExit"
    reply = worker.call("ask", None)
    assert reply.error is not None and reply.error["type"] == "EOFError"
    assert worker.call("echo", "still").result() == "still!"


def test_unknown_method_is_an_error_reply(worker: WorkerProcess) -> None:
    reply = worker.call("nope", 1)
    assert reply.error is not None and reply.error["type"] == "MethodNotFound"
    assert "'nope'" in reply.error["message"] and "echo" in reply.error["message"]


def test_output_that_cannot_travel_names_its_place(worker: WorkerProcess) -> None:
    reply = worker.call("unsendable", 1)
    assert reply.error is not None
    assert reply.error["type"].endswith("CodecError")
    assert reply.error["message"].startswith("output[1]: cannot send an object")
    assert worker.call("echo", 2).result() == "2!"


def test_inputs_that_cannot_travel_are_refused_before_sending(worker: WorkerProcess) -> None:
    from dlhub_runtime import CodecError

    with pytest.raises(CodecError, match=r"^input\['a'\]: cannot send a set"):
        worker.call("echo", {"a": {1}})
    assert worker.call("echo", 3).result() == "3!"


def test_os_exit_raises_worker_crashed_with_exit_code(worker: WorkerProcess) -> None:
    with pytest.raises(
        WorkerCrashed, match=r"died while running 'call die' \(exit code 1\)"
    ) as caught:
        worker.call("die", None)
    assert caught.value.returncode == 1
    assert not worker.alive
    with pytest.raises(WorkerCrashed, match="not running"):
        worker.call("echo", 1)


def test_segfault_names_the_signal_and_shows_the_stack(worker: WorkerProcess) -> None:
    with pytest.raises(WorkerCrashed, match="SIGSEGV") as caught:
        worker.call("segfault", None)
    assert caught.value.returncode == -11
    assert "segfault" in caught.value.stderr_tail  # faulthandler's traceback names the function


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fp:
            return fp.read().split(") ")[1].startswith("Z")  # a zombie waiting for init counts
    except FileNotFoundError:
        return True


def test_hanging_call_times_out_and_the_worker_is_killed(
    worker: WorkerProcess, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    start = time.monotonic()
    with pytest.raises(WorkerTimeout, match=r"did not answer 'call hang' within 0.5 s") as caught:
        worker.call("hang", str(pid_file), timeout=0.5)
    assert time.monotonic() - start < 5
    assert isinstance(caught.value, TimeoutError)
    assert not worker.alive
    # the servable's own child process was in the worker's process group, so it is gone too
    deadline = time.monotonic() + 5
    while not _gone(int(pid_file.read_text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(int(pid_file.read_text()))


def test_file_inputs_arrive_as_local_paths(worker: WorkerProcess, tmp_path: Path) -> None:
    local = tmp_path / "mine.csv"
    local.write_text("a,b\n")
    files = [
        FileRef.from_path(local),
        FileRef(name="mine.csv", data=b"second"),
        FileRef(name="../../evil.txt", data=b"x"),
    ]
    output = worker.call("read_files", files).result()
    assert [(name, text) for name, text, _ in output] == [
        ("mine.csv", "a,b\n"),
        ("mine.csv", "second"),
        ("evil.txt", "x"),
    ]
    workdir = str(tmp_path / "work")
    for _, _, path in output:
        assert path.startswith(workdir) and path != str(local)
        assert not os.path.exists(path)  # removed after the call
    single = worker.call("read_files", FileRef(name="one.txt", data=b"1")).result()
    assert single[0][:2] == ("one.txt", "1")


def test_file_outputs_come_back_as_file_refs(worker: WorkerProcess) -> None:
    output = worker.call("write_file", "hello").result()
    assert output == FileRef(name="result.txt", data=b"hello")


def test_load_failure_is_reported_with_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "broken_servable.py").write_text("print('loading...')\nimport not_a_real_module\n")
    document = {
        "dlhub": {"files": {}},
        "servable": {
            "shim": "python.PythonStaticMethodServable",
            "methods": {
                "run": {"method_details": {"module": "broken_servable", "method_name": "f"}}
            },
        },
    }
    with WorkerProcess(cwd=tmp_path) as process:
        with pytest.raises(ServableLoadError, match="ModuleNotFoundError") as caught:
            process.load(document, folder)
        assert "broken_servable.py" in caught.value.remote_traceback
        assert caught.value.stdout == "loading...\n"
        reply = process.call("run", 1)
        assert reply.error is not None and "no servable is loaded" in reply.error["message"]


def test_concurrent_callers_are_serialised(worker: WorkerProcess) -> None:
    results: dict[int, Any] = {}

    def call(i: int) -> None:
        results[i] = worker.call("echo", i).result()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: f"{i}!" for i in range(8)}


def test_close_shuts_the_worker_down_cleanly(tmp_path: Path, servable_folder: Path) -> None:
    process = WorkerProcess(sys.executable, env={"PATH": os.environ.get("PATH", "")}, cwd=tmp_path)
    process.load(_document(servable_folder), servable_folder)
    assert process.call("echo", 1).result() == "1!"
    process.close()
    assert process.returncode == 0


def test_worker_loop_in_process() -> None:
    """The loop itself, over in-memory streams: replies in order, bad frames answered."""
    requests = io.BytesIO()
    document = {
        "servable": {
            "shim": "python.PythonStaticMethodServable",
            "methods": {
                "run": {
                    "method_details": {"module": "math", "method_name": "hypot", "unpack": True}
                }
            },
        }
    }
    for message in (
        {"op": "load", "id": 1, "document": document, "folder": "."},
        {"op": "call", "id": 2, "inputs": (3, 4)},
        {"op": "dance", "id": 3},
    ):
        write_frame(requests, encode(message))
    write_frame(requests, b"\xc1")  # not msgpack
    write_frame(requests, encode({"op": "shutdown", "id": 5}))
    write_frame(requests, encode({"op": "call", "id": 6, "inputs": (1, 1)}))  # never read
    requests.seek(0)
    replies_stream = io.BytesIO()

    assert Worker().serve(requests, replies_stream) == 0
    replies_stream.seek(0)
    replies = []
    while (frame := read_frame(replies_stream)) is not None:
        replies.append(decode(frame))
    assert [(r["id"], r["ok"]) for r in replies] == [
        (1, True),
        (2, True),
        (3, False),
        (None, False),
        (5, True),
    ]
    assert replies[1]["output"] == 5.0
    assert "unknown op 'dance'" in replies[2]["error"]["message"]
    assert "cannot decode" in replies[3]["error"]["message"]
