"""Chapter 5 of the manual: every argument-type example is a valid block, as written."""

from __future__ import annotations

import pytest

from dlhub_sdk.models._argument_types import make_argument_type
from dlhub_sdk.utils.types import compose_argument_block, simplify_numpy_dtype

CHAPTER_5 = {
    "5.5 python object": {"type": "python object", "python_type": "pandas.DataFrame"},
    "5.6 ndarray": {"type": "ndarray", "item_type": {"type": "integer"}, "shape": [None, 3]},
    "5.7 file": {
        "type": "file",
        "file_types": [
            "text/csv",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ],
    },
    "5.8 list": {"type": "list", "item_type": {"type": "ndarray", "shape": [None]}},
    "5.9 tuple": {
        "type": "tuple",
        "element_types": [
            {"type": "integer"},
            {"type": "float"},
            {"type": "list", "item_type": "string"},
        ],
    },
    "5.10 dict": {"type": "dict", "properties": {"x": {"type": "integer"}, "y": {"type": "float"}}},
}


@pytest.mark.parametrize("section", sorted(CHAPTER_5))
def test_chapter_5_blocks_are_accepted(section: str) -> None:
    block = make_argument_type(CHAPTER_5[section])
    assert block.type == CHAPTER_5[section]["type"]


def test_tuple_shorthand_item_type_is_expanded() -> None:
    block = make_argument_type(CHAPTER_5["5.9 tuple"]).to_dict()
    assert block["element_types"][2] == {"type": "list", "item_type": {"type": "string"}}


@pytest.mark.parametrize(
    "kind", ["float", "integer", "number", "complex", "string", "boolean", "timedelta", "datetime"]
)
def test_simple_types(kind: str) -> None:
    assert compose_argument_block(kind, "a value") == {"type": kind, "description": "a value"}


def test_compose_matches_the_manual_shapes() -> None:
    assert compose_argument_block(
        "ndarray", "N x 3 integers", shape=[None, 3], item_type="integer"
    ) == {
        "type": "ndarray",
        "description": "N x 3 integers",
        "shape": [None, 3],
        "item_type": {"type": "integer"},
    }
    assert compose_argument_block("python object", "frame", python_type="pandas.DataFrame")[
        "python_type"
    ] == ("pandas.DataFrame")
    assert compose_argument_block(
        "dict", "xy", properties={"x": "integer", "y": {"type": "float"}}
    )["properties"] == {
        "x": {"type": "integer"},
        "y": {"type": "float"},
    }


def test_simplify_numpy_dtype() -> None:
    import numpy as np

    assert [
        simplify_numpy_dtype(t) for t in (np.float32, np.int8, np.uint64, np.bool_, np.complex128)
    ] == [
        "float",
        "integer",
        "integer",
        "boolean",
        "complex",
    ]
    assert simplify_numpy_dtype(np.dtype("U5")) == "string"
    assert simplify_numpy_dtype("datetime64[s]") == "datetime"
    assert simplify_numpy_dtype(np.dtype("O")) == "python object"
    with pytest.raises(ValueError, match="no DLHub argument type"):
        simplify_numpy_dtype(np.dtype([("a", "i4")]))
