"""One shim per servable type: load a servable once from its document and files, then run it.

The document's ``servable.shim`` picks the shim (the original DLHub names, e.g.
``"sklearn.ScikitLearnServable"``); each imports its framework only when loaded.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from dlhub_runtime.shims.base import Shim

__all__ = ["SHIMS", "Shim", "load_servable", "shim_class"]

#: ``servable.shim`` of a document -> ``module:class`` of the shim that runs it.
SHIMS: dict[str, str] = {
    "python.PythonStaticMethodServable": "dlhub_runtime.shims.python:PythonStaticMethodShim",
    "python.PythonClassMethodServable": "dlhub_runtime.shims.python:PythonClassMethodShim",
    "sklearn.ScikitLearnServable": "dlhub_runtime.shims.sklearn:ScikitLearnShim",
    "keras.KerasServable": "dlhub_runtime.shims.keras:KerasShim",
    "torch.TorchServable": "dlhub_runtime.shims.torch:TorchShim",
    "tensorflow.TensorFlowServable": "dlhub_runtime.shims.tensorflow:TensorFlowShim",
}

# documents that name only the type still find their shim
_BY_TYPE = {
    "Python static method": "python.PythonStaticMethodServable",
    "Python class method": "python.PythonClassMethodServable",
    "Scikit-learn estimator": "sklearn.ScikitLearnServable",
    "Keras Model": "keras.KerasServable",
    "Torch Model": "torch.TorchServable",
    "TensorFlow Model": "tensorflow.TensorFlowServable",
}


def shim_class(document: dict[str, Any]) -> type[Shim]:
    """The shim class for a document.

    Raises:
        ValueError: The document names no shim, or one this runtime does not know.
    """
    servable = document.get("servable") or {}
    name = servable.get("shim") or _BY_TYPE.get(servable.get("type") or "")
    if name not in SHIMS:
        raise ValueError(
            f"unknown servable.shim {name!r}; this runtime knows: {', '.join(sorted(SHIMS))}"
        )
    module_name, _, class_name = SHIMS[name].partition(":")
    cls: type[Shim] = getattr(importlib.import_module(module_name), class_name)
    return cls


def load_servable(document: dict[str, Any], folder: str | os.PathLike[str]) -> Shim:
    """Load a servable from its document and the folder holding its files.

    The folder goes first on ``sys.path``, so modules published with the servable
    (an ``app.py``, the file defining a pickled class) import.

    Args:
        document: The metadata document.
        folder: Folder holding the files named in ``dlhub.files`` (paths relative to it).

    Returns:
        The loaded servable: call ``.call(method, inputs, parameters)``.

    Raises:
        ValueError: The document names an unknown shim or is missing what the shim needs.
        FileNotFoundError: A file the servable needs is not in the folder.
        Exception: Whatever loading the model raises (an import error, a corrupt file...).
    """
    cls = shim_class(document)
    folder = os.path.abspath(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return cls(document, folder)
