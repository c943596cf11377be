"""The manual's chapter 2, 3 and 4.1 examples, run as printed (only imports and data added)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Annotated

import numpy as np

from dlhub_sdk.models.servables.python import (
    PythonClassMethodModel,
    PythonStaticMethodModel,
    PythonStaticMethodServable,
)
from dlhub_sdk.utils.types import compose_argument_block


class ExampleClass:
    """The class of section 4.1.2 (module level, so the pickle names it by its import path)."""

    def __init__(self, a):
        self.a = a

    def f(self, x, b=1):
        return self.a * x + b


def f(x: float, y: float) -> float:
    """A two-argument function for section 4.1.1's unpacking example."""
    return x + y


def test_static_method_numpy_max(reference_validate) -> None:
    model = PythonStaticMethodModel.create_model(
        "numpy", "max", autobatch=False, function_kwargs={"axis": 0}
    )
    model.set_inputs("ndarray", "Matrix", shape=[None, None])
    model.set_outputs("ndarray", "Max of a certain axis", shape=[None])
    model.set_title("Numpy max").set_name("numpy_max")

    run = model.to_dict()["servable"]["methods"]["run"]
    assert run == {
        "input": {"type": "ndarray", "description": "Matrix", "shape": [None, None]},
        "output": {"type": "ndarray", "description": "Max of a certain axis", "shape": [None]},
        "parameters": {"axis": 0},
        "method_details": {"module": "numpy", "method_name": "max", "autobatch": False},
    }
    assert model.to_dict()["servable"]["type"] == "Python static method"
    assert model.to_dict()["servable"]["shim"] == "python.PythonStaticMethodServable"
    reference_validate(model.to_dict())


def test_static_method_unpacked_inputs(reference_validate) -> None:
    # Section 4.1.1 uses the name PythonStaticMethodServable; it is the same class.
    assert PythonStaticMethodServable is PythonStaticMethodModel
    model = PythonStaticMethodServable.from_function_pointer(f)
    model.set_inputs(
        "tuple",
        "Two numbers",
        element_types=[
            compose_argument_block("float", "A number"),
            compose_argument_block("float", "A second number"),
        ],
    )
    model.set_unpack_inputs(True)
    model.set_outputs("float", "The sum")
    model.set_title("Add two numbers").set_name("add")

    run = model.to_dict()["servable"]["methods"]["run"]
    assert run["input"] == {
        "type": "tuple",
        "description": "Two numbers",
        "element_types": [
            {"type": "float", "description": "A number"},
            {"type": "float", "description": "A second number"},
        ],
    }
    assert run["method_details"] == {
        "module": __name__,
        "method_name": "f",
        "autobatch": False,
        "unpack": True,
    }
    reference_validate(model.to_dict())


def test_class_method_pickle(tmp_path: Path, reference_validate, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    x = ExampleClass(1)
    with open("pickle.pkl", "wb") as fp:
        pickle.dump(x, fp)

    model = PythonClassMethodModel.create_model("pickle.pkl", "f")
    model.set_inputs("float", "Input value")
    model.set_outputs("float", "Output value")

    Path("example.py").write_text("class ExampleClass:\n    pass\n")
    model.add_file("example.py")
    model.set_title("Example class").set_name("example_class")

    doc = model.to_dict()
    assert doc["dlhub"]["files"] == {"pickle": "pickle.pkl", "other": ["example.py"]}
    assert doc["servable"]["methods"]["run"]["method_details"] == {
        "method_name": "f",
        "class_name": f"{__name__}.ExampleClass",
    }
    assert doc["servable"]["type"] == "Python class method"
    assert sorted(model.list_files()) == ["example.py", "pickle.pkl"]
    reference_validate(doc)


def test_class_method_requirement_on_pypi_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open("pickle.pkl", "wb") as fp:
        pickle.dump(ExampleClass(2), fp)
    model = PythonClassMethodModel.create_model("pickle.pkl", "f")
    model.add_requirement("fake_module_with_exampleclass_on_pypi")
    assert model.requirements == {"fake_module_with_exampleclass_on_pypi": None}
    assert model.pip_requirements() == ["fake_module_with_exampleclass_on_pypi"]


def test_requirement_forms_of_chapter_2(installed_library, package_index) -> None:
    model = PythonStaticMethodModel.create_model("numpy", "max")

    # Add a specific requirement without version information
    model.add_requirement("library")
    assert model.requirements["library"] is None

    # Autodetect the version installed on your environment
    model.add_requirement("library", "detect")
    assert model.requirements["library"] == "1.2.3"

    # Get the latest version on PyPI
    model.add_requirement("library", "latest")
    assert model.requirements["library"] == "2.0.0"

    # Get a specific version
    model.add_requirement("library", "1.0.0b")
    assert model.requirements["library"] == "1.0.0b"
    assert model.pip_requirements() == ["library==1.0.0b"]


def test_repo2docker_configuration(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "another" / "path").mkdir(parents=True)
    config = tmp_path / "another" / "path"
    (config / "requirements.txt").write_text(
        "numpy==2.0.1\n# a comment\nscipy>=1.10\n-e .\nrequests\n"
    )
    (config / "environment.yml").write_text(
        "name: demo\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - torch==2.13.0\n    - numpy==1.0\n"
    )
    (config / "runtime.txt").write_text("python-3.11\n")
    (config / "apt.txt").write_text("libgomp1\n")
    monkeypatch.chdir(tmp_path)

    model = PythonStaticMethodModel.create_model("numpy", "max")
    model.parse_repo2docker_configuration("another/path")
    # requirements.txt wins over the environment.yml pip part for the same library
    assert model.requirements == {
        "torch": "2.13.0",
        "numpy": "2.0.1",
        "scipy": ">=1.10",
        "requests": None,
    }
    assert model.dlhub.files["runtime"] == "another/path/runtime.txt"
    assert model.dlhub.files["apt"] == "another/path/apt.txt"

    # The same files in the working directory, with no argument
    monkeypatch.chdir(config)
    here = PythonStaticMethodModel.create_model("numpy", "max").parse_repo2docker_configuration()
    assert here.requirements["scipy"] == ">=1.10"


def test_unserialize_dlhub_json_as_in_chapter_3(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    model = PythonStaticMethodModel.create_model("numpy", "max", function_kwargs={"axis": 0})
    model.set_inputs("ndarray", "Matrix", shape=[None, None]).set_outputs(
        "ndarray", "Max", shape=[None]
    )
    model.set_title("Numpy max").set_name("numpy_max")
    Path("dlhub.json").write_text(json.dumps(model.to_dict()))

    from dlhub_sdk.utils import unserialize_object

    with open("dlhub.json") as fp:
        model = unserialize_object(json.load(fp))
    assert isinstance(model, PythonStaticMethodModel)
    assert model.name == "numpy_max"


def test_auto_inspect_multi_argument_and_numpy() -> None:
    def scale(x: Annotated[np.ndarray, (None, 3)], factor: float, offset: int = 0) -> list[float]:
        return list(x.sum(axis=1) * factor + offset)

    model = PythonStaticMethodModel.create_model(f=scale, auto_inspect=True)
    run = model.servable.methods["run"]
    assert run.input is not None and run.input.to_dict() == {
        "type": "tuple",
        "description": "Arguments of scale",
        "element_types": [
            {"type": "ndarray", "description": "x", "shape": [None, 3]},
            {"type": "float", "description": "factor"},
        ],
    }
    assert run.output is not None and run.output.to_dict()["item_type"] == {"type": "float"}
    assert run.method_details["unpack"] is True
    assert run.parameters == {"offset": 0}
