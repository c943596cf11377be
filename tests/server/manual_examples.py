"""The manual's examples (chapter 4.1), built fresh by each test that publishes them."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from dlhub_sdk.models.servables.python import PythonClassMethodModel, PythonStaticMethodModel

EXAMPLE_SOURCE = """
class ExampleClass:
    def __init__(self, a):
        self.a = a

    def f(self, x, b=1):
        return self.a * x + b
"""


def numpy_max(name: str = "numpy_max") -> PythonStaticMethodModel:
    """Section 4.1.1: numpy's max along axis 0."""
    model = PythonStaticMethodModel.create_model(
        "numpy", "max", autobatch=False, function_kwargs={"axis": 0}
    )
    model.set_inputs("ndarray", "Matrix", shape=[None, None])
    model.set_outputs("ndarray", "Max of a certain axis", shape=[None])
    return model.set_title("Numpy max").set_name(name)


def class_method(folder: Path, a: int = 1, name: str = "example_class") -> PythonClassMethodModel:
    """Section 4.1.2: ``ExampleClass(a).f`` from a pickle, with the file defining the class.

    The class is defined in ``folder/example.py`` (the manual's second option), so the
    pickle names ``example.ExampleClass``.
    """
    import importlib.util
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "example.py"
    source.write_text(EXAMPLE_SOURCE)
    spec = importlib.util.spec_from_file_location("example", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["example"] = module
    try:
        spec.loader.exec_module(module)
        with open(folder / "pickle.pkl", "wb") as fp:
            pickle.dump(module.ExampleClass(a), fp)
    finally:
        del sys.modules["example"]
    model = PythonClassMethodModel.create_model(str(folder / "pickle.pkl"), "f")
    model.set_inputs("float", "Input value")
    model.set_outputs("float", "Output value")
    model.add_file(str(source))
    return model.set_title("Example class").set_name(name)


def iris_like(seed: int = 0) -> tuple[Any, Any]:
    """Sixty iris-like records (4 features, 3 classes) drawn around three centres."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    X = np.concatenate([c + 0.3 * rng.standard_normal((20, 4)) for c in centres])
    return X.astype(np.float32), np.repeat(np.arange(3), 20)
