"""Each ML servable type, trained here, published and run by real workers: results equal the in-process call."""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from manual_examples import iris_like
from servertools import publish_and_wait

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import InputValidationError
from hubtools import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def client(make_http: Callable[..., httpx.Client]) -> DLHubClient:
    http = make_http(warm_on_publish=True)
    return DLHubClient.login("grace", PASSWORD, register=True, http_client=http)


def _exercise(
    client: DLHubClient, name: str, x: Any, expected: Any, bad: Any, rtol: float = 1e-5
) -> None:
    """Sync, debug, async, pinned version and validate_input on good and bad inputs."""
    np.testing.assert_allclose(client.run(name, x), expected, rtol=rtol)
    output, metadata = client.run(name, x, debug=True)
    np.testing.assert_allclose(output, expected, rtol=rtol)
    assert metadata["success"] and "run" in metadata["timing"]
    future = client.run(name, x, asynchronous=True, async_wait=0.05)
    np.testing.assert_allclose(future.result(timeout=120), expected, rtol=rtol)
    np.testing.assert_allclose(client.run(f"{name}:1", x, validate_input=True), expected, rtol=rtol)
    with pytest.raises(InputValidationError):
        client.run(name, bad, validate_input=True)


def test_sklearn(client: DLHubClient, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    from dlhub_sdk.models.servables.sklearn import ScikitLearnModel

    X, y = iris_like()
    estimator = LogisticRegression(max_iter=500).fit(X, y)
    with open(tmp_path / "model.pkl", "wb") as fp:
        pickle.dump(estimator, fp)
    model = ScikitLearnModel.create_model(str(tmp_path / "model.pkl"), n_input_columns=4, classes=3)
    publish_and_wait(client, model.set_title("Iris").set_name("iris"))
    _exercise(client, "grace/iris", X[:5], estimator.predict_proba(X[:5]), X[:5, :3])


NET_SOURCE = """
import torch


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 3)

    def forward(self, x):
        return torch.nn.functional.log_softmax(self.layer(x), dim=1)
"""


def test_torch(client: DLHubClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from dlhub_sdk.models.servables.pytorch import TorchModel

    (tmp_path / "tiny_net.py").write_text(NET_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    net = importlib.import_module("tiny_net").TinyNet().eval()
    torch.save(net, tmp_path / "model.pt")
    model = TorchModel.create_model(str(tmp_path / "model.pt"), (None, 4), (None, 3))
    model.add_file(str(tmp_path / "tiny_net.py"))
    publish_and_wait(client, model.set_title("Tiny net").set_name("tiny_net"))
    X, _ = iris_like(1)
    with torch.no_grad():
        expected = net(torch.from_numpy(X[:4])).numpy()
    _exercise(client, "grace/tiny_net", X[:4], expected, X[:4, :2])


@pytest.mark.tensorflow
def test_keras(client: DLHubClient, tmp_path: Path) -> None:
    import keras

    from dlhub_sdk.models.servables.keras import KerasModel

    X = np.linspace(-1, 1, 32).reshape(-1, 1).astype("float32")
    net = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    net.compile(optimizer="rmsprop", loss="mse")
    net.fit(X, 2 * X, epochs=1, verbose=0)
    net.save(tmp_path / "model.keras")
    publish_and_wait(
        client,
        KerasModel.create_model(str(tmp_path / "model.keras")).set_title("Line").set_name("line"),
    )
    _exercise(
        client, "grace/line", X[:6], net.predict(X[:6], verbose=0), X[:6].reshape(3, 2), rtol=1e-4
    )


@pytest.mark.tensorflow
def test_tensorflow_signatures_as_methods(client: DLHubClient, tmp_path: Path) -> None:
    import tensorflow as tf

    from dlhub_sdk.models.servables.tensorflow import TensorFlowModel

    class CustomModule(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = tf.Variable([1.0, 1.0, 1.0], name="slope")

        @tf.function
        def __call__(self, x: Any) -> Any:
            return self.m * x + 1

    module = CustomModule()
    call = module.__call__.get_concrete_function(tf.TensorSpec((None, 3)))
    tf.saved_model.save(module, str(tmp_path / "export"), signatures={"serving_default": call})
    model = TensorFlowModel.create_model(str(tmp_path / "export"))
    publish_and_wait(client, model.set_title("Plus one").set_name("plus_one"))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    _exercise(client, "grace/plus_one", x, x + 1, np.arange(4, dtype=np.float32).reshape(2, 2))
