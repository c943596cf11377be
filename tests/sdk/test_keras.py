"""Section 4.2 of the manual: Keras models trained here, described by reading their files."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import BaseMetadataModel
from dlhub_sdk.models.servables.keras import KerasModel
from dlhub_sdk.models.servables.tensorflow import tensorflow_distribution
from dlhub_sdk.utils import unserialize_object

pytestmark = [pytest.mark.slow, pytest.mark.tensorflow]

# fmt: off
MANUAL_JSON = {
  "methods": {
    "run": {
      "input": {
        "type": "ndarray", "description": "Tensor", "shape": [None, 1]
      },
      "output": {
        "type": "ndarray", "description": "Tensor", "shape": [None, 1]
      },
      "parameters": {},
        "method_details": {
            "method_name": "predict"
        }
    }
}
}
# fmt: on


def line_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy points on a line: one feature in, one response out."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 1))
    return X, 2 * X + 0.5 + 0.05 * rng.standard_normal((n, 1))


@pytest.fixture(scope="module")
def multi_io(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A two-input, two-output network trained for a few epochs, saved as .keras and as arch + weights."""
    import keras

    folder = tmp_path_factory.mktemp("keras")
    rng = np.random.default_rng(1)
    records = rng.standard_normal((64, 3)).astype("float32")
    images = rng.standard_normal((64, 2, 4)).astype("float32")
    features = keras.layers.Concatenate()([a := keras.Input((3,), name="records"),
                                           keras.layers.Flatten()(b := keras.Input((2, 4), name="images"))])  # fmt: skip
    net = keras.Model(
        [a, b],
        [
            keras.layers.Dense(2, name="scores")(features),
            keras.layers.Dense(5, name="extra")(features),
        ],
    )
    net.compile(optimizer="adam", loss="mse")
    net.fit([records, images], [records[:, :2], np.zeros((64, 5))], epochs=2, verbose=0)
    net.save(folder / "net.keras")
    net.save_weights(folder / "net.weights.h5")
    (folder / "net.json").write_text(net.to_json())
    return {
        "net": net,
        "inputs": [records[:4], images[:4]],
        "keras": str(folder / "net.keras"),
        "weights": str(folder / "net.weights.h5"),
        "arch": str(folder / "net.json"),
    }


def _published(model: KerasModel) -> dict[str, Any]:
    return model.set_title("Keras net").set_name("keras_net").to_dict()


def _framework_requirements(*extra: str) -> dict[str, str]:
    import keras

    expected = {"keras": keras.__version__}
    expected.update([tensorflow_distribution()])
    for name in extra:
        expected[name] = importlib.metadata.version(name)
    return expected


def test_manual_example(reference_validate) -> None:
    from keras import Sequential
    from keras.layers import Dense

    X, y = line_data()

    # fmt: off
    model = Sequential()
    model.add(Dense(16, input_shape=(1,), activation='relu', name='hidden'))
    model.add(Dense(1, name='output'))
    model.compile(optimizer='rmsprop', loss='mse')
    model.fit(X, y)
    model.save('model.h5')

    model_info = KerasModel.create_model('model.h5')
    # fmt: on

    doc = _published(model_info)
    assert doc["servable"]["methods"] == MANUAL_JSON["methods"]
    assert doc["servable"]["type"] == "Keras Model"
    assert doc["servable"]["shim"] == "keras.KerasServable"
    assert doc["servable"]["model_type"] == "Deep NN"
    assert "hidden" in doc["servable"]["model_summary"]
    assert doc["servable"]["options"] == {"backend": "tensorflow"}
    assert doc["dlhub"]["files"] == {"model": "model.h5"}
    assert doc["dlhub"]["dependencies"] == {"python": _framework_requirements("h5py")}
    reference_validate(doc)

    # fmt: off
    model_info['servable']['methods']['run']['output']['description'] = 'Response'
    # fmt: on

    assert (
        _published(model_info)["servable"]["methods"]["run"]["output"]["description"] == "Response"
    )

    Path("arch.json").write_text(model.to_json())

    # fmt: off
    model_info = KerasModel.create_model('model.h5', arch_path='arch.json')
    # fmt: on

    doc = _published(model_info)
    assert doc["servable"]["methods"] == MANUAL_JSON["methods"]
    assert doc["dlhub"]["files"] == {"model": "model.h5", "arch": "arch.json"}
    reference_validate(doc)


def test_manual_custom_layer(reference_validate) -> None:
    import keras
    from keras.models import load_model
    from keras_layers import CustomLayer

    net = keras.Sequential([keras.Input((2,)), CustomLayer(), keras.layers.Dense(1)])
    net.save("model.h5")
    with pytest.raises(InvalidMetadata, match=r"custom_objects=\{'Name': Class\}"):
        KerasModel.create_model("model.h5")

    # fmt: off
    model = load_model('model.h5', custom_objects={'CustomLayer': CustomLayer})
    model_info = KerasModel.create_model("model.h5", custom_objects={"CustomLayer": CustomLayer})
    model_info.add_custom_object('CustomLayer', CustomLayer)
    # fmt: on

    options = model_info.servable.options or {}
    assert options["custom_objects"] == {"CustomLayer": "keras_layers.CustomLayer"}
    assert model_info.method("run").input is not None
    assert model_info.method("run").input.shape == [None, 2]
    assert isinstance(model.layers[0], CustomLayer)
    reference_validate(_published(model_info))


def test_several_inputs_and_outputs(multi_io: dict[str, Any], reference_validate) -> None:
    import keras

    model = KerasModel.create_model(
        multi_io["keras"], output_names=[["a", "b"], ["c", "d", "e", "f", "g"]]
    )
    doc = _published(model)
    run = doc["servable"]["methods"]["run"]

    def tensor(*shape: int | None) -> dict[str, Any]:
        return {"type": "ndarray", "description": "Tensor", "shape": list(shape)}

    assert run["input"] == {
        "type": "tuple",
        "description": "Tuple of tensors",
        "element_types": [tensor(None, 3), tensor(None, 2, 4)],
    }
    assert run["output"] == {
        "type": "tuple",
        "description": "Tuple of tensors",
        "element_types": [tensor(None, 2), tensor(None, 5)],
    }
    assert run["method_details"] == {
        "method_name": "predict",
        "classes": [["a", "b"], ["c", "d", "e", "f", "g"]],
    }
    assert doc["dlhub"]["dependencies"] == {"python": _framework_requirements()}
    reference_validate(doc)

    # What a runtime does with the description: load the named file and predict
    loaded = keras.models.load_model(model.dlhub.files["model"], compile=False)
    for got, want in zip(
        loaded.predict(multi_io["inputs"], verbose=0),
        multi_io["net"].predict(multi_io["inputs"], verbose=0),
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_architecture_and_weights_files(multi_io: dict[str, Any]) -> None:
    model = KerasModel.create_model(multi_io["weights"], arch_path=multi_io["arch"])
    assert model.dlhub.files == {"model": multi_io["weights"], "arch": multi_io["arch"]}
    assert model.method("run").output is not None
    assert model.method("run").output.type == "tuple"
    assert "h5py" in model.requirements

    from_model_file = KerasModel.create_model(multi_io["weights"], arch_path=multi_io["keras"])
    assert from_model_file.method("run") == model.method("run")


def test_round_trip(multi_io: dict[str, Any]) -> None:
    from keras_layers import CustomLayer

    model = KerasModel.create_model(multi_io["keras"]).add_custom_object("CustomLayer", CustomLayer)
    doc = _published(model)
    again = BaseMetadataModel.from_dict(json.loads(json.dumps(doc)))
    assert isinstance(again, KerasModel)
    assert again == model
    assert unserialize_object(doc) == model


def test_force_tf_keras(multi_io: dict[str, Any]) -> None:
    model = KerasModel.create_model(multi_io["keras"], force_tf_keras=True)
    assert model.servable.options == {"backend": "tensorflow", "force_tf_keras": True}
    assert model.method("run").input is not None


def test_format_layer_spec() -> None:
    model = KerasModel()
    assert model.format_layer_spec((None, 28, 28)).to_dict() == {
        "type": "ndarray",
        "description": "Tensor",
        "shape": [None, 28, 28],
    }
    nested = model.format_layer_spec([(None, 1), (None, 2)])
    assert nested.type == "tuple"
    assert [e.shape for e in nested.element_types or []] == [[None, 1], [None, 2]]
    with pytest.raises(InvalidMetadata, match="layer shape"):
        model.format_layer_spec("(None, 1)")


class _Local:
    pass


def test_missing_files_and_bad_arguments(multi_io: dict[str, Any], tmp_path: Path) -> None:
    keras_file = multi_io["keras"]
    with pytest.raises(FileNotFoundError, match="nothere.h5"):
        KerasModel.create_model("nothere.h5")
    with pytest.raises(FileNotFoundError, match="architecture file not found"):
        KerasModel.create_model(multi_io["weights"], arch_path="nothere.json")
    with pytest.raises(InvalidMetadata, match="TensorFlowModel"):
        KerasModel.create_model(str(tmp_path))
    Path("arch.yaml").write_text("class_name: Sequential\n")
    with pytest.raises(InvalidMetadata, match="YAML"):
        KerasModel.create_model(multi_io["weights"], arch_path="arch.yaml")
    Path("arch.txt").write_text("?")
    with pytest.raises(InvalidMetadata, match="unknown architecture file type"):
        KerasModel.create_model(multi_io["weights"], arch_path="arch.txt")
    Path("weights.bin").write_bytes(b"\0" * 8)
    with pytest.raises(InvalidMetadata, match="not a Keras model file"):
        KerasModel.create_model("weights.bin")
    Path("broken.h5").write_text("not HDF5")
    with pytest.raises(InvalidMetadata, match="Keras cannot load 'broken.h5'"):
        KerasModel.create_model("broken.h5")
    with pytest.raises(InvalidMetadata, match="custom_objects must be a dict"):
        KerasModel.create_model(keras_file, custom_objects=["CustomLayer"])  # type: ignore[arg-type]
    with pytest.raises(InvalidMetadata, match="output_names"):
        KerasModel.create_model(keras_file, output_names="abc")

    model = KerasModel.create_model(keras_file)
    with pytest.raises(InvalidMetadata, match="must be a class"):
        model.add_custom_object("CustomLayer", 3)
    with pytest.raises(InvalidMetadata, match="non-empty string"):
        model.add_custom_object("", _Local)

    class InFunction:
        pass

    with pytest.raises(InvalidMetadata, match="defined in a function"):
        model.add_custom_object("InFunction", InFunction)
    main_class = type("Scale", (), {"__module__": "__main__"})
    with pytest.raises(InvalidMetadata, match="running script"):
        model.add_custom_object("Scale", main_class)
    assert "custom_objects" not in (model.servable.options or {})
