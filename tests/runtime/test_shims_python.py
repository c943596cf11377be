"""Python static and class method shims, against the in-process call."""

from __future__ import annotations

import importlib
import pickle
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from dlhub_runtime import MethodNotFound, load_servable
from dlhub_sdk.models.servables.python import PythonClassMethodModel, PythonStaticMethodModel

pytestmark = pytest.mark.usefixtures("clean_imports")

APP = """
def scale(x, factor=2, offset=0):
    return [v * factor + offset for v in x]

def add(a, b, c=0):
    return a + b + c
"""

EXAMPLE = """
class ExampleClass:
    def __init__(self, a):
        self.a = a

    def f(self, x, b=1):
        return self.a * x + b
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_static_method_from_a_published_app_py(tmp_path: Path, sdk_document: Any) -> None:
    folder = tmp_path / "servable"
    app = _write(folder, "app.py", APP)
    model = PythonStaticMethodModel.create_model("app", "scale", function_kwargs={"factor": 3})
    model.set_inputs("list", "numbers", item_type="float").set_outputs(
        "list", "out", item_type="float"
    )
    model.add_file(str(app))
    servable = load_servable(sdk_document(model), folder)

    expected = importlib.import_module("app").scale
    assert servable.call("run", [1, 2]) == expected([1, 2], factor=3) == [3, 6]
    assert servable.call("run", [1, 2], {"offset": 1}) == expected([1, 2], factor=3, offset=1)
    assert servable.call("run", [1], {"factor": 10}) == [10]


@pytest.mark.parametrize(
    ("details", "inputs", "expected"),
    [
        ({"unpack": True}, (1, 2), 3),
        ({"autobatch": True, "unpack": True}, [(1, 2), (3, 4)], [3, 7]),
        ({"autobatch": True}, [[1], [2]], [[2], [4]]),
    ],
    ids=["unpack", "autobatch+unpack", "autobatch"],
)
def test_static_method_unpack_and_autobatch(
    tmp_path: Path, make_document: Any, details: dict[str, bool], inputs: object, expected: object
) -> None:
    _write(tmp_path / "s", "app.py", APP)
    function = "scale" if details == {"autobatch": True} else "add"
    document = make_document(
        "python.PythonStaticMethodServable",
        {
            "run": {
                "parameters": {},
                "method_details": {"module": "app", "method_name": function, **details},
            }
        },
    )
    assert load_servable(document, tmp_path / "s").call("run", inputs) == expected


def test_autobatch_needs_a_list(tmp_path: Path, make_document: Any) -> None:
    document = make_document(
        "python.PythonStaticMethodServable",
        {"run": {"method_details": {"module": "math", "method_name": "sqrt", "autobatch": True}}},
    )
    servable = load_servable(document, tmp_path)
    assert servable.call("run", [4.0, 9.0]) == [2.0, 3.0]
    with pytest.raises(TypeError, match="autobatch"):
        servable.call("run", 4.0)


def test_class_method_from_pickle_with_class_file(tmp_path: Path, sdk_document: Any) -> None:
    folder = tmp_path / "servable"
    example = _write(folder, "example.py", EXAMPLE)
    sys.path.insert(0, str(folder))
    obj = importlib.import_module("example").ExampleClass(3)
    pickle_path = folder / "pickle.pkl"
    pickle_path.write_bytes(pickle.dumps(obj))
    expected = [obj.f(2), obj.f(2, b=5)]
    # the worker starts fresh: the class must come from the servable's folder
    del sys.modules["example"]
    sys.path.remove(str(folder))

    model = PythonClassMethodModel.create_model(str(pickle_path), "f", function_kwargs={"b": 1})
    model.set_inputs("float", "x").set_outputs("float", "y").add_file(str(example))
    servable = load_servable(sdk_document(model), folder)
    assert [servable.call("run", 2), servable.call("run", 2, {"b": 5})] == expected == [7, 11]


def test_unknown_method_names_the_available_ones(tmp_path: Path, make_document: Any) -> None:
    document = make_document(
        "python.PythonStaticMethodServable",
        {"run": {"method_details": {"module": "math", "method_name": "sqrt"}}},
    )
    with pytest.raises(MethodNotFound, match="no method 'predict'; it has: run"):
        load_servable(document, tmp_path).call("predict", 1)


def test_load_errors_say_what_is_missing(tmp_path: Path, make_document: Any) -> None:
    with pytest.raises(ValueError, match="unknown servable.shim 'nope.Servable'"):
        load_servable(make_document("nope.Servable", {"run": {}}), tmp_path)
    with pytest.raises(ValueError, match="needs 'module' and 'method_name'"):
        load_servable(make_document("python.PythonStaticMethodServable", {"run": {}}), tmp_path)
    missing = make_document(
        "python.PythonClassMethodServable",
        {"run": {"method_details": {"method_name": "f"}}},
        files={"pickle": "pickle.pkl"},
    )
    with pytest.raises(FileNotFoundError, match="'pickle.pkl' is not in the servable's folder"):
        load_servable(missing, tmp_path)
    with pytest.raises(AttributeError, match="module 'math' has no attribute 'nope'"):
        load_servable(
            make_document(
                "python.PythonStaticMethodServable",
                {"run": {"method_details": {"module": "math", "method_name": "nope"}}},
            ),
            tmp_path,
        )
