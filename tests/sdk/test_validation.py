"""Checking values against argument types: ``dlhub_sdk.utils.validation``."""

from __future__ import annotations

import collections
import datetime as dt
import fractions
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlhub_sdk.exceptions import InputValidationError, InvalidArgumentType, InvalidMetadata
from dlhub_sdk.models._argument_types import make_argument_type
from dlhub_sdk.models.servables import MethodMetadata
from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from dlhub_sdk.utils.types import compose_argument_block
from dlhub_sdk.utils.validation import validate_inputs, validate_value


def fails(value: Any, block: Any, path: str = "input") -> InputValidationError:
    """Validate and return the error, which must be raised."""
    with pytest.raises(InputValidationError) as info:
        validate_value(value, block, path)
    return info.value


# --- the JSON examples of chapter 5 of the manual, as written there -------------------

MANUAL_PYTHON_OBJECT = """
{
  "type": "python object",
  "python_type": "pandas.DataFrame"
}
"""

MANUAL_NDARRAY = """
{
  "type": "ndarray",
  "item_type": {"type": "integer"},
  "shape": [null, 3]
}
"""

MANUAL_FILE = """
{
  "type": "file",
  "file_types": [
    "text/csv",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
  ]
}
"""

MANUAL_LIST = """
{
  "type": "list",
  "item_type": {
    "type": "ndarray",
    "shape": [null]
  }
}
"""

MANUAL_TUPLE = """
{
  "type": "tuple",
  "element_types": [
    {"type": "integer"},
    {"type": "float"},
    {"type": "list", "item_type": "string"}
  ]
}
"""

MANUAL_DICT = """
{
  "type": "dict",
  "properties": {
    "x": {"type": "integer"},
    "y": {"type": "float"}
  }
}
"""

# The scikit-learn example of chapter 4: N records of 4 variables.
MANUAL_SKLEARN_INPUT = """
{
  "type": "ndarray",
  "shape": [null, 4],
  "description": "List of records to evaluate with model. Each record is a list of 4 variables.",
  "item_type": {"type": "float"}
}
"""


class TestManualExamples:
    def test_python_object_of_a_module_never_imported_is_accepted(self) -> None:
        # pandas is not imported (nor installed here): nothing can be checked, so nothing is said
        block = json.loads(MANUAL_PYTHON_OBJECT)
        assert "pandas" not in sys.modules
        validate_value({"a": [1, 2]}, block)
        validate_value(object(), block)

    def test_ndarray_of_integers(self) -> None:
        block = json.loads(MANUAL_NDARRAY)
        validate_value([[1, 2, 3], [4, 5, 6]], block)
        validate_value(np.arange(6).reshape(2, 3), block)
        validate_value(np.zeros((0, 3), dtype=np.int32), block)
        error = fails([[1, 2, 3], [4, 5, 6.5]], block)
        assert str(error) == "input[1][2]: expected integer, got float (6.5)"
        error = fails(np.zeros((2, 3)), block)
        assert str(error) == "input: expected items of type integer, got dtype float64"
        error = fails([[1, 2, 3, 4]], block)
        assert (
            str(error)
            == "input: expected shape [None, 3], got (1, 4) (dimension 1 is 4, must be 3)"
        )

    def test_file(self, tmp_path: Path) -> None:
        block = json.loads(MANUAL_FILE)
        table = tmp_path / "table.csv"
        table.write_text("a,b\n1,2\n")
        validate_value(table, block)
        validate_value(str(table), block)
        error = fails(str(tmp_path / "missing.csv"), block)
        assert error.path == "input"
        assert "missing.csv" in error.reason and "does not exist" in error.reason
        error = fails(tmp_path, block)
        assert "is a directory" in error.reason
        assert "expected file" in fails(b"a,b\n", block).reason

    def test_list_of_vectors(self) -> None:
        block = json.loads(MANUAL_LIST)
        validate_value([[1.0, 2.0], [3.0], np.arange(4)], block)
        validate_value([], block)
        error = fails([[1.0], [[2.0]]], block)
        assert error.path == "input[1]"
        assert "got a nested list of shape (1, 1) (2 dimensions)" in error.reason
        error = fails([[1.0], np.zeros((2, 2))], block)
        assert error.path == "input[1]"
        assert "got array of shape (2, 2) (2 dimensions)" in error.reason
        assert str(fails((1.0, 2.0), block)).startswith(
            "input[0]: expected ndarray of shape [None]"
        )

    def test_tuple_of_integer_float_and_strings(self) -> None:
        block = json.loads(MANUAL_TUPLE)
        validate_value((1, 2.5, ["a", "b"]), block)
        validate_value([1, 2, []], block)  # JSON has no tuples: a list of the right length is one
        assert str(fails((1, 2.5, ["a", 3]), block)) == "input[2][1]: expected string, got int (3)"
        assert str(fails((1.0, 2.5, []), block)) == "input[0]: expected integer, got float (1.0)"
        error = fails((1, 2.5), block)
        assert error.reason == "expected a tuple of 3 members, got 2: (1, 2.5)"
        assert str(fails({"a": 1}, block)) == "input: expected tuple, got dict ({'a': 1})"

    def test_dict_of_x_and_y(self) -> None:
        block = json.loads(MANUAL_DICT)
        validate_value({"x": 1, "y": 2.0}, block)
        validate_value({"x": np.int64(1), "y": 2}, block)  # float accepts an int
        assert (
            str(fails({"x": 1.5, "y": 2.0}, block))
            == "input['x']: expected integer, got float (1.5)"
        )
        assert str(fails({"x": 1}, block)) == "input['y']: required key is missing"
        error = fails({"x": 1, "y": 2.0, "z": 3}, block)
        assert str(error) == "input['z']: unexpected key; the declared keys are 'x', 'y'"
        assert str(fails([1, 2.0], block)) == "input: expected dict, got list ([1, 2.0])"

    def test_sklearn_records(self) -> None:
        block = json.loads(MANUAL_SKLEARN_INPUT)
        validate_value([[5.1, 3.5, 1.4, 0.2]], block)
        validate_value(np.array([[5, 3, 1, 0]]), block)  # integers are fine for float
        error = fails([[5.1, 3.5, 1.4]], block)
        assert error.reason == "expected shape [None, 4], got (1, 3) (dimension 1 is 3, must be 4)"


# --- scalars ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "good", "bad"),
    [
        (
            "number",
            [1, 2.5, np.int8(3), np.float32(1.5), fractions.Fraction(1, 3)],
            [True, "1", 1j, None],
        ),
        (
            "integer",
            [0, -3, np.int64(5), np.uint8(2)],
            [True, np.bool_(False), 1.0, "1", np.float64(1)],
        ),
        ("float", [1.5, 2, np.float16(1), np.int32(3)], [False, "1.5", 1 + 2j, None]),
        ("complex", [1j, 2, 0.5, np.complex64(1 + 1j)], [True, "1j", [1, 2]]),
        ("string", ["", "text", np.str_("x")], [b"bytes", 1, None]),
        ("boolean", [True, False, np.bool_(True)], [0, 1, "true", None]),
        (
            "timedelta",
            [dt.timedelta(seconds=3), np.timedelta64(3, "s")],
            [3, "PT3S", dt.datetime(2020, 1, 1)],
        ),
        (
            "datetime",
            [
                dt.datetime(2020, 1, 1, 12),
                "2020-01-01T12:00:00",
                "2020-01-01T12:00:00Z",
                "2020-01-01T12:00:00.5+02:00",
                "2020-01-01",
                np.datetime64("2020-01-01"),
            ],
            ["yesterday", "2020-13-01", 1577880000, dt.date(2020, 1, 1), dt.timedelta(1)],
        ),
    ],
)
def test_scalar_types(type_name: str, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        validate_value(value, {"type": type_name})
        validate_value(value, type_name)  # the shorthand name works too
    for value in bad:
        error = fails(value, {"type": type_name})
        assert error.path == "input"
        assert error.reason.startswith(f"expected {type_name}"), error.reason


def test_bool_is_not_a_number_with_a_clear_message() -> None:
    assert str(fails(True, "integer")) == "input: expected integer, got bool (True)"
    assert str(fails(np.bool_(True), "number")) == "input: expected number, got bool (np.True_)"


def test_bad_datetime_string_says_it_is_not_iso() -> None:
    error = fails("next tuesday", "datetime")
    assert error.reason == "expected datetime, got str ('next tuesday') that is not ISO-8601"


def test_long_values_are_shortened_in_messages() -> None:
    error = fails("x" * 500, "integer")
    assert len(str(error)) < 100
    assert error.reason.endswith("...)")


# --- python objects --------------------------------------------------------------------


class Point:
    """A class of this test module."""


class Point3D(Point):
    """A subclass: an instance is also a Point."""


def test_python_object_of_builtin_and_imported_classes() -> None:
    validate_value({"a": 1}, {"type": "python object", "python_type": "dict"})
    validate_value({"a": 1}, {"type": "python object", "python_type": "builtins.dict"})
    validate_value(collections.OrderedDict(), {"type": "python object", "python_type": "dict"})
    ordered = {"type": "python object", "python_type": "collections.OrderedDict"}
    validate_value(collections.OrderedDict(a=1), ordered)
    error = fails({"a": 1}, ordered)
    assert (
        error.reason
        == "expected python object of type collections.OrderedDict, got dict ({'a': 1})"
    )
    numpy_array = {"type": "python object", "python_type": "numpy.ndarray"}
    validate_value(np.zeros(3), numpy_array)
    assert "got list ([0, 0, 0])" in fails([0, 0, 0], numpy_array).reason
    fraction = {"type": "python object", "python_type": "fractions.Fraction"}
    validate_value(fractions.Fraction(1, 2), fraction)
    assert "fractions.Fraction" in fails(0.5, fraction).reason


def test_python_object_of_a_user_class() -> None:
    block = {"type": "python object", "python_type": f"{Point.__module__}.Point"}
    validate_value(Point(), block)
    validate_value(Point3D(), block)
    error = fails(object(), block)
    assert f"expected python object of type {Point.__module__}.Point" in error.reason


def test_python_object_that_cannot_be_resolved_is_accepted() -> None:
    for path in (
        "no_such_module_xyz.Thing",
        "collections.NoSuchThing",
        "NoSuchBuiltin",
        "os.path.join",
    ):
        validate_value(42, {"type": "python object", "python_type": path})
    assert "no_such_module_xyz" not in sys.modules  # nothing named by metadata is imported


# --- ndarray ---------------------------------------------------------------------------


def test_ndarray_shape_messages() -> None:
    block = {"type": "ndarray", "shape": [None, 3]}
    error = fails([[1, 2, 3, 4], [5, 6, 7, 8]], block)
    assert str(error) == "input: expected shape [None, 3], got (2, 4) (dimension 1 is 4, must be 3)"
    error = fails(np.zeros((2, 4)), block)
    assert str(error) == "input: expected shape [None, 3], got (2, 4) (dimension 1 is 4, must be 3)"
    error = fails([1, 2, 3], block)
    assert error.reason == (
        "expected shape [None, 3] (2 dimensions), got a nested list of shape (3,) (1 dimension)"
    )
    error = fails(np.zeros((2, 3, 1)), block)
    assert error.reason == (
        "expected shape [None, 3] (2 dimensions), got array of shape (2, 3, 1) (3 dimensions)"
    )
    error = fails("abc", block)
    assert error.reason.startswith(
        "expected ndarray of shape [None, 3] (a numpy array or nested lists)"
    )


def test_ragged_lists_are_an_error() -> None:
    block = {"type": "ndarray", "shape": [None, None]}
    validate_value([[1, 2], [3, 4], [5, 6]], block)
    error = fails([[1, 2], [3, 4], [5]], block)
    assert str(error) == "input[2]: ragged nested list: length 1, but input[0] has length 2"
    error = fails([[1, 2], 3], block)
    assert error.path == "input[1]"
    assert error.reason.startswith("expected a list here")
    deeper = {"type": "ndarray", "shape": [2, 2, 2]}
    error = fails([[[1, 2], [3, 4]], [[5, 6], [7]]], deeper)
    assert str(error) == "input[1][1]: ragged nested list: length 1, but input[0][0] has length 2"
    error = fails([[1, 2], [3, [4]]], {"type": "ndarray", "shape": [2, 2]})
    assert error.path == "input[1][1]"
    assert error.reason.startswith("expected a single item here")


def test_ndarray_fixed_first_dimension_and_zero_dimensions() -> None:
    block = {"type": "ndarray", "shape": [2, None]}
    validate_value([[1], [2]], block)
    assert "(dimension 0 is 3, must be 2)" in fails([[1], [2], [3]], block).reason
    assert "(dimension 0 is 0, must be 2)" in fails([], block).reason
    scalar = {"type": "ndarray", "shape": [], "item_type": {"type": "float"}}
    validate_value(3.5, scalar)
    validate_value(np.float64(3.5), scalar)
    validate_value(np.array(3.5), scalar)
    assert "(0 dimensions)" in fails([3.5], scalar).reason


def test_ndarray_empty_batch_fits_any_row_shape() -> None:
    block = {"type": "ndarray", "shape": [None, 3], "item_type": "float"}
    validate_value([], block)
    validate_value(np.zeros((0, 3)), block)
    assert "(dimension 1 is 0, must be 3)" in fails([[], []], block).reason


def test_ndarray_item_types() -> None:
    floats = {"type": "ndarray", "shape": [None], "item_type": {"type": "float"}}
    validate_value([1, 2.5, np.float32(3)], floats)
    validate_value(np.arange(3), floats)
    validate_value(np.array([1.5, 2.5], dtype=np.float16), floats)
    assert str(fails([1.0, True], floats)) == "input[1]: expected float, got bool (True)"
    assert (
        str(fails(np.array([True]), floats))
        == "input: expected items of type float, got dtype bool"
    )
    assert "got dtype <U1" in fails(np.array(["a"]), floats).reason
    strings = {"type": "ndarray", "shape": [None], "item_type": "string"}
    validate_value(np.array(["a", "bc"]), strings)
    validate_value(["a", "bc"], strings)  # strings are items, not dimensions
    validate_value(np.array(["a", "b"], dtype=object), strings)
    error = fails(np.array(["a", 3], dtype=object), strings)
    assert str(error) == "input[1]: expected string, got int (3)"
    matrix = {"type": "ndarray", "shape": [None, 2], "item_type": "integer"}
    error = fails(np.array([[1, 2], [3, None]], dtype=object), matrix)
    assert str(error) == "input[1, 1]: expected integer, got NoneType (None)"
    others = {
        "boolean": np.array([True]),
        "complex": np.array([1 + 1j]),
        "datetime": np.array(["2020-01-01"], dtype="datetime64[D]"),
        "timedelta": np.array([1], dtype="timedelta64[s]"),
    }
    for name, array in others.items():
        validate_value(array, {"type": "ndarray", "shape": [1], "item_type": name})


def test_ndarray_of_containers() -> None:
    # item types that are containers make nested lists data, not extra dimensions
    block = {
        "type": "ndarray",
        "shape": [None],
        "item_type": {"type": "list", "item_type": "integer"},
    }
    validate_value([[1, 2], [3]], block)
    assert str(fails([[1, 2], [3, "x"]], block)) == "input[1][1]: expected integer, got str ('x')"


def test_nested_lists_with_arrays_inside() -> None:
    block = {"type": "ndarray", "shape": [None, 3], "item_type": "integer"}
    validate_value([np.arange(3), np.arange(3)], block)
    error = fails([np.arange(3), np.arange(4)], block)
    assert error.path == "input[1]"


# --- lists, paths, nested structures --------------------------------------------------


def test_list_items_have_their_index_in_the_path() -> None:
    block = {"type": "list", "item_type": "integer"}
    validate_value([1, 2, 3], block)
    validate_value((1, 2), block)
    validate_value([], block)
    assert str(fails([1, 2, "3"], block)) == "input[2]: expected integer, got str ('3')"
    assert str(fails({1, 2}, block)) == "input: expected list, got set ({1, 2})"
    assert "expected list" in fails(np.arange(3), block).reason


def test_nested_paths() -> None:
    block = {
        "type": "list",
        "item_type": {
            "type": "dict",
            "properties": {"x": "integer", "tags": {"type": "list", "item_type": "string"}},
        },
    }
    validate_value([{"x": 1, "tags": []}, {"x": 2, "tags": ["a"]}], block)
    error = fails([{"x": 1, "tags": []}, {"x": "a", "tags": []}], block)
    assert str(error) == "input[1]['x']: expected integer, got str ('a')"
    error = fails([{"x": 1, "tags": ["a", None]}], block)
    assert str(error) == "input[0]['tags'][1]: expected string, got NoneType (None)"
    assert error.path == "input[0]['tags'][1]"
    assert error.reason == "expected string, got NoneType (None)"


def test_custom_root_path() -> None:
    error = fails({"x": "a", "y": 1.0}, json.loads(MANUAL_DICT), path="inputs[0]")
    assert str(error) == "inputs[0]['x']: expected integer, got str ('a')"


def test_dict_keys_that_are_not_strings_are_shown_as_such() -> None:
    error = fails({"x": 1, "y": 1.0, 3: "three"}, json.loads(MANUAL_DICT))
    assert error.path == "input[3]"


def test_tuple_with_file_members(tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("x")
    block = {
        "type": "tuple",
        "element_types": ["file", {"type": "list", "item_type": "file"}, "integer"],
    }
    validate_value((data, [data, str(data)], 3), block)
    error = fails((data, [data, tmp_path / "nope.txt"], 3), block)
    assert error.path == "input[1][1]"
    assert "does not exist" in error.reason


def test_argument_type_objects_and_composed_blocks() -> None:
    block = compose_argument_block("ndarray", "a matrix", shape=[None, 2], item_type="float")
    validate_value([[1.0, 2.0]], block)
    validate_value([[1.0, 2.0]], make_argument_type(block))
    assert "dimension 1 is 3" in fails([[1.0, 2.0, 3.0]], make_argument_type(block)).reason


def test_a_bad_block_is_an_invalid_argument_type() -> None:
    with pytest.raises(InvalidArgumentType, match="shape"):
        validate_value([1], {"type": "ndarray"})
    with pytest.raises(InvalidArgumentType, match="unknown argument type"):
        validate_value(1, {"type": "int"})


def test_error_is_a_value_error_with_path_and_reason() -> None:
    error = fails("a", "integer")
    assert isinstance(error, ValueError)
    assert (error.path, error.reason) == ("input", "expected integer, got str ('a')")


# --- servable methods -----------------------------------------------------------------


def _method(input_block: dict[str, Any], **details: Any) -> dict[str, Any]:
    return {
        "input": input_block,
        "output": {"type": "string"},
        "parameters": {},
        "method_details": details,
    }


def test_validate_inputs_plain() -> None:
    method = _method(json.loads(MANUAL_DICT))
    validate_inputs({"x": 1, "y": 2.0}, method)
    assert (
        str(_inputs_error({"x": 1, "y": "2"}, method))
        == "input['y']: expected float, got str ('2')"
    )


def _inputs_error(inputs: Any, method: Any) -> InputValidationError:
    with pytest.raises(InputValidationError) as info:
        validate_inputs(inputs, method)
    return info.value


def test_validate_inputs_unpack() -> None:
    method = _method(
        {"type": "tuple", "element_types": ["integer", "string"]}, method_name="f", unpack=True
    )
    validate_inputs((1, "a"), method)
    validate_inputs([1, "a"], method)
    assert str(_inputs_error((1, 2), method)) == "input[1]: expected string, got int (2)"
    assert "expected a tuple of 2 members, got 3" in _inputs_error((1, "a", 3), method).reason
    error = _inputs_error("a", _method({"type": "string"}, unpack=True))
    assert "positional arguments" in error.reason


def test_validate_inputs_autobatch() -> None:
    method = _method({"type": "ndarray", "shape": [3], "item_type": "float"}, autobatch=True)
    validate_inputs([[1, 2, 3], np.zeros(3)], method)
    validate_inputs([], method)
    error = _inputs_error([[1, 2, 3], [1, 2]], method)
    assert str(error) == "input[1]: expected shape [3], got (2,) (dimension 0 is 2, must be 3)"
    assert "autobatch expects a list of items" in _inputs_error(np.zeros(3), method).reason
    both = _method(
        {"type": "tuple", "element_types": ["integer", "integer"]}, autobatch=True, unpack=True
    )
    validate_inputs([(1, 2), [3, 4]], both)
    assert (
        str(_inputs_error([(1, 2), (3, "4")], both))
        == "input[1][1]: expected integer, got str ('4')"
    )


def test_validate_inputs_with_method_metadata_from_a_model() -> None:
    model = PythonStaticMethodModel.create_model("math", "hypot", autobatch=False)
    model.set_title("Hypotenuse").set_name("hypot").set_creators(["Pythagoras, Of Samos"])
    model.set_inputs("tuple", "two sides", element_types=["float", "float"])
    model.set_outputs("float", "the hypotenuse")
    model.set_unpack_inputs(True)
    method = model.method("run")
    assert isinstance(method, MethodMetadata)
    validate_inputs((3, 4.0), method)
    assert str(_inputs_error((3, "4"), method)) == "input[1]: expected float, got str ('4')"
    # the document form (a dict) reads the same
    validate_inputs((3, 4.0), model.to_dict()["servable"]["methods"]["run"])


def test_validate_inputs_without_an_input_type() -> None:
    with pytest.raises(InvalidMetadata, match="no input type"):
        validate_inputs(1, {"output": {"type": "string"}})


def test_numpy_is_not_imported_by_the_validator() -> None:
    script = (
        "import sys\n"
        "from dlhub_sdk.utils.validation import validate_value\n"
        "validate_value([[1, 2.5]], {'type': 'ndarray', 'shape': [None, 2], 'item_type': 'float'})\n"
        "validate_value({'x': [1]}, {'type': 'dict', 'properties': {'x': {'type': 'list', 'item_type': 'integer'}}})\n"
        "print('numpy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
