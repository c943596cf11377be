"""Describing datasets: the dataset block, CSV headers read without pandas, column roles."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import BaseMetadataModel
from dlhub_sdk.models.datasets import Dataset, DatasetColumn, DatasetModel, TabularDataset
from dlhub_sdk.utils import unserialize_object
from dlhub_sdk.utils.schemas import validate_against_dlhub_schema

CSV = "x,y,label,flag,note\n1,2.5,a,true,\n2,3,b,false,\n-3,1e3,c,True,\n"


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "test.csv"
    path.parent.mkdir()
    path.write_text(CSV)
    return path


def _described(csv_file: Path) -> TabularDataset:
    return (
        TabularDataset.create_model(str(csv_file))
        .set_title("Example dataset")
        .set_name("example_dataset")
        .set_creators(["Ward, Logan"], [["Argonne"]])
        .mark_inputs(["x", "y"])
        .mark_labels(["label"])
        .annotate_column("x", description="Input variable", units="cm")
        .annotate_column("label", data_type="category")
    )


def test_tabular_dataset_lists_columns_and_guesses_types(csv_file: Path) -> None:
    model = TabularDataset.create_model(str(csv_file))
    assert model.columns == ["x", "y", "label", "flag", "note"]
    types = {column.name: column.type for column in model.dataset.columns}
    assert types == {
        "x": "integer",
        "y": "float",
        "label": "string",
        "flag": "boolean",
        "note": "string",  # empty throughout
    }
    assert model.dlhub.files == {"data": str(csv_file)}
    assert model.dataset.format == "csv"
    assert model.dataset.read_options == {}


def test_tabular_document(csv_file: Path, reference_validate: Any) -> None:
    document = _described(csv_file).to_dict()
    assert document["dlhub"]["type"] == "dataset"
    assert document["datacite"]["resourceType"] == {"resourceTypeGeneral": "Dataset"}
    assert document["dataset"] == {
        "format": "csv",
        "read_options": {},
        "columns": [
            {"name": "x", "type": "integer", "description": "Input variable", "units": "cm"},
            {"name": "y", "type": "float"},
            {"name": "label", "type": "category"},
            {"name": "flag", "type": "boolean"},
            {"name": "note", "type": "string"},
        ],
        "inputs": ["x", "y"],
        "labels": ["label"],
    }
    validate_against_dlhub_schema(document, "dataset")
    reference_validate(document, "dataset")


def test_simplified_paths_and_zip(csv_file: Path, tmp_path: Path, reference_validate: Any) -> None:
    model = _described(csv_file)
    simplified = model.to_dict(simplify_paths=True)
    assert simplified["dlhub"]["files"] == {"data": "test.csv"}
    assert model.dlhub.files == {"data": str(csv_file)}  # the model keeps the real path
    reference_validate(simplified, "dataset")
    root = model.get_zip_file(tmp_path / "out.zip")
    assert Path(root) == csv_file.parent
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert archive.namelist() == ["test.csv"]
        assert archive.read("test.csv").decode() == CSV


def test_plain_dataset_model(tmp_path: Path, reference_validate: Any) -> None:
    data = tmp_path / "frames.npy"
    data.write_bytes(b"\x93NUMPY")
    model = (
        DatasetModel.create_model()
        .set_title("Frames")
        .set_name("frames")
        .add_file(str(data), name="data")
        .set_format("numpy", {"allow_pickle": False})
        .add_column("temperature", "Sample temperature", "float", "K")
        .add_column("phase", data_type="string")
        .mark_labels("phase")
    )
    document = model.to_dict()
    assert document["dataset"] == {
        "format": "numpy",
        "read_options": {"allow_pickle": False},
        "columns": [
            {
                "name": "temperature",
                "type": "float",
                "description": "Sample temperature",
                "units": "K",
            },
            {"name": "phase", "type": "string"},
        ],
        "labels": ["phase"],
    }
    validate_against_dlhub_schema(model, "dataset")
    reference_validate(document, "dataset")
    assert Dataset is DatasetModel


def test_empty_dataset_block_validates(reference_validate: Any) -> None:
    document = DatasetModel().set_title("Nothing yet").set_name("empty").to_dict()
    assert document["dataset"] == {"columns": []}
    validate_against_dlhub_schema(document, "dataset")
    reference_validate(document, "dataset")


def test_read_options_for_delimited_text(tmp_path: Path) -> None:
    path = tmp_path / "semi.txt"
    path.write_text("# produced by an instrument\n\na;b\n1;x\n", encoding="latin-1")
    model = TabularDataset.create_model(
        str(path), read_kwargs={"sep": ";", "skiprows": 1, "encoding": "latin-1"}
    )
    assert [(c.name, c.type) for c in model.dataset.columns] == [("a", "integer"), ("b", "string")]
    assert model.dataset.read_options == {"sep": ";", "skiprows": 1, "encoding": "latin-1"}

    headerless = tmp_path / "raw.tsv"
    headerless.write_text("1\t2.0\n3\t4.5\n")
    model = TabularDataset.create_model(str(headerless), format="tsv", read_kwargs={"header": None})
    assert [(c.name, c.type) for c in model.dataset.columns] == [("0", "integer"), ("1", "float")]
    named = TabularDataset.create_model(
        str(headerless), format="tsv", read_kwargs={"header": None, "names": ["n", "v"]}
    )
    assert named.columns == ["n", "v"]
    assert named.dataset.format == "tsv"


def test_other_formats_are_described_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "table.json"
    path.write_text('[{"a": 1}]')
    model = TabularDataset.create_model(str(path), format="json", read_kwargs={"orient": "records"})
    assert model.columns == []
    assert model.dlhub.files == {"data": str(path)}
    model.add_column("a", data_type="integer").set_title("t").set_name("t")
    validate_against_dlhub_schema(model, "dataset")


def test_loading_again_replaces_columns_and_roles(csv_file: Path, tmp_path: Path) -> None:
    model = _described(csv_file)
    other = tmp_path / "other.csv"
    other.write_text("p,q\n1,2\n")
    model.load_dataset(str(other), "csv")
    assert model.columns == ["p", "q"]
    assert model.dataset.inputs is None and model.dataset.labels is None
    assert model.dlhub.files == {"data": str(other)}


def test_annotating_and_unannotated_columns(csv_file: Path) -> None:
    model = TabularDataset.create_model(str(csv_file))
    assert model.get_unannotated_columns() == ["x", "y", "label", "flag", "note"]
    model.annotate_column("x", "Input")
    assert model.get_unannotated_columns() == ["y", "label", "flag", "note"]
    model["dataset"]["columns"][1]["description"] = "Edited through item access"
    assert model.get_column("y").description == "Edited through item access"


@pytest.mark.parametrize("role", ["mark_inputs", "mark_labels"])
def test_roles_must_name_known_columns(csv_file: Path, role: str) -> None:
    model = TabularDataset.create_model(str(csv_file))
    with pytest.raises(InvalidMetadata, match=r"unknown column\(s\) \['z', 'w'\]") as info:
        getattr(model, role)(["x", "z", "w"])
    field = "dataset.inputs" if role == "mark_inputs" else "dataset.labels"
    assert info.value.field == field
    assert "'label'" in str(info.value)  # lists the real columns
    with pytest.raises(InvalidMetadata, match="listed twice"):
        getattr(model, role)(["x", "x"])
    with pytest.raises(InvalidMetadata, match="add them with add_column"):
        getattr(DatasetModel(), role)(["x"])


def test_column_errors(csv_file: Path) -> None:
    model = TabularDataset.create_model(str(csv_file))
    with pytest.raises(InvalidMetadata, match="column 'x' exists already"):
        model.add_column("x", data_type="float")
    with pytest.raises(InvalidMetadata, match=r"no column named 'z'; the columns are \['x'"):
        model.annotate_column("z", "missing")
    with pytest.raises(InvalidMetadata, match="non-empty"):
        model.annotate_column("x", data_type="  ")
    with pytest.raises(InvalidMetadata, match="dataset.format"):
        model.set_format("")
    untyped = DatasetModel().set_title("t").set_name("t").add_column("a", "no type given")
    with pytest.raises(InvalidMetadata, match=r"columns \['a'\] have no data type") as info:
        untyped.to_dict()
    assert info.value.field == "dataset.columns"


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        (CSV, {"sep": r"\s+"}, "one-character separator"),
        (CSV, {"skiprows": -1}, "skiprows"),
        (CSV, {"header": 5}, "has no header row 5"),
        (CSV, {"header": "first"}, "header must be"),
        (CSV, {"encoding": "klingon"}, "unknown encoding"),
        (",b\n1,2\n", {}, "empty column names"),
        ("", {}, "has no header row 0"),
    ],
)
def test_unreadable_files_give_clear_errors(
    tmp_path: Path, content: str, kwargs: dict[str, Any], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidMetadata, match=message):
        TabularDataset.create_model(str(path), read_kwargs=kwargs)


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("température\n1\n".encode("latin-1"))
    with pytest.raises(InvalidMetadata, match="is not utf-8 text"):
        TabularDataset.create_model(str(path))
    assert TabularDataset.create_model(str(path), read_kwargs={"encoding": "latin-1"}).columns == [
        "température"
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        TabularDataset.create_model(str(tmp_path / "missing.csv"))


def test_round_trip_and_registry(csv_file: Path) -> None:
    document = _described(csv_file).to_dict()
    loaded = unserialize_object(document)
    assert type(loaded) is DatasetModel
    assert loaded.to_dict() == document
    tabular = TabularDataset.from_dict(document)
    assert type(tabular) is TabularDataset and tabular.to_dict() == document
    assert isinstance(BaseMetadataModel.from_dict(document), DatasetModel)


def test_documents_with_roles_naming_unknown_columns_do_not_load(csv_file: Path) -> None:
    document = _described(csv_file).to_dict()
    document["dataset"]["labels"] = ["nope"]
    with pytest.raises(InvalidMetadata, match=r"labels: unknown column\(s\) \['nope'\]"):
        DatasetModel.from_dict(document)
    document["dataset"]["labels"] = []
    document["dataset"]["columns"].append({"name": "x", "type": "float"})
    with pytest.raises(InvalidMetadata, match=r"repeated: \['x'\]"):
        DatasetModel.from_dict(document)


def test_a_dataset_is_not_a_servable(csv_file: Path) -> None:
    from dlhub_sdk.models.servables import BaseServableModel

    with pytest.raises(InvalidMetadata, match="not a BaseServableModel"):
        BaseServableModel.from_dict(_described(csv_file).to_dict())


def test_no_pandas_needed(csv_file: Path) -> None:
    # pandas may be installed here; the point is that reading a header never imports it
    code = (
        "import sys\n"
        "from dlhub_sdk.models.datasets import TabularDataset\n"
        f"print(TabularDataset.create_model({str(csv_file)!r}).columns)\n"
        "assert 'pandas' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "['x', 'y', 'label', 'flag', 'note']" in result.stdout


def test_columns_appended_in_place_are_kept() -> None:
    model = DatasetModel().set_title("t").set_name("t")
    model.dataset.columns.append(DatasetColumn(name="a", type="float"))
    model.mark_inputs("a").set_format("csv")
    assert model.to_dict()["dataset"] == {
        "format": "csv",
        "columns": [{"name": "a", "type": "float"}],
        "inputs": ["a"],
    }
