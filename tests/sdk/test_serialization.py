"""Saving and loading documents: JSON and YAML round trips, malformed documents, and
documents written for the original DLHub (by its SDKs 0.x to 2.x), which must still load."""

from __future__ import annotations

import collections
import copy
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dlhub_sdk.exceptions import InvalidMetadata, UnknownServableType
from dlhub_sdk.models import BaseMetadataModel
from dlhub_sdk.models.datasets import DatasetModel, TabularDataset
from dlhub_sdk.models.pipeline import PipelineModel
from dlhub_sdk.models.servables.python import PythonClassMethodModel, PythonStaticMethodModel
from dlhub_sdk.utils import unserialize_object
from dlhub_sdk.utils.schemas import validate_against_dlhub_schema, validate_document


def _static(tmp_path: Path) -> BaseMetadataModel:
    return (
        PythonStaticMethodModel.create_model("numpy", "linalg.norm", function_kwargs={"ord": 2})
        .set_inputs("ndarray", "Vector", shape=[None])
        .set_outputs("float", "Norm")
        .set_title("Vector norm")
        .set_name("norm")
        .set_creators(["Ward, Logan"], [["Argonne"]])
        .set_abstract("Computes a norm")
        .add_requirement("numpy", "2.0.0")
        .set_visibility(users=["alice"])
    )


def _class_method(tmp_path: Path) -> BaseMetadataModel:
    path = tmp_path / "counter.pkl"
    path.write_bytes(pickle.dumps(collections.Counter("mississippi")))
    return (
        PythonClassMethodModel.create_model(str(path), "most_common")
        .set_inputs("integer", "How many")
        .set_outputs(
            "list", "Counts", item_type={"type": "tuple", "element_types": ["string", "integer"]}
        )
        .set_title("Letters")
        .set_name("letters")
        .set_domains("linguistics")
    )


def _dataset(tmp_path: Path) -> BaseMetadataModel:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,x\n")
    return (
        TabularDataset.create_model(str(path))
        .set_title("Data")
        .set_name("data")
        .mark_inputs(["a"])
        .annotate_column("b", "Letters", units="none")
    )


def _pipeline(tmp_path: Path) -> BaseMetadataModel:
    return (
        PipelineModel.create_model()
        .set_title("Chain")
        .set_name("chain")
        .add_step("alice/norm", parameters={"ord": 1})
        .add_step("bob/scale:2", "Scale")
    )


BUILDERS: dict[str, tuple[Callable[[Path], BaseMetadataModel], str]] = {
    "static method": (_static, "servable"),
    "class method": (_class_method, "servable"),
    "dataset": (_dataset, "dataset"),
    "pipeline": (_pipeline, "pipeline"),
}


@pytest.mark.parametrize("kind", list(BUILDERS))
@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_save_and_load_round_trip(tmp_path: Path, kind: str, suffix: str) -> None:
    build, schema = BUILDERS[kind]
    model = build(tmp_path)
    path = tmp_path / f"dlhub{suffix}"
    model.save(path)
    assert not list(tmp_path.glob("*.tmp"))  # written atomically
    text = path.read_text()
    on_disk = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    assert on_disk == model.to_dict()
    loaded = BaseMetadataModel.load(path)
    assert type(loaded) is type(model) or (kind == "dataset" and type(loaded) is DatasetModel)
    assert loaded.to_dict() == model.to_dict()
    validate_against_dlhub_schema(loaded, schema)
    # and a second round changes nothing
    loaded.save(path)
    assert BaseMetadataModel.load(path).to_dict() == model.to_dict()


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_sdk_documents_match_our_schema_and_the_reference(
    tmp_path: Path, kind: str, reference_validate: Any
) -> None:
    build, schema = BUILDERS[kind]
    model = build(tmp_path)
    assert validate_document(model) == schema
    document = model.to_dict(simplify_paths=True)
    # The original visible_to pattern cannot express local users: compare public documents
    document["dlhub"]["visible_to"] = ["public"]
    reference_validate(document, schema)


def test_simplified_paths_survive_a_round_trip(tmp_path: Path) -> None:
    model = _class_method(tmp_path)
    path = tmp_path / "dlhub.json"
    model.save(path, simplify_paths=True)
    loaded = BaseMetadataModel.load(path)
    assert loaded.dlhub.files == {"pickle": "counter.pkl"}


def test_item_edits_are_saved(tmp_path: Path) -> None:
    model = _static(tmp_path)
    model["servable"]["methods"]["run"]["output"]["description"] = "Euclidean norm"  # type: ignore[index]
    model.save(tmp_path / "dlhub.json")
    loaded = BaseMetadataModel.load(tmp_path / "dlhub.json")
    assert (
        loaded.to_dict()["servable"]["methods"]["run"]["output"]["description"] == "Euclidean norm"
    )


# ----------------------------------------------------------------------- malformed documents


def _document(tmp_path: Path) -> dict[str, Any]:
    return _static(tmp_path).to_dict()


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("titles not a list", lambda d: d["datacite"].update(titles="Norm"), "datacite.titles"),
    (
        "title empty",
        lambda d: d["datacite"].update(titles=[{"title": ""}]),
        "datacite.titles.0.title",
    ),
    (
        "bad relation",
        lambda d: d["datacite"].update(
            relatedIdentifiers=[
                {"relatedIdentifier": "x", "relatedIdentifierType": "DOI", "relationType": "Likes"}
            ]
        ),
        "datacite.relatedIdentifiers.0.relationType",
    ),
    ("name with a space", lambda d: d["dlhub"].update(name="vector norm"), "dlhub.name"),
    ("no visibility", lambda d: d["dlhub"].update(visible_to=[]), "dlhub.visible_to"),
    ("files not a dict", lambda d: d["dlhub"].update(files=["a.py"]), "dlhub.files"),
    (
        "unknown argument type",
        lambda d: d["servable"]["methods"]["run"].update(input={"type": "matrix"}),
        "servable.methods.run.input",
    ),
    (
        "ndarray without shape",
        lambda d: d["servable"]["methods"]["run"].update(output={"type": "ndarray"}),
        "servable.methods.run.output",
    ),
    ("methods not a dict", lambda d: d["servable"].update(methods=["run"]), "servable.methods"),
]


@pytest.mark.parametrize(("case", "change", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_documents_name_the_field(
    tmp_path: Path, case: str, change: Callable[[dict[str, Any]], Any], field: str
) -> None:
    document = _document(tmp_path)
    change(document)
    with pytest.raises(InvalidMetadata) as info:
        BaseMetadataModel.from_dict(document)
    assert field in str(info.value)


def test_unknown_servable_type(tmp_path: Path) -> None:
    document = _document(tmp_path)
    document["servable"].update(type="Julia function", shim="julia.JuliaServable")
    with pytest.raises(
        UnknownServableType, match="servable.type: unknown servable type 'Julia function'"
    ):
        unserialize_object(document)


def test_document_of_another_kind(tmp_path: Path) -> None:
    with pytest.raises(InvalidMetadata, match="not a PipelineModel"):
        PipelineModel.from_dict(_document(tmp_path))
    with pytest.raises(InvalidMetadata, match="no 'servable', 'dataset' or 'pipeline' block"):
        BaseMetadataModel.from_dict({"datacite": {}, "dlhub": {"name": "x"}})
    with pytest.raises(InvalidMetadata, match="a DLHub document is a dict"):
        unserialize_object(["not", "a", "document"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("broken.json", '{"datacite": ', "is not valid JSON"),
        ("list.json", "[1, 2]", "does not hold a DLHub document"),
        ("list.yaml", "- 1\n- 2\n", "does not hold a DLHub document"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidMetadata, match=message) as info:
        BaseMetadataModel.load(path)
    assert name in str(info.value)


# ----------------------------------------------------------------------- the original DLHub

#: Written by the original SDK (0.x): requirements and language in the servable block,
#: creators without creatorName, a lone affiliation as a string, a null DOI-less title list.
LEGACY_STATIC_METHOD = """
{
  "datacite": {
    "creators": [
      {"givenName": "Logan", "familyName": "Ward", "affiliations": "University of Chicago"},
      {"familyName": "Materials Data Facility", "affiliations": []}
    ],
    "titles": [{"title": "Norm of a vector"}],
    "publisher": "DLHub",
    "publicationYear": "2019",
    "identifier": {"identifier": "10.YET/UNASSIGNED", "identifierType": "DOI"},
    "descriptions": [{"description": "Computes the L1 norm", "descriptionType": "Abstract"}],
    "fundingReferences": [],
    "relatedIdentifiers": [
      {"relatedIdentifier": "10.1038/sdata.2016.18", "relatedIdentifierType": "DOI", "relationType": "IsDescribedBy"}
    ],
    "alternateIdentifiers": [],
    "rightsList": [],
    "resourceType": {"resourceTypeGeneral": "InteractiveResource"}
  },
  "dlhub": {
    "version": "0.8.4",
    "domains": ["general"],
    "visible_to": ["public"],
    "name": "1d_norm",
    "files": {},
    "type": "servable"
  },
  "servable": {
    "methods": {
      "run": {
        "input": {"type": "ndarray", "description": "Array to be normed", "shape": [null]},
        "output": {"type": "number", "description": "Norm of the array"},
        "parameters": {"ord": 1},
        "method_details": {"module": "numpy.linalg", "method_name": "norm", "autobatch": false}
      }
    },
    "shim": "python.PythonStaticMethodServable",
    "type": "Python static method",
    "language": "python",
    "dependencies": {"python": {"numpy": "1.15.4"}}
  }
}
"""

#: Written by SDK 2.x (pydantic): requirements in dlhub.dependencies, creators without
#: creatorName but with empty nameIdentifiers, an empty publication year for the hub to fill,
#: Globus URNs for visibility, a class method with a pickle by role.
LEGACY_CLASS_METHOD = """
{
  "dlhub": {
    "version": "2.0.3",
    "domains": ["materials science"],
    "visible_to": ["urn:globus:groups:id:fdb38a24-03c1-11e3-86f7-12313809f035"],
    "name": "formation_enthalpy",
    "files": {"pickle": "model.pkl", "other": ["featurizer.py"]},
    "dependencies": {"python": {"scikit-learn": "0.24.2", "matminer": "0.7.4"}},
    "type": "servable"
  },
  "datacite": {
    "identifier": {"identifier": "10.datacite/placeholder", "identifierType": "DOI"},
    "creators": [
      {"nameIdentifiers": [], "affiliations": ["Argonne National Laboratory"], "familyName": "Ward", "givenName": "Logan"}
    ],
    "titles": [{"title": "Formation enthalpy predictor"}],
    "publisher": "DLHub",
    "publicationYear": "",
    "subjects": [],
    "contributors": [],
    "descriptions": [],
    "alternateIdentifiers": [],
    "relatedIdentifiers": [],
    "rightsList": [{"rightsURI": "https://spdx.org/licenses/Apache-2.0", "rights": "Apache 2.0"}],
    "fundingReferences": [],
    "resourceType": {"resourceType": "", "resourceTypeGeneral": "InteractiveResource"}
  },
  "servable": {
    "type": "Python class method",
    "shim": "python.PythonClassMethodServable",
    "methods": {
      "run": {
        "input": {"type": "list", "description": "Compositions", "item_type": {"type": "string"}},
        "output": {"type": "ndarray", "description": "Enthalpies (eV/atom)", "shape": [null]},
        "parameters": {},
        "method_details": {"method_name": "predict", "class_name": "sklearn.pipeline.Pipeline"}
      }
    }
  }
}
"""

#: Written by the original TabularDataset.
LEGACY_DATASET = """
{
  "datacite": {
    "titles": [{"title": "Example dataset"}], "creators": [], "publisher": "DLHub",
    "resourceType": {"resourceTypeGeneral": "Dataset"}, "publicationYear": "2018",
    "identifier": {"identifier": "10.YET/UNASSIGNED", "identifierType": "DOI"},
    "descriptions": [], "fundingReferences": [], "relatedIdentifiers": [],
    "alternateIdentifiers": [], "rightsList": []
  },
  "dlhub": {"version": "0.3.0", "visible_to": ["public"], "domains": [], "name": "example_dataset",
            "type": "dataset", "files": {"data": "test.csv"}},
  "dataset": {
    "columns": [{"name": "x", "description": "Input variable", "type": "integer", "units": "cm"},
                {"name": "y", "type": "scalar"}],
    "inputs": ["x"], "labels": ["y"], "format": "csv", "read_options": {}
  }
}
"""


def test_original_static_method_document_loads(tmp_path: Path, reference_validate: Any) -> None:
    path = tmp_path / "dlhub.json"
    path.write_text(LEGACY_STATIC_METHOD)
    model = BaseMetadataModel.load(path)
    assert isinstance(model, PythonStaticMethodModel)
    assert model.requirements == {"numpy": "1.15.4"}
    assert model.name == "1d_norm"
    creators = model.datacite.creators
    assert [c.creatorName for c in creators] == ["Ward, Logan", "Materials Data Facility"]
    assert creators[0].affiliations == ["University of Chicago"]
    document = model.to_dict()
    assert "language" not in document["servable"] and "dependencies" not in document["servable"]
    assert document["servable"]["methods"]["run"]["method_details"]["module"] == "numpy.linalg"
    validate_against_dlhub_schema(document, "servable")
    reference_validate(document, "servable")


def test_original_class_method_document_loads(reference_validate: Any) -> None:
    model = unserialize_object(json.loads(LEGACY_CLASS_METHOD))
    assert isinstance(model, PythonClassMethodModel)
    assert model.requirements == {"scikit-learn": "0.24.2", "matminer": "0.7.4"}
    assert model.list_files() == ["model.pkl", "featurizer.py"]
    assert model.datacite.creators[0].creatorName == "Ward, Logan"
    document = model.to_dict()
    assert document["datacite"]["publicationYear"].isdigit()  # filled in, as the hub did
    assert document["dlhub"]["visible_to"] == [
        "urn:globus:groups:id:fdb38a24-03c1-11e3-86f7-12313809f035"
    ]
    validate_against_dlhub_schema(document, "servable")
    reference_validate(document, "servable")
    # reloading what we wrote changes nothing
    assert unserialize_object(document).to_dict() == document


def test_original_dataset_document_loads(reference_validate: Any) -> None:
    original = json.loads(LEGACY_DATASET)
    model = DatasetModel.from_dict(copy.deepcopy(original))
    assert model.dataset.inputs == ["x"] and model.get_column("y").type == "scalar"
    document = model.to_dict()
    assert document["dlhub"].pop("dependencies") == {"python": {}}  # the one addition
    assert document == original
    document = model.to_dict()
    validate_against_dlhub_schema(document, "dataset")
    reference_validate(document, "dataset")


def test_original_documents_as_written_differ_from_our_schema() -> None:
    # Why the loader rewrites them: read raw, they break rules our schema enforces
    with pytest.raises(InvalidMetadata) as info:
        validate_against_dlhub_schema(json.loads(LEGACY_STATIC_METHOD), "servable")
    paths = {problem.path for problem in info.value.errors}  # type: ignore[attr-defined]
    assert {
        "servable.language",
        "servable.dependencies",
        "datacite.creators.0.creatorName",
    } <= paths
