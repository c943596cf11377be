"""The metadata core: setters, files, requirements, errors, round trips."""

from __future__ import annotations

import json
import socket
import zipfile
from pathlib import Path

import pytest

from dlhub_sdk.exceptions import InvalidMetadata, RequirementError, UnknownServableType
from dlhub_sdk.models import BaseMetadataModel, DLHubType
from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from dlhub_sdk.utils import unserialize_object


def _model() -> PythonStaticMethodModel:
    model = PythonStaticMethodModel.create_model("numpy", "max", function_kwargs={"axis": 0})
    model.set_inputs("ndarray", "Matrix", shape=[None, None])
    model.set_outputs("ndarray", "Max", shape=[None])
    return model


def test_setters_chain_and_fill_the_document() -> None:
    model = (
        _model()
        .set_title("Maximum")
        .set_name("numpy_max")
        .set_creators(["Ward, Logan", "Chard, Ryan"], [["Argonne"], ["UChicago", "Argonne"]])
        .set_abstract("Finds a maximum")
        .set_methods("Calls numpy")
        .set_abstract("Finds the maximum")
        .set_domains(["chemistry", "materials science"])
        .set_doi("10.1234/abcd")
        .set_publication_year(2021)
        .set_version("1.0")
        .add_related_resource("10.5555/paper", "DOI", "IsDescribedBy")
        .add_rights(uri="https://spdx.org/licenses/MIT", rights="MIT")
    )
    doc = model.to_dict()
    assert doc["datacite"]["titles"] == [{"title": "Maximum"}]
    assert doc["datacite"]["creators"][1] == {
        "creatorName": "Chard, Ryan",
        "familyName": "Chard",
        "givenName": "Ryan",
        "affiliations": ["UChicago", "Argonne"],
    }
    assert doc["datacite"]["descriptions"] == [
        {"description": "Calls numpy", "descriptionType": "Methods"},
        {"description": "Finds the maximum", "descriptionType": "Abstract"},
    ]
    assert doc["datacite"]["identifier"] == {"identifier": "10.1234/abcd", "identifierType": "DOI"}
    assert doc["datacite"]["publicationYear"] == "2021"
    assert doc["datacite"]["version"] == "1.0"
    assert doc["datacite"]["relatedIdentifiers"] == [
        {
            "relatedIdentifier": "10.5555/paper",
            "relatedIdentifierType": "DOI",
            "relationType": "IsDescribedBy",
        }
    ]
    assert doc["datacite"]["resourceType"] == {"resourceTypeGeneral": "InteractiveResource"}
    assert doc["dlhub"]["domains"] == ["chemistry", "materials science"]
    assert doc["dlhub"]["type"] == "servable"
    assert model.name == "numpy_max"


def test_item_access_edits_the_model() -> None:
    model = _model()
    model["servable"]["methods"]["run"]["output"]["description"] = "Response"
    model["datacite"]["publisher"] = "My lab"
    assert model.servable.methods["run"].output is not None
    assert model.servable.methods["run"].output.description == "Response"
    assert model.datacite.publisher == "My lab"
    with pytest.raises(KeyError):
        model["nonexistent"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda m: m.set_name("x"), "datacite.titles"),
        (lambda m: m.set_title("x"), "dlhub.name"),
    ],
)
def test_to_dict_names_the_missing_field(mutate, field: str) -> None:
    model = mutate(_model())
    with pytest.raises(InvalidMetadata) as info:
        model.to_dict()
    assert info.value.field == field
    assert field in str(info.value)


def test_to_dict_requires_inputs_and_outputs() -> None:
    model = PythonStaticMethodModel.create_model("numpy", "max").set_title("t").set_name("n")
    with pytest.raises(InvalidMetadata, match=r"servable\.methods\.run\.input.*set_inputs"):
        model.to_dict()
    model.set_inputs("float", "x")
    with pytest.raises(ValueError, match=r"servable\.methods\.run\.output"):
        model.to_dict()


@pytest.mark.parametrize("name", ["has space", "a/b", "a:b", "", "-lead"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidMetadata, match="dlhub.name"):
        _model().set_name(name)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.set_inputs("ndarray", "no shape"), "ndarray needs its shape"),
        (lambda m: m.set_inputs("list", "no item type"), "list needs item_type"),
        (lambda m: m.set_inputs("tuple", "no members"), "tuple needs element_types"),
        (lambda m: m.set_inputs("dict", "no keys"), "dict needs properties"),
        (lambda m: m.set_inputs("python object", "no type"), "python_type"),
        (lambda m: m.set_inputs("matrix", "unknown"), "unknown argument type 'matrix'"),
        (lambda m: m.set_inputs("ndarray", "neg", shape=[0, 3]), "dimension below 1"),
        (lambda m: m.set_inputs("file", "mime", file_types=["csv"]), "not a MIME type"),
    ],
)
def test_argument_rules_of_chapter_5(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(_model())


def test_file_placement_rules() -> None:
    from dlhub_sdk.utils.types import compose_argument_block as block

    file = block("file", "a file", file_types=["text/csv"])
    assert block("list", "files", item_type=file)["item_type"]["type"] == "file"
    assert block(
        "tuple", "mixed", element_types=[file, block("list", "files", item_type=file), "float"]
    )
    with pytest.raises(ValueError, match="not be part of a dict"):
        block("dict", "d", properties={"f": file})
    with pytest.raises(ValueError, match="nested lists"):
        block("list", "lol", item_type=block("list", "files", item_type=file))
    with pytest.raises(ValueError, match="nested deeper"):
        block("tuple", "t", element_types=[block("tuple", "inner", element_types=[file])])


def test_add_file_that_does_not_exist_names_it() -> None:
    with pytest.raises(FileNotFoundError, match="missing.pkl"):
        _model().add_file("missing.pkl")


def test_files_zip_with_common_root(tmp_path: Path) -> None:
    (tmp_path / "home" / "a").mkdir(parents=True)
    top = tmp_path / "home" / "a.pkl"
    deep = tmp_path / "home" / "a" / "b.dat"
    top.write_bytes(b"top")
    deep.write_bytes(b"deep")
    model = _model().set_title("t").set_name("n")
    model.add_file(str(top), name="pickle").add_file(str(deep))
    assert model.list_files() == [str(top), str(deep)]

    root = model.get_zip_file(tmp_path / "out.zip")
    assert root == str(tmp_path / "home")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert sorted(archive.namelist()) == ["a.pkl", "a/b.dat"]
        assert archive.read("a/b.dat") == b"deep"
    assert model.to_dict(simplify_paths=True)["dlhub"]["files"] == {
        "pickle": "a.pkl",
        "other": ["a/b.dat"],
    }
    assert model.to_dict()["dlhub"]["files"]["pickle"] == str(top)


def test_add_directory_include_exclude_recursive(tmp_path: Path) -> None:
    for rel in ["d/a.py", "d/b.txt", "d/sub/c.py", "d/sub/__pycache__/c.pyc"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    d = str(tmp_path / "d")
    assert [Path(p).name for p in _model().add_directory(d).list_files()] == ["a.py", "b.txt"]
    names = [
        Path(p).relative_to(d).as_posix()
        for p in _model().add_directory(d, recursive=True, exclude="*.pyc").list_files()
    ]
    assert names == ["a.py", "b.txt", "sub/c.py"]
    names = [
        Path(p).name
        for p in _model().add_directory(d, include=["*.py"], recursive=True).list_files()
    ]
    assert names == ["a.py", "c.py"]
    with pytest.raises(FileNotFoundError):
        _model().add_directory(str(tmp_path / "nope"))


def test_visibility() -> None:
    model = _model()
    assert model.dlhub.visible_to == ["public"]
    model.set_visibility(users=["alice"], groups=["lab", "7c9f5ad5-c9ee-4a0d-8e2e-2c1d7e1f3a21"])
    assert model.dlhub.visible_to == [
        "user:alice",
        "group:lab",
        "urn:globus:groups:id:7c9f5ad5-c9ee-4a0d-8e2e-2c1d7e1f3a21",
    ]
    assert model.set_visibility().dlhub.visible_to == ["public"]
    with pytest.raises(InvalidMetadata):
        model.set_visibility(users="alice")  # type: ignore[arg-type]


def test_related_resource_rejects_unknown_kinds() -> None:
    with pytest.raises(InvalidMetadata, match="relation types"):
        _model().add_related_resource("10.1/x", "DOI", "IsFriendOf")
    with pytest.raises(InvalidMetadata, match="identifier types"):
        _model().add_related_resource("10.1/x", "Email", "Cites")


def test_latest_offline_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DLHUB_PYPI_URL", f"http://127.0.0.1:{port}/pypi")
    with pytest.raises(RequirementError, match="unreachable.*'detect'"):
        _model().add_requirement("numpy", "latest")


def test_detect_of_missing_library_fails_clearly() -> None:
    with pytest.raises(RequirementError, match="not installed"):
        _model().add_requirement("surely_not_a_real_package_xyz", "detect")


def test_round_trip_and_unknown_type(tmp_path: Path) -> None:
    model = _model().set_title("t").set_name("n").add_requirement("numpy", ">=1.20")
    model.set_visibility(users=["bob"])
    again = BaseMetadataModel.from_dict(model.to_dict())
    assert again == model
    assert PythonStaticMethodModel.from_dict(model.to_dict()) == model
    assert unserialize_object(json.loads(json.dumps(model.to_dict()))) == model

    doc = model.to_dict()
    doc["servable"]["type"] = "Fortran Subroutine"
    doc["servable"]["shim"] = "fortran.Shim"
    with pytest.raises(UnknownServableType, match="Fortran Subroutine"):
        unserialize_object(doc)


def test_from_dict_names_bad_fields() -> None:
    doc = _model().set_title("t").set_name("n").to_dict()
    doc["servable"]["methods"]["run"]["input"] = {"type": "ndarray", "description": "no shape"}
    with pytest.raises(InvalidMetadata, match=r"servable\.methods\.run\.input.*shape"):
        unserialize_object(doc)
    with pytest.raises(InvalidMetadata, match="no 'servable'"):
        unserialize_object({"datacite": {}, "dlhub": {}})
    with pytest.raises(InvalidMetadata):
        unserialize_object(["not", "a", "dict"])  # type: ignore[arg-type]


def test_save_and_load_json_and_yaml(tmp_path: Path) -> None:
    model = _model().set_title("t").set_name("n")
    for name in ("dlhub.json", "dlhub.yaml"):
        model.save(tmp_path / name)
        assert BaseMetadataModel.load(tmp_path / name) == model
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InvalidMetadata, match="not valid JSON"):
        BaseMetadataModel.load(tmp_path / "broken.json")


def test_codemeta(tmp_path: Path) -> None:
    (tmp_path / "codemeta.json").write_text(
        json.dumps(
            {
                "@context": "https://doi.org/10.5063/schema/codemeta-2.0",
                "name": "My model",
                "description": "Predicts things",
                "version": "2.1",
                "license": "https://spdx.org/licenses/Apache-2.0",
                "keywords": ["chemistry"],
                "author": [
                    {
                        "givenName": "Ada",
                        "familyName": "Lovelace",
                        "affiliation": {"name": "Analytical Engines"},
                    }
                ],
                "codeRepository": "https://example.org/repo.git",
            }
        )
    )
    model = _model().set_name("n").read_codemeta_file(str(tmp_path))
    doc = model.to_dict()
    assert doc["datacite"]["titles"] == [{"title": "My model"}]
    assert doc["datacite"]["creators"][0]["creatorName"] == "Lovelace, Ada"
    assert doc["datacite"]["creators"][0]["affiliations"] == ["Analytical Engines"]
    assert doc["datacite"]["version"] == "2.1"
    assert doc["datacite"]["descriptions"][0]["descriptionType"] == "Abstract"


def test_dlhub_type_enum() -> None:
    assert [t.value for t in DLHubType] == ["dataset", "servable", "pipeline"]
