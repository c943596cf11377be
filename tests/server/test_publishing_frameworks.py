"""The manual's machine-learning examples (chapter 4.2-4.5), trained here and published to the hub."""

from __future__ import annotations

import hashlib
import importlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from manual_examples import iris_like

from dlhub_sdk.client import DLHubClient


def _model_class(module: str, name: str) -> Any:
    """The SDK's class for a framework, or a skip when that part of the SDK is not there yet."""
    found = pytest.importorskip(f"dlhub_sdk.models.servables.{module}")
    return getattr(found, name)


def _publish_and_check(
    client: DLHubClient, model: Any, folder: Path, user_name: str
) -> dict[str, Any]:
    """Publish ``model`` and check that the hub describes it with the hashes of its files."""
    sent = model.to_dict(simplify_paths=True)
    client.publish_servable(model)
    described = client.describe_servable(f"{user_name}/{sent['dlhub']['name']}")
    assert described["servable"] == sent["servable"]
    assert described["dlhub"]["files"] == sent["dlhub"]["files"]
    listed = {
        path
        for value in model.dlhub.files.values()
        for path in ([value] if isinstance(value, str) else value)
    }
    root = Path(_common_root(listed))
    expected = {
        Path(path).resolve().relative_to(root).as_posix(): hashlib.sha256(
            Path(path).read_bytes()
        ).hexdigest()
        for path in listed
    }
    assert described["dlhub"]["file_hashes"] == expected
    return described


def _common_root(paths: set[str]) -> str:
    import os

    return os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])


def test_sklearn(alice: DLHubClient, bob: DLHubClient, tmp_path: Path) -> None:
    ScikitLearnModel = _model_class("sklearn", "ScikitLearnModel")
    from sklearn.linear_model import LogisticRegression

    X, y = iris_like()
    for client, user in ((alice, "alice"), (bob, "bob")):
        path = tmp_path / user / "model.pkl"
        path.parent.mkdir()
        with open(path, "wb") as fp:
            pickle.dump(LogisticRegression(max_iter=500).fit(X, y), fp)
        model = ScikitLearnModel.create_model(str(path), n_input_columns=4, classes=3)
        model.set_title("Iris classifier").set_name("iris")
        described = _publish_and_check(client, model, tmp_path, user)
        assert described["servable"]["type"] == "Scikit-learn estimator"
        assert described["servable"]["methods"]["run"]["output"]["shape"] == [None, 3]


NET_SOURCE = """
import torch


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 3)

    def forward(self, x):
        return torch.nn.functional.log_softmax(self.layer(x), dim=1)
"""


@pytest.mark.slow
@pytest.mark.torch
def test_torch(alice: DLHubClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    TorchModel = _model_class("pytorch", "TorchModel")
    torch = pytest.importorskip("torch")

    folder = tmp_path / "torch"
    folder.mkdir()
    (folder / "tiny_net.py").write_text(NET_SOURCE)
    monkeypatch.syspath_prepend(str(folder))
    net = importlib.import_module("tiny_net").TinyNet()
    torch.save(net, folder / "model.pt")
    model = TorchModel.create_model(str(folder / "model.pt"), (None, 4), (None, 3))
    model.add_file(str(folder / "tiny_net.py"))
    model.set_title("Tiny net").set_name("tiny_net")
    described = _publish_and_check(alice, model, tmp_path, "alice")
    assert described["servable"]["type"] == "Torch Model"


@pytest.mark.slow
@pytest.mark.tensorflow
def test_keras(alice: DLHubClient, tmp_path: Path) -> None:
    KerasModel = _model_class("keras", "KerasModel")
    keras = pytest.importorskip("keras")

    X = np.linspace(-1, 1, 32).reshape(-1, 1).astype("float32")
    net = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(4, activation="relu", name="hidden"),
            keras.layers.Dense(1, name="output"),
        ]
    )
    net.compile(optimizer="rmsprop", loss="mse")
    net.fit(X, 2 * X, epochs=1, verbose=0)
    net.save(tmp_path / "model.keras")
    model = KerasModel.create_model(str(tmp_path / "model.keras"))
    model.set_title("Line").set_name("keras_line")
    described = _publish_and_check(alice, model, tmp_path, "alice")
    assert described["servable"]["type"] == "Keras Model"


@pytest.mark.slow
@pytest.mark.tensorflow
def test_tensorflow(alice: DLHubClient, tmp_path: Path) -> None:
    TensorFlowModel = _model_class("tensorflow", "TensorFlowModel")
    tf = pytest.importorskip("tensorflow")

    class AddOne(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 3), tf.float32)])
        def __call__(self, x: Any) -> Any:
            return x + 1

    module = AddOne()
    tf.saved_model.save(
        module, str(tmp_path / "export"), signatures={"serving_default": module.__call__}
    )
    model = TensorFlowModel.create_model(str(tmp_path / "export"))
    model.set_title("Add one").set_name("add_one")
    described = _publish_and_check(alice, model, tmp_path, "alice")
    assert described["servable"]["type"] == "TensorFlow Model"
    assert "variables/variables.index" in described["dlhub"]["file_hashes"]
