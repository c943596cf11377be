"""TensorFlow SavedModels: each method of the servable is a signature of the model.

The export folder is the document's ``model`` entry when it names the folder (or
its ``saved_model.pb``), else the folder of the listed ``saved_model.pb``. The
method ``run`` calls the default serving signature (``serving_default``); any
other method calls the signature of the same name, unless ``method_details.
signature`` names another. Input and output names and dtypes are read from the
signature itself: a single input takes the value, several take a tuple in the
order of ``method_details.input_names`` (default: sorted names, as the SDK writes
the tuple). Several outputs come back as a tuple (or list or dict, as the
document's output type says) in the order of ``output_names`` or sorted names.
"""

from __future__ import annotations

import os
from typing import Any

from dlhub_runtime.shims.base import Shim, output_block

__all__ = ["TensorFlowShim"]

DEFAULT_SIGNATURE = "serving_default"
_PB = "saved_model.pb"


class TensorFlowShim(Shim):
    """Runs the signatures of a SavedModel loaded with ``tf.saved_model.load``."""

    def load(self) -> None:
        import tensorflow as tf

        self.model = tf.saved_model.load(self._export_folder())
        available = sorted(self.model.signatures.keys())
        self.signatures: dict[str, Any] = {}
        for name in self.methods:
            key = self.details(name).get("signature") or (
                DEFAULT_SIGNATURE if name == "run" else name
            )
            if key not in available:
                raise KeyError(
                    f"the SavedModel has no signature {key!r} for method {name!r}; "
                    f"it has: {', '.join(available)}"
                )
            self.signatures[name] = self.model.signatures[key]

    def _export_folder(self) -> str:
        files = (self.document.get("dlhub") or {}).get("files") or {}
        named = files.get("model")
        if isinstance(named, str):
            path = self.resolve(named)
            return path if os.path.isdir(path) else os.path.dirname(path)
        for path in self.listed_files():
            if os.path.basename(path) == _PB:
                return os.path.dirname(path)
        if os.path.isfile(os.path.join(self.folder, _PB)):
            return self.folder
        raise FileNotFoundError(f"no {_PB} among the servable's files")

    def run(self, method: str, inputs: Any, parameters: dict[str, Any]) -> Any:
        import numpy
        import tensorflow as tf

        if parameters:
            raise TypeError(
                f"TensorFlow signatures take no parameters, got {', '.join(sorted(parameters))}"
            )
        signature = self.signatures[method]
        details = self.details(method)
        specs = signature.structured_input_signature[1]
        names = list(details.get("input_names") or sorted(specs))
        if len(names) == 1:
            values = [inputs]
        else:
            if not isinstance(inputs, (list, tuple)) or len(inputs) != len(names):
                raise ValueError(
                    f"method {method!r} takes {len(names)} inputs ({', '.join(names)}) as a tuple"
                )
            values = list(inputs)
        feed = {
            name: tf.convert_to_tensor(numpy.asarray(value), dtype=specs[name].dtype)
            for name, value in zip(names, values)
        }
        outputs = {key: tensor.numpy() for key, tensor in signature(**feed).items()}
        if len(outputs) == 1:
            return next(iter(outputs.values()))
        order = list(details.get("output_names") or sorted(outputs))
        kind = output_block(self, method).get("type")
        if kind == "tuple":
            return tuple(outputs[key] for key in order)
        if kind == "list":
            return [outputs[key] for key in order]
        return {key: outputs[key] for key in order}
