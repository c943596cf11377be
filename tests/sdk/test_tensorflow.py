"""Section 4.4 of the manual: TensorFlow SavedModels (TF2 and TF1), built here and described."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import BaseMetadataModel
from dlhub_sdk.models.servables.tensorflow import TensorFlowModel, tensorflow_distribution
from dlhub_sdk.utils import unserialize_object

pytestmark = [pytest.mark.slow, pytest.mark.tensorflow]

# fmt: off
MANUAL_TF2 = {
    "run": {
        "input": {
            "type": "ndarray", "description": "x:0", "shape": [None, 3],
            "item_type": {"type": "float"},
        },
        "output": {
            "type": "ndarray", "description": "Identity:0", "shape": [None, 3],
            "item_type": {"type": "float"},
        },
    }, "scalar_multiply": {
        "input": {
            "type": "tuple", "description": "Several tensors",
            "element_types": [{
                "type": "ndarray", "description": "x:0", "shape": [None, 3], "item_type": {"type": "float"}
            }, {
                "type": "ndarray", "description": "z:0", "shape": [], "item_type": {"type": "float"}
            }
            ]
        },
        "output": {
            "type": "ndarray", "description": "Identity:0", "shape": [None, 3],
            "item_type": {"type": "float"},
        },
    }
}

MANUAL_TF1 = {
  "methods": {
    "run": {
      "input": {
        "type": "ndarray", "description": "x", "shape": [None, 3]
      },
      "output": {
        "type": "ndarray", "description": "y", "shape": [None, 3]
      },
      "parameters": {},
      "method_details": {
        "input_nodes": ["Input:0"],
        "output_nodes": ["add:0"]
      }
    }
  }
}
# fmt: on

# Section 4.4.1's code; the only addition is the first line, which runs it on TensorFlow 2.
TF1_SCRIPT = """\
import tensorflow.compat.v1 as tf; tf.disable_v2_behavior()
# Create the graph
with tf.Session() as sess:
    x = tf.placeholder('float', shape=(None, 3), name='Input')
    y = x + 1

    # Prepare to save the function
    builder = tf.saved_model.builder.SavedModelBuilder('./export')

    # Make descriptions for the inputs and outputs
    x_desc = tf.saved_model.utils.build_tensor_info(x)
    y_desc = tf.saved_model.utils.build_tensor_info(y)

    # Create a function signature
    func_sig = tf.saved_model.signature_def_utils.build_signature_def(
        inputs={'x': x_desc},
        outputs={'y': y_desc},
        method_name='run'
    )

    # Add the session, graph, and function signature to the saved model
    builder.add_meta_graph_and_variables(
        sess, [tf.saved_model.tag_constants.SERVING],
        signature_def_map={
            tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
func_sig
        }
    )

# Write the files
builder.save()
"""


def _strip_items(block: dict[str, Any]) -> dict[str, Any]:
    """The block without item types (the manual's TF1 listing predates them)."""
    return {k: v for k, v in block.items() if k != "item_type"}


@pytest.fixture(scope="module")
def tf2_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manual's TF2 CustomModule, saved once for the module's tests that only read it."""
    folder = tmp_path_factory.mktemp("tf2")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        _save_manual_tf2_module()
    finally:
        os.chdir(cwd)
    return folder / "export"


# fmt: off
def _save_manual_tf2_module() -> None:
    """Section 4.4.2's code, as printed (inside a function)."""
    import tensorflow as tf

    class CustomModule(tf.Module):

        def __init__(self):
            super().__init__()
            self.m = tf.Variable([1.0, 1.0, 1.0], name='slope')

        @tf.function
        def __call__(self, x):
            y = self.m * x + 1
            return y

        @tf.function(input_signature=[tf.TensorSpec([], tf.float32),
                                      tf.TensorSpec((None, 3), tf.float32)])
        def scalar_multiply(self, z, x):
            return tf.multiply(z, x, name='scale_mult')

    module = CustomModule()

    # Make a concrete version of __call__
    call = module.__call__.get_concrete_function(tf.TensorSpec((None, 3)))

    tf.saved_model.save(
        module, "./export", signatures={
            tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY: call,
            'scalar_multiply': module.scalar_multiply
        }
    )
# fmt: on


def _published(model: TensorFlowModel) -> dict[str, Any]:
    return model.set_title("TF model").set_name("tf_model").to_dict(simplify_paths=True)


def test_manual_tf2_example(reference_validate) -> None:
    import tensorflow as tf

    _save_manual_tf2_module()  # writes ./export in the working folder

    metadata = TensorFlowModel.create_model("./export")

    doc = _published(metadata)
    methods = doc["servable"]["methods"]
    assert sorted(methods) == ["run", "scalar_multiply"]
    for name, expected in MANUAL_TF2.items():
        assert {k: methods[name][k] for k in ("input", "output")} == expected
        assert methods[name]["parameters"] == {}
    assert methods["run"]["method_details"] == {
        "signature": "serving_default",
        "input_names": ["x"],
        "output_names": ["output_0"],
    }
    assert methods["scalar_multiply"]["method_details"] == {
        "signature": "scalar_multiply",
        "input_names": ["x", "z"],
        "output_names": ["output_0"],
    }
    assert doc["servable"]["type"] == "TensorFlow Model"
    assert doc["servable"]["shim"] == "tensorflow.TensorFlowServable"
    assert doc["servable"]["options"] == {"saved_model_format": "tf2"}
    name, version = tensorflow_distribution()
    assert version == tf.__version__
    assert doc["dlhub"]["dependencies"] == {"python": {name: version}}
    files = doc["dlhub"]["files"]
    assert files["model"] == "saved_model.pb"
    assert {"saved_model.pb", "variables/variables.index", "fingerprint.pb"} <= set(files["other"])
    assert any(f.startswith("variables/variables.data") for f in files["other"])
    reference_validate(doc)

    # fmt: off
    metadata['servable']['methods']['run']['output']['description'] = 'Response'
    # fmt: on
    assert _published(metadata)["servable"]["methods"]["run"]["output"]["description"] == "Response"


def test_signatures_run_as_the_method_details_say(tf2_export: Path) -> None:
    import tensorflow as tf

    model = TensorFlowModel.create_model(str(tf2_export))
    loaded = tf.saved_model.load(str(tf2_export))
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    inputs = {"run": (x,), "scalar_multiply": (x, np.float32(2.0))}  # members in the tuple's order
    expected = {"run": x + 1, "scalar_multiply": 2 * x}
    for method, args in inputs.items():
        details = model.method(method).method_details
        function = loaded.signatures[details["signature"]]
        result = function(**dict(zip(details["input_names"], args)))
        np.testing.assert_allclose(result[details["output_names"][0]].numpy(), expected[method])


def test_round_trip(tf2_export: Path) -> None:
    model = TensorFlowModel.create_model(str(tf2_export))
    doc = model.set_title("TF model").set_name("tf_model").to_dict()
    again = BaseMetadataModel.from_dict(json.loads(json.dumps(doc)))
    assert isinstance(again, TensorFlowModel)
    assert again == model
    assert unserialize_object(doc) == model


def test_manual_tf1_example(reference_validate) -> None:
    # disable_v2_behavior changes the whole process, so TF1 code runs in its own
    Path("make_export.py").write_text(TF1_SCRIPT)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "make_export.py"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]

    metadata = TensorFlowModel.create_model("./export")

    doc = _published(metadata)
    run = doc["servable"]["methods"]["run"]
    expected = MANUAL_TF1["methods"]["run"]
    assert {k: run[k] for k in ("parameters", "method_details")} == {
        k: expected[k] for k in ("parameters", "method_details")
    }
    assert _strip_items(run["input"]) == expected["input"]
    assert _strip_items(run["output"]) == expected["output"]
    assert run["input"]["item_type"] == {"type": "float"}
    assert list(doc["servable"]["methods"]) == ["run"]
    assert doc["servable"]["options"] == {"saved_model_format": "tf1"}
    assert doc["dlhub"]["files"] == {"model": "saved_model.pb", "other": ["saved_model.pb"]}
    reference_validate(doc)


def test_several_outputs_and_keras_export(tmp_path: Path) -> None:
    import keras
    import tensorflow as tf

    class TwoOutputs(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 2), tf.int32, name="counts")])
        def __call__(self, counts):
            return {
                "total": tf.reduce_sum(counts, axis=1),
                "any": tf.reduce_any(counts > 0, axis=1),
            }

    two = TwoOutputs()
    tf.saved_model.save(two, "two", signatures={"serving_default": two.__call__})
    run = TensorFlowModel.create_model("two").method("run")
    assert run.output is not None and run.output.type == "tuple"
    assert run.output.description == "Several tensors"
    members = [e.to_dict() for e in run.output.element_types or []]
    assert [m["item_type"] for m in members] == [{"type": "boolean"}, {"type": "integer"}]
    assert run.method_details["output_names"] == ["any", "total"]
    assert run.input is not None and run.input.to_dict() == {
        "type": "ndarray", "description": "counts:0", "shape": [None, 2], "item_type": {"type": "integer"}
    }  # fmt: skip

    # A Keras model exported as a SavedModel is served by this class, as the manual says
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
    net.export(str(tmp_path / "keras-export"), verbose=False)
    model = TensorFlowModel.create_model(str(tmp_path / "keras-export"))
    run = model.method("run")
    assert run.input is not None and run.input.shape == [None, 4]
    assert run.output is not None and run.output.shape == [None, 3]


def test_missing_directory_and_bad_models(tmp_path: Path) -> None:
    import tensorflow as tf

    with pytest.raises(FileNotFoundError, match="nothere"):
        TensorFlowModel.create_model("nothere")
    Path("empty").mkdir()
    with pytest.raises(InvalidMetadata, match="no saved_model.pb"):
        TensorFlowModel.create_model("empty")
    Path("broken").mkdir()
    Path("broken/saved_model.pb").write_text("not a protocol buffer at all")
    with pytest.raises(InvalidMetadata, match="not a TensorFlow SavedModel"):
        TensorFlowModel.create_model("broken")

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None,), tf.float32)])
        def double(self, x):
            return 2 * x

    module = Doubler()
    tf.saved_model.save(module, "nodefault", signatures={"double": module.double})
    with pytest.raises(InvalidMetadata, match="no default signature"):
        TensorFlowModel.create_model("nodefault")
