"""Section 4.3 of the manual: PyTorch models saved whole and as TorchScript, built and trained here."""

from __future__ import annotations

import json
import shutil
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import BaseMetadataModel
from dlhub_sdk.models.servables.pytorch import TorchModel, is_torchscript_file
from dlhub_sdk.utils import unserialize_object

pytestmark = [pytest.mark.slow, pytest.mark.torch]

# Net.py sits beside this file (tests/sdk is on sys.path); torch is imported by
# the tests that use it, so collecting the suite stays fast.
NET_FILE = Path(__file__).with_name("Net.py")


def iris_like(n_per_class: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs of four measurements each, like the iris data set."""
    rng = np.random.default_rng(seed)
    centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    X = np.concatenate([c + 0.3 * rng.standard_normal((n_per_class, 4)) for c in centres])
    return X.astype(np.float32), np.repeat(np.arange(3), n_per_class)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small net trained for a few epochs, saved whole and as TorchScript; a two-input net."""
    import torch
    from Net import IrisNet, TwoInputNet

    folder = tmp_path_factory.mktemp("torch")
    torch.manual_seed(0)
    X, y = iris_like()
    features, labels = torch.from_numpy(X), torch.from_numpy(y)
    net = IrisNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(20):
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(net(features), labels)
        loss.backward()
        optimizer.step()
    net.eval()

    torch.save(net, folder / "iris.pt")
    with warnings.catch_warnings():
        # TorchScript is deprecated in favour of torch.export; its files are still served
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(net), folder / "iris-script.pt")
    torch.save(net.state_dict(), folder / "iris-weights.pt")
    torch.save(TwoInputNet(), folder / "two.pt")
    return {
        "net": net,
        "X": features,
        "whole": str(folder / "iris.pt"),
        "script": str(folder / "iris-script.pt"),
        "state_dict": str(folder / "iris-weights.pt"),
        "two": str(folder / "two.pt"),
    }


def _published(model: TorchModel) -> dict[str, Any]:
    return model.set_title("Torch net").set_name("torch_net").to_dict()


def test_manual_example(reference_validate) -> None:
    import torch
    from Net import Net

    shutil.copy(NET_FILE, "Net.py")

    model = Net()
    # fmt: off
    torch.save(model, 'model.pt')
    # fmt: on

    # fmt: off
    model_info = TorchModel.create_model('model.pt', (None, 1, 28, 28), (None, 10))
    # fmt: on

    # fmt: off
    model_info.add_file('Net.py')
    # fmt: on

    before = _published(model_info)["servable"]["methods"]["run"]
    assert before == {
        "input": {
            "type": "ndarray",
            "description": "Tensor",
            "shape": [None, 1, 28, 28],
            "item_type": {"type": "float"},
        },
        "output": {
            "type": "ndarray",
            "description": "Tensor",
            "shape": [None, 10],
            "item_type": {"type": "float"},
        },
        "parameters": {},
        "method_details": {"method_name": "__call__"},
    }

    # fmt: off
    model_info['servable']['methods']['run']['output']['description'] = 'Response'
    # fmt: on

    doc = _published(model_info)
    assert doc["servable"]["methods"]["run"]["output"]["description"] == "Response"
    assert doc["servable"]["type"] == "Torch Model"
    assert doc["servable"]["shim"] == "torch.TorchServable"
    assert doc["servable"]["model_type"] == "Deep NN"
    assert doc["servable"]["model_summary"] == str(model)
    assert doc["servable"]["options"] == {"torchscript": False}
    assert doc["dlhub"]["files"] == {"model": "model.pt", "other": ["Net.py"]}
    assert doc["dlhub"]["dependencies"] == {
        "python": {"torch": str(torch.__version__), "numpy": np.__version__}
    }
    reference_validate(doc)


def test_round_trip(trained: dict[str, Any]) -> None:
    model = TorchModel.create_model(trained["whole"], (None, 4), (None, 3))
    doc = _published(model)
    again = BaseMetadataModel.from_dict(json.loads(json.dumps(doc)))
    assert isinstance(again, TorchModel)
    assert again == model
    assert unserialize_object(doc) == model


@pytest.mark.parametrize("kind", ["whole", "script"])
def test_saved_model_loads_as_the_options_say(trained: dict[str, Any], kind: str) -> None:
    import torch

    model = TorchModel.create_model(trained[kind], (None, 4), (None, 3))
    assert model.servable.options == {"torchscript": kind == "script"}
    assert is_torchscript_file(trained[kind]) is (kind == "script")

    # What a runtime does with the description: load the named file, call the model
    path = model.dlhub.files["model"]
    assert isinstance(path, str)
    if model.servable.options["torchscript"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load is deprecated
            loaded = torch.jit.load(path)
    else:
        loaded = torch.load(path, weights_only=False)
    with torch.no_grad():
        expected = trained["net"](trained["X"])
        assert torch.allclose(loaded(trained["X"]), expected)
    # the trained net classifies the blobs (the training ran)
    assert (expected.argmax(dim=1).numpy() == np.repeat(np.arange(3), 30)).mean() > 0.8


def test_several_inputs_and_dtypes(trained: dict[str, Any], reference_validate) -> None:
    import torch

    model = TorchModel.create_model(
        trained["two"],
        [(None, 4), (None,)],
        [(None, 2), (None,)],
        input_type=["float", torch.int64],
        output_type="float32",
    )
    doc = _published(model)
    run = doc["servable"]["methods"]["run"]
    assert run["input"] == {
        "type": "tuple",
        "description": "Tuple of tensors",
        "element_types": [
            {
                "type": "ndarray",
                "description": "Tensor",
                "shape": [None, 4],
                "item_type": {"type": "float"},
            },
            {
                "type": "ndarray",
                "description": "Tensor",
                "shape": [None],
                "item_type": {"type": "integer"},
            },
        ],
    }
    assert [e["item_type"]["type"] for e in run["output"]["element_types"]] == ["float", "float"]
    assert "TwoInputNet" in doc["servable"]["model_summary"]
    reference_validate(doc)

    with torch.no_grad():
        scores, sums = torch.load(trained["two"], weights_only=False)(
            torch.zeros(2, 4), torch.tensor([0, 2])
        )
    assert tuple(scores.shape) == (2, 2) and tuple(sums.shape) == (2,)


def test_format_layer_spec() -> None:
    import torch

    model = TorchModel()
    assert model.format_layer_spec((None, 3), "integer") == {
        "type": "ndarray",
        "description": "Tensor",
        "shape": [None, 3],
        "item_type": {"type": "integer"},
    }
    assert model.format_layer_spec([None, 3], torch.bool)["item_type"] == {"type": "boolean"}
    pair = model.format_layer_spec([(1,), (2, 2)], ["float", "complex"])
    assert pair["type"] == "tuple"
    assert [e["shape"] for e in pair["element_types"]] == [[1], [2, 2]]
    assert [e["item_type"]["type"] for e in pair["element_types"]] == ["float", "complex"]


def test_missing_file_and_bad_arguments(trained: dict[str, Any]) -> None:
    path = trained["whole"]
    with pytest.raises(FileNotFoundError, match="nothere.pt"):
        TorchModel.create_model("nothere.pt", (None, 4), (None, 3))
    with pytest.raises(InvalidMetadata, match="is not a shape"):
        TorchModel.create_model(path, [(None, 4), "x"], (None, 3))
    with pytest.raises(InvalidMetadata, match="a shape is a tuple"):
        TorchModel.create_model(path, "(None, 4)", (None, 3))  # type: ignore[arg-type]
    with pytest.raises(InvalidMetadata, match="is not a shape"):
        TorchModel.create_model(path, [(None, 0)], (None, 3))
    with pytest.raises(InvalidMetadata, match="2 layers but 3 data types"):
        TorchModel.create_model(path, [(None, 4), (None,)], (None, 3), input_type=["float"] * 3)
    with pytest.raises(InvalidMetadata, match="one layer needs one data type"):
        TorchModel.create_model(path, (None, 4), (None, 3), input_type=["float", "float"])
    with pytest.raises(InvalidMetadata, match="unknown data type 'quaternion'"):
        TorchModel.create_model(path, (None, 4), (None, 3), input_type="quaternion")
    with pytest.raises(InvalidMetadata, match="state_dict"):
        TorchModel.create_model(trained["state_dict"], (None, 4), (None, 3))
    Path("notes.pt").write_text("not a model")
    with pytest.raises(InvalidMetadata, match="cannot read 'notes.pt'"):
        TorchModel.create_model("notes.pt", (None, 4), (None, 3))


def _identity_class(module: str) -> type:
    """A model class that claims to live in ``module``."""
    import torch

    return type("Model", (torch.nn.Module,), {"forward": lambda self, x: x, "__module__": module})


def test_class_defined_in_main_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    # A script that defines its model class and saves the model pickles "__main__.Model"
    model_class = _identity_class("__main__")
    monkeypatch.setattr(sys.modules["__main__"], "Model", model_class, raising=False)
    torch.save(model_class(), "main.pt")
    with pytest.raises(InvalidMetadata, match="Move the class to a module"):
        TorchModel.create_model("main.pt", (None, 4), (None, 4))


def test_class_that_cannot_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    module = types.ModuleType("vanished_models")
    model_class = _identity_class("vanished_models")
    module.Model = model_class  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vanished_models", module)
    torch.save(model_class(), "gone.pt")
    monkeypatch.delitem(sys.modules, "vanished_models")
    with pytest.raises(InvalidMetadata, match="not importable"):
        TorchModel.create_model("gone.pt", (None, 4), (None, 4))
