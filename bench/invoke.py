"""Invocation benchmark: how fast ``client.run`` is against a real hub, next to the in-process call.

Starts ``dlhub serve`` on a free port with a temporary data folder, publishes a
no-op function and a scikit-learn classifier (trained here on iris-like data),
then prints for each:

- p50 / p99 latency of ``client.run`` called sequentially,
- calls per second with 16 concurrent callers (threads, one client each),
- the in-process call (the physical limit) for comparison;

then, for an identity function on float64 arrays of 1, 10 and 50 MiB, the
p50 of ``client.run`` and the bytes per second it moves (the array goes to the
worker and comes back); and the wire codec's round trip (encode + decode) of a
50 MiB array next to one copy of it in memory.

Usage: ``python bench/invoke.py [--calls 2000] [--concurrency 16] [--isolated]``
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dlhub_server.local import LocalHub, start_hub

NOOP = "def noop(x):\n    return x\n"
IDENTITY = "def identity(x):\n    return x\n"


def _start_hub(data: Path, isolated: bool) -> LocalHub:
    environment = {
        "DLHUB_ENVIRONMENTS": "isolated" if isolated else "shared",
        "DLHUB_RUNS_PER_SECOND": "100000",
        "DLHUB_WORKERS_PER_SERVABLE": "2",
    }
    return start_hub(data, environment=environment, log=data.parent / "hub.log")


def _publish(client: Any, model: Any) -> None:
    task = client.publish_servable(model)
    while (status := client.get_task_status(task))["status"] in ("pending", "running"):
        time.sleep(0.1)
    if status["status"] != "succeeded":
        raise SystemExit(f"publication failed: {status['steps']}")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _sequential(call: Callable[[], Any], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _concurrent(make_call: Callable[[], Callable[[], Any]], callers: int, seconds: float) -> float:
    done = [0] * callers
    stop = time.monotonic() + seconds

    def work(index: int) -> None:
        call = make_call()
        while time.monotonic() < stop:
            call()
            done[index] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(callers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def _large_arrays(client: Any, work: Path, repeats: int) -> None:
    from dlhub_sdk.models.servables.python import PythonStaticMethodModel

    (work / "identity.py").write_text(IDENTITY)
    model = PythonStaticMethodModel.create_model("identity", "identity")
    model.add_file(str(work / "identity.py"))
    model.set_inputs("ndarray", "x", shape=[None]).set_outputs("ndarray", "x", shape=[None])
    _publish(client, model.set_title("Identity").set_name("identity"))
    print()
    print("| identity on a float64 array | client.run p50 | MiB/s (sent and returned) |")
    print("|---|---|---|")
    for mib in (1, 10, 50):
        array = np.random.default_rng(mib).random(mib * 2**20 // 8)
        client.run("bench/identity", array)  # warm
        times = _sequential(lambda array=array: client.run("bench/identity", array), repeats)
        p50 = statistics.median(times)
        print(f"| {mib} MiB | {p50 * 1e3:.1f} ms | {mib / p50:.0f} |")


def _codec_round_trip(repeats: int = 5) -> None:
    from dlhub_runtime.codec import decode, encode

    array = np.random.default_rng(1).random(50 * 2**20 // 8)
    codec = _sequential(lambda: decode(encode({"x": array})), repeats)
    copy = _sequential(array.copy, repeats)
    print()
    print("| 50 MiB float64 array | codec encode + decode p50 | one memory copy p50 |")
    print("|---|---|---|")
    print(f"| | {statistics.median(codec) * 1e3:.1f} ms | {statistics.median(copy) * 1e3:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="sequential calls per servable")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent callers")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="length of the concurrent phase"
    )
    parser.add_argument(
        "--isolated", action="store_true", help="isolated uv environments (default: shared)"
    )
    parser.add_argument(
        "--large-calls", type=int, default=15, help="sequential calls per large-array size"
    )
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression

    from dlhub_sdk.client import DLHubClient
    from dlhub_sdk.models.servables.python import PythonStaticMethodModel
    from dlhub_sdk.models.servables.sklearn import ScikitLearnModel

    work = Path(tempfile.mkdtemp(prefix="dlhub-bench-"))
    os.environ["HOME"] = str(work / "home")
    hub = _start_hub(work / "hub", args.isolated)
    url = hub.url
    try:
        client = DLHubClient.login("bench", "bench password 123", base_url=url, register=True)
        (work / "noop.py").write_text(NOOP)
        noop = PythonStaticMethodModel.create_model("noop", "noop").add_file(str(work / "noop.py"))
        noop.set_inputs("number", "x").set_outputs("number", "x").set_title("No-op").set_name(
            "noop"
        )
        _publish(client, noop)

        rng = np.random.default_rng(0)
        X = np.concatenate(
            [
                c + 0.3 * rng.standard_normal((50, 4))
                for c in ([5, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3, 5.6, 2])
            ]
        )
        estimator = LogisticRegression(max_iter=500).fit(X, np.repeat(np.arange(3), 50))
        with open(work / "model.pkl", "wb") as fp:
            pickle.dump(estimator, fp)
        sk = ScikitLearnModel.create_model(str(work / "model.pkl"), n_input_columns=4, classes=3)
        sk.add_requirement("numpy", "detect")
        _publish(client, sk.set_title("Iris").set_name("iris"))

        sample = X[:1]
        cases = {
            "no-op": ("bench/noop", 1.0, lambda: (lambda x: x)(1.0)),
            "sklearn predict_proba (1x4)": (
                "bench/iris",
                sample,
                lambda: estimator.predict_proba(sample),
            ),
        }
        print(
            f"# DLHub invocation benchmark, {time.strftime('%Y-%m-%d')}, {platform.node()}: "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{'isolated' if args.isolated else 'shared'} environments"
        )
        print("| servable | client.run p50 | p99 | calls/s, 16 callers | in-process p50 |")
        print("|---|---|---|---|---|")
        for label, (name, value, local) in cases.items():
            client.run(name, value)  # warm
            remote = _sequential(lambda name=name, value=value: client.run(name, value), args.calls)
            local_times = _sequential(local, args.calls)

            def make_call(name: str = name, value: Any = value) -> Callable[[], Any]:
                own = DLHubClient(base_url=url, token=client._token)
                return lambda: own.run(name, value)

            rate = _concurrent(make_call, args.concurrency, args.seconds)
            print(
                f"| {label} | {statistics.median(remote) * 1e3:.2f} ms | {_percentile(remote, 0.99) * 1e3:.2f} ms "
                f"| {rate:.0f} | {statistics.median(local_times) * 1e6:.1f} µs |"
            )
        _large_arrays(client, work, args.large_calls)
    finally:
        hub.stop()
    _codec_round_trip()


if __name__ == "__main__":
    main()
