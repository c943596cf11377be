"""Keras models saved with ``model.save`` (``.keras`` or HDF5 ``.h5``).

The model is the document's ``model`` file; with an ``arch`` file (JSON or a
model file holding the architecture), ``model`` holds only the weights.
``servable.options.custom_objects`` maps layer names to ``"module.Class"`` paths,
imported from the servable's folder or its requirements.
"""

from __future__ import annotations

from typing import Any

from dlhub_runtime.shims.base import Shim, import_object, input_block, output_block

__all__ = ["KerasShim"]


def _keras() -> Any:
    try:
        import keras

        return keras
    except ImportError:  # older TensorFlow bundles its own
        from tensorflow import keras as bundled

        return bundled


class KerasShim(Shim):
    """Runs ``predict`` (or ``method_details.method_name``) of a Keras model."""

    def load(self) -> None:
        keras = _keras()
        custom = {
            name: import_object(path)
            for name, path in (self.options.get("custom_objects") or {}).items()
        }
        weights = self.file("model")
        files = (self.document.get("dlhub") or {}).get("files") or {}
        if isinstance(files.get("arch"), str):
            architecture = self.file("arch")
            if architecture.endswith(".json"):
                with open(architecture) as fp:
                    model = keras.models.model_from_json(fp.read(), custom_objects=custom)
            else:
                model = keras.models.load_model(architecture, custom_objects=custom, compile=False)
            model.load_weights(weights)
        else:
            # compile=False: predicting needs no optimizer or loss (nor their custom objects)
            model = keras.models.load_model(weights, custom_objects=custom, compile=False)
        self.model = model

    def run(self, method: str, inputs: Any, parameters: dict[str, Any]) -> Any:
        import numpy

        if input_block(self, method).get("type") in ("tuple", "list"):
            arrays: Any = [numpy.asarray(item) for item in inputs]
        else:
            arrays = numpy.asarray(inputs)
        method_name = self.details(method).get("method_name") or "predict"
        if method_name == "predict":
            parameters = {"verbose": 0, **parameters}  # no progress bar in the servable's output
        outputs = getattr(self.model, method_name)(arrays, **parameters)
        if isinstance(outputs, list) and output_block(self, method).get("type") == "tuple":
            return tuple(outputs)
        return outputs
