"""The main job: start a hub with its embedded defaults, publish the manual's examples, run them.

Publishes a Python function (numpy's max, section 4.1.1), a pickled object's method
(4.1.2), a scikit-learn classifier (4.5), a Keras model (4.2), a PyTorch model
(4.3) and a TensorFlow SavedModel (4.4), each trained here on small generated data;
runs each one through the hub, next to the same call made in this process; and
prints where the hub and its catalog are. Data lives in a temporary folder unless
``--data-dir`` is given.

Usage: python scripts/demo.py [--port 5000] [--data-dir DIR] [--environments isolated|shared]
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from dlhub_server.local import HubStartError, start_hub

EXAMPLE_CLASS = """
class ExampleClass:
    def __init__(self, a):
        self.a = a

    def f(self, x, b=1):
        return self.a * x + b
"""

NET = """
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)
"""


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _iris_like() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    X = np.concatenate([c + 0.3 * rng.standard_normal((30, 4)) for c in centres]).astype(np.float32)
    return X, np.repeat(np.arange(3), 30)


def build_examples(folder: Path) -> list[tuple[Any, Any, Any]]:
    """(model description, input, the same call in this process) for each servable type."""
    import importlib

    from dlhub_sdk.models.servables.keras import KerasModel
    from dlhub_sdk.models.servables.python import PythonClassMethodModel, PythonStaticMethodModel
    from dlhub_sdk.models.servables.pytorch import TorchModel
    from dlhub_sdk.models.servables.sklearn import ScikitLearnModel
    from dlhub_sdk.models.servables.tensorflow import TensorFlowModel

    folder.mkdir(parents=True, exist_ok=True)
    X, y = _iris_like()
    sample = X[:3]
    examples = []

    # 4.1.1 numpy's max along axis 0
    model = PythonStaticMethodModel.create_model(
        "numpy", "max", autobatch=False, function_kwargs={"axis": 0}
    )
    model.set_inputs("ndarray", "Matrix", shape=[None, None])
    model.set_outputs("ndarray", "Max of a certain axis", shape=[None])
    model.set_title("Maximum of a matrix").set_name("numpy_max").add_requirement("numpy", "detect")
    examples.append((model, sample, lambda: np.max(sample, axis=0)))

    # 4.1.2 a method of a pickled object
    (folder / "example.py").write_text(EXAMPLE_CLASS)
    sys.path.insert(0, str(folder))
    example = importlib.import_module("example").ExampleClass(2)
    with open(folder / "pickle.pkl", "wb") as fp:
        pickle.dump(example, fp)
    model = PythonClassMethodModel.create_model(str(folder / "pickle.pkl"), "f")
    model.set_inputs("float", "Input value").set_outputs("float", "Output value")
    model.add_file(str(folder / "example.py")).set_title("Example class").set_name("example_class")
    examples.append((model, 3.0, lambda: example.f(3.0)))

    # 4.5 a scikit-learn classifier
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression(max_iter=500).fit(X, y)
    with open(folder / "model.pkl", "wb") as fp:
        pickle.dump(estimator, fp)
    model = ScikitLearnModel.create_model(str(folder / "model.pkl"), n_input_columns=4, classes=3)
    model.set_title("Iris-like classifier").set_name("iris_sklearn").add_requirement(
        "numpy", "detect"
    )
    examples.append((model, sample, lambda: estimator.predict_proba(sample)))

    # 4.2 a Keras model
    import keras

    net = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)]
    )
    net.compile(optimizer="rmsprop", loss="mse")
    net.fit(X, keras.utils.to_categorical(y, 3), epochs=2, verbose=0)
    net.save(folder / "model.keras")
    model = KerasModel.create_model(str(folder / "model.keras"))
    model["servable"]["methods"]["run"]["output"]["description"] = "Response"
    model.set_title("Iris-like Keras network").set_name("iris_keras")
    examples.append((model, sample, lambda: net.predict(sample, verbose=0)))

    # 4.3 a PyTorch model saved whole
    import torch

    (folder / "Net.py").write_text(NET)
    torch_net = importlib.import_module("Net").Net().eval()
    torch.save(torch_net, folder / "model.pt")
    model = TorchModel.create_model(str(folder / "model.pt"), (None, 4), (None, 3))
    model.add_file(str(folder / "Net.py")).set_title("Iris-like PyTorch network").set_name(
        "iris_torch"
    )

    def torch_call() -> Any:
        with torch.no_grad():
            return torch_net(torch.from_numpy(sample)).numpy()

    examples.append((model, sample, torch_call))

    # 4.4 a TensorFlow SavedModel whose default signature becomes "run"
    import tensorflow as tf

    class AddOne(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 4), tf.float32)])
        def __call__(self, x: Any) -> Any:
            return x + 1

    module = AddOne()
    tf.saved_model.save(
        module, str(folder / "export"), signatures={"serving_default": module.__call__}
    )
    model = (
        TensorFlowModel.create_model(str(folder / "export"))
        .set_title("Add one")
        .set_name("add_one")
    )
    examples.append((model, sample, lambda: sample + 1))
    return examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DLHUB_DEMO_PORT", "5000")))
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the hub's data here")
    parser.add_argument("--environments", choices=("isolated", "shared"), default="isolated")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dlhub-demo-"))
    data = args.data_dir or work
    data.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(work / "home")  # the demo's login stays out of your own credentials
    port = args.port
    while not _port_free(port):
        port += 1
    url = f"http://127.0.0.1:{port}"
    print(
        f"starting the hub at {url} (data in {data}, {args.environments} environments)", flush=True
    )
    environment = {"DLHUB_ENVIRONMENTS": args.environments}
    try:
        hub = start_hub(data / "hub", port=port, environment=environment, log=data / "hub.log")
    except HubStartError as exc:
        raise SystemExit(str(exc)) from None
    try:
        from dlhub_sdk.client import DLHubClient

        client = DLHubClient.login("demo", "demo-password-123", base_url=url, register=True)
        print("training the manual's example models...", flush=True)
        examples = build_examples(work / "models")
        for model, value, local in examples:
            name = f"demo/{model.name}"
            started = time.monotonic()
            task = client.publish_servable(model)
            while (status := client.get_task_status(task))["status"] in ("pending", "running"):
                time.sleep(0.2)
            if status["status"] != "succeeded":
                log = status["steps"][-1]["log"]
                raise SystemExit(f"publishing {name} failed:\n{log}")
            ready = time.monotonic() - started
            output = client.run(name, value)
            same = np.allclose(
                np.asarray(output, dtype=float), np.asarray(local(), dtype=float), rtol=1e-4
            )
            shown = np.array2string(np.asarray(output), precision=3, threshold=6).replace("\n", " ")
            print(
                f"  {name:<20} {model['servable']['type']:<24} ready in {ready:5.1f} s  -> {shown}"
                f"  ({'equals' if same else 'DIFFERS from'} the in-process call)"
            )
        print(
            f"\nhub: {url}   catalog (API and its documentation): {url}/docs   servables: {url}/api/v1/servables"
        )
        print("try: DLHUB_URL=" + url + " dlhub servables")
        if sys.stdin.isatty():
            print("the hub keeps serving; press Ctrl-C to stop it")
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
