"""Keras, PyTorch and TensorFlow shims, each against a model the test builds and the in-process call."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlhub_runtime import load_servable

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("clean_imports")]

RNG = np.random.default_rng(42)


def _import_from(folder: Path, name: str, source: str) -> Any:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


def _forget(name: str) -> None:
    """Drop a module so the shim has to import it from the servable's folder, as a fresh worker does."""
    sys.modules.pop(name, None)


# ------------------------------------------------------------------------ keras

CUSTOM_LAYER = """
import keras

class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
"""


@pytest.mark.tensorflow
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras_model_with_custom_layer(tmp_path: Path, make_document: Any, suffix: str) -> None:
    keras = pytest.importorskip("keras")
    folder = tmp_path / "servable"
    layers = _import_from(folder, "custom_layers", CUSTOM_LAYER)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="relu"),
            layers.Scale(3.0),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="rmsprop", loss="mse")
    model.save(folder / f"model{suffix}")
    x = RNG.random((5, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    _forget("custom_layers")

    document = make_document(
        "keras.KerasServable",
        {
            "run": {
                "input": {"type": "ndarray", "shape": [None, 3]},
                "method_details": {"method_name": "predict"},
            }
        },
        files={"model": f"model{suffix}", "other": ["custom_layers.py"]},
        options={"custom_objects": {"Scale": "custom_layers.Scale"}},
    )
    servable = load_servable(document, folder)
    np.testing.assert_allclose(servable.call("run", x), expected, rtol=1e-6)
    np.testing.assert_allclose(servable.call("run", x.tolist()), expected, rtol=1e-6)


# ------------------------------------------------------------------------ torch

NET = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 3)
        self.linear = torch.nn.Linear(3, 2)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, tokens, weights):
        return self.dropout(self.linear(self.embed(tokens))) * weights.unsqueeze(-1)
"""


@pytest.mark.torch
def test_torch_whole_model_with_two_typed_inputs(tmp_path: Path, sdk_document: Any) -> None:
    torch = pytest.importorskip("torch")
    from dlhub_sdk.models.servables.pytorch import TorchModel

    folder = tmp_path / "servable"
    net_module = _import_from(folder, "Net", NET)
    torch.manual_seed(0)
    net = net_module.Net().eval()
    torch.save(net, folder / "model.pt")
    tokens = np.array([[1, 2], [3, 9]])
    weights = np.array([[0.5, 1.0], [2.0, 0.0]])  # float64 in, float32 inside
    with torch.no_grad():
        expected = net(
            torch.as_tensor(tokens), torch.as_tensor(weights, dtype=torch.float32)
        ).numpy()

    model = TorchModel.create_model(
        str(folder / "model.pt"),
        [(None, 2), (None, 2)],
        (None, 2, 2),
        input_type=["integer", "float"],
    )
    model.add_file(str(folder / "Net.py"))
    document = sdk_document(model)
    _forget("Net")

    servable = load_servable(document, folder)
    output = servable.call("run", (tokens, weights))
    assert isinstance(output, np.ndarray)
    np.testing.assert_array_equal(output, expected)  # eval mode: dropout is off


@pytest.mark.torch
# TorchScript is deprecated in recent torch, but published models still use it
@pytest.mark.filterwarnings("ignore:`torch.jit.*:DeprecationWarning")
def test_torchscript_model(tmp_path: Path, sdk_document: Any) -> None:
    torch = pytest.importorskip("torch")
    from dlhub_sdk.models.servables.pytorch import TorchModel

    torch.manual_seed(1)
    linear = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh()).eval()
    scripted = torch.jit.trace(linear, torch.zeros(1, 4))
    path = tmp_path / "scripted.pt"
    torch.jit.save(scripted, str(path))
    x = RNG.random((6, 4))
    with torch.no_grad():
        expected = linear(torch.as_tensor(x, dtype=torch.float32)).numpy()

    document = sdk_document(TorchModel.create_model(str(path), (None, 4), (None, 3)))
    servable = load_servable(document, tmp_path)
    np.testing.assert_allclose(servable.call("run", x), expected, rtol=1e-6)


@pytest.mark.torch
def test_torch_state_dict_is_refused_clearly(tmp_path: Path, make_document: Any) -> None:
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "weights.pt")
    document = make_document(
        "torch.TorchServable",
        {
            "run": {
                "input": {"type": "ndarray", "shape": [None, 2]},
                "method_details": {"method_name": "__call__"},
            }
        },
        files={"model": "weights.pt"},
    )
    with pytest.raises(TypeError, match="state_dict"):
        load_servable(document, tmp_path)


# ------------------------------------------------------------------- tensorflow


@pytest.mark.tensorflow
def test_tensorflow_signatures_are_methods(tmp_path: Path, sdk_document: Any) -> None:
    tf = pytest.importorskip("tensorflow")
    from dlhub_sdk.models.servables.tensorflow import TensorFlowModel

    class CustomModule(tf.Module):  # the manual's TF2 example
        def __init__(self) -> None:
            super().__init__()
            self.m = tf.Variable([1.0, 2.0, 3.0], name="slope")

        @tf.function
        def __call__(self, x: Any) -> Any:
            return self.m * x + 1

        @tf.function(
            input_signature=[tf.TensorSpec([], tf.float32), tf.TensorSpec((None, 3), tf.float32)]
        )
        def scalar_multiply(self, z: Any, x: Any) -> Any:
            return tf.multiply(z, x, name="scale_mult")

    module = CustomModule()
    call = module.__call__.get_concrete_function(tf.TensorSpec((None, 3)))
    export = tmp_path / "export"
    tf.saved_model.save(
        module,
        str(export),
        signatures={
            tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY: call,
            "scalar_multiply": module.scalar_multiply,
        },
    )
    x = RNG.random((4, 3))
    document = sdk_document(TensorFlowModel.create_model(str(export)))
    servable = load_servable(document, tmp_path)

    np.testing.assert_allclose(servable.call("run", x), module(tf.constant(x, tf.float32)).numpy())
    multiplied = servable.call("scalar_multiply", (x, 2.0))  # tuple in the documented order: x, z
    np.testing.assert_allclose(
        multiplied, module.scalar_multiply(tf.constant(2.0), tf.constant(x, tf.float32)).numpy()
    )
    with pytest.raises(ValueError, match="takes 2 inputs"):
        servable.call("scalar_multiply", x)


@pytest.mark.tensorflow
def test_tensorflow_tf1_saved_model(tmp_path: Path, sdk_document: Any) -> None:
    tf = pytest.importorskip("tensorflow")
    from dlhub_sdk.models.servables.tensorflow import TensorFlowModel

    v1 = tf.compat.v1
    export = tmp_path / "export"
    with (
        tf.Graph().as_default() as graph,
        v1.Session(graph=graph) as session,
    ):  # the manual's TF1 example
        x = v1.placeholder("float", shape=(None, 3), name="Input")
        y = x + 1
        builder = v1.saved_model.builder.SavedModelBuilder(str(export))
        signature = v1.saved_model.signature_def_utils.build_signature_def(
            inputs={"x": v1.saved_model.utils.build_tensor_info(x)},
            outputs={"y": v1.saved_model.utils.build_tensor_info(y)},
            method_name="run",
        )
        builder.add_meta_graph_and_variables(
            session,
            [v1.saved_model.tag_constants.SERVING],
            signature_def_map={
                v1.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature
            },
        )
        builder.save()
    values = RNG.random((2, 3))
    servable = load_servable(sdk_document(TensorFlowModel.create_model(str(export))), tmp_path)
    np.testing.assert_allclose(servable.call("run", values), values + 1, rtol=1e-6)
