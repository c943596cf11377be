"""The SDK's own JSON schemas: bundled, self-consistent, strict, and in step with the models.

Documents the SDK writes must match both these schemas and the original DLHub
ones (``reference_validate``). The one planned difference: visibility limited to
local users or groups (``user:alice``, ``group:lab``) cannot match the original
``visible_to`` pattern, which knows only ``public`` and Globus URNs, so those
documents are checked against our schemas only.
"""

from __future__ import annotations

import collections
import copy
import json
import pickle
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dlhub_sdk.exceptions import (
    InvalidArgumentType,
    InvalidMetadata,
    SchemaProblem,
    SchemaValidationError,
)
from dlhub_sdk.models._argument_types import make_argument_type
from dlhub_sdk.models.servables.python import PythonClassMethodModel, PythonStaticMethodModel
from dlhub_sdk.utils.schemas import (
    get_schema,
    list_schema_names,
    schema_name_for,
    validate_against_dlhub_schema,
    validate_document,
)

USER_UUID = "6f2b3c2e-1d2a-4b7e-9a5e-0c1d2e3f4a5b"
GROUP_UUID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ALL_SCHEMAS = {"servable", "dataset", "pipeline", "datacite", "dlhub", "method", "argument_type"}


def _static_model() -> PythonStaticMethodModel:
    return (
        PythonStaticMethodModel.create_model("numpy", "max", function_kwargs={"axis": 0})
        .set_inputs("ndarray", "Matrix", shape=[None, 3])
        .set_outputs("ndarray", "Maximum of each column", shape=[3])
        .set_title("Column maximum")
        .set_name("column_max")
        .set_creators(["Ward, Logan", "Argonne National Laboratory"], [["UChicago"], []])
        .set_abstract("Finds the maximum of each column")
        .set_domains(["materials science"])
        .add_related_resource("10.5555/paper", "DOI", "IsDescribedBy")
        .add_rights("https://spdx.org/licenses/MIT", "MIT")
        .add_funding_reference("DOE", "https://ror.org/x", "Other", "DE-1", "Award", "https://a")
        .add_alternate_identifier("local-7", "Local")
        .add_requirement("numpy", "2.0.0")
        .add_requirement("scipy")
    )


def _class_model(tmp_path: Path) -> PythonClassMethodModel:
    path = tmp_path / "counter.pkl"
    path.write_bytes(pickle.dumps(collections.Counter("abracadabra")))
    return (
        PythonClassMethodModel.create_model(str(path), "most_common", {"n": 2})
        .set_inputs("integer", "How many letters")
        .set_outputs(
            "list",
            "Letters and counts",
            item_type={"type": "tuple", "element_types": ["string", "integer"]},
        )
        .set_title("Letter counts")
        .set_name("letters")
    )


# ----------------------------------------------------------------------- the bundle


def test_every_schema_is_bundled_as_package_data() -> None:
    assert set(list_schema_names()) == ALL_SCHEMAS
    assert list_schema_names()[:3] == ["servable", "dataset", "pipeline"]
    folder = resources.files("dlhub_sdk") / "schemas"
    bundled = {entry.name for entry in folder.iterdir() if entry.name.endswith(".json")}
    assert bundled == {f"{name}.json" for name in ALL_SCHEMAS}


@pytest.mark.parametrize("name", sorted(ALL_SCHEMAS))
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = get_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["description"]


def test_refs_resolve_locally_without_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("schema validation tried to use the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    validate_against_dlhub_schema(_static_model(), "servable")


def test_get_schema_returns_a_copy() -> None:
    get_schema("dlhub")["properties"].clear()
    assert "visible_to" in get_schema("dlhub")["properties"]


def test_unknown_schema_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown schema 'servables'") as info:
        validate_against_dlhub_schema({}, "servables")
    for name in ALL_SCHEMAS:
        assert name in str(info.value)


def test_original_schema_names_are_aliases() -> None:
    model = _static_model()
    validate_against_dlhub_schema(model["datacite"], "datacite-v4.1")
    validate_against_dlhub_schema(model.to_dict()["servable"]["methods"]["run"], "servable/method")
    validate_against_dlhub_schema({"type": "string"}, "servable/argument_type.json")


def test_documents_that_are_not_dicts_are_refused() -> None:
    with pytest.raises(TypeError, match="must be a dict or a metadata model"):
        validate_against_dlhub_schema([1, 2], "servable")  # type: ignore[arg-type]


# ----------------------------------------------------------------------- SDK documents


def test_static_method_document_matches_ours_and_the_reference(reference_validate: Any) -> None:
    document = _static_model().to_dict()
    validate_against_dlhub_schema(document, "servable")
    reference_validate(document, "servable")


def test_class_method_document_matches_ours_and_the_reference(
    tmp_path: Path, reference_validate: Any
) -> None:
    model = _class_model(tmp_path)
    document = model.to_dict()
    validate_against_dlhub_schema(model, "servable")
    reference_validate(document, "servable")
    simplified = model.to_dict(simplify_paths=True)
    assert simplified["dlhub"]["files"] == {"pickle": "counter.pkl"}
    validate_against_dlhub_schema(simplified, "servable")
    reference_validate(simplified, "servable")


def test_globus_visibility_matches_ours_and_the_reference(reference_validate: Any) -> None:
    document = _static_model().set_visibility(users=[USER_UUID], groups=[GROUP_UUID]).to_dict()
    assert document["dlhub"]["visible_to"] == [
        f"urn:globus:auth:identity:{USER_UUID}",
        f"urn:globus:groups:id:{GROUP_UUID}",
    ]
    validate_against_dlhub_schema(document, "servable")
    reference_validate(document, "servable")


def test_local_user_visibility_matches_ours_only(reference_validate: Any) -> None:
    document = _static_model().set_visibility(users=["alice"], groups=["lab"]).to_dict()
    assert document["dlhub"]["visible_to"] == ["user:alice", "group:lab"]
    validate_against_dlhub_schema(document, "servable")
    # The documented deviation: the original pattern knows only "public" and Globus URNs
    with pytest.raises(AssertionError, match="visible_to"):
        reference_validate(document, "servable")


@pytest.mark.parametrize(
    "entry",
    [
        "public",
        "user:alice",
        "group:materials-lab",
        f"urn:globus:auth:identity:{USER_UUID}",
        f"urn:globus:groups:id:{GROUP_UUID.upper()}",
    ],
)
def test_accepted_visibility_entries(entry: str) -> None:
    document = _static_model().to_dict()
    document["dlhub"]["visible_to"] = [entry]
    validate_against_dlhub_schema(document, "servable")


@pytest.mark.parametrize(
    "entry",
    [
        "alice",
        "xpublic",  # the original pattern, anchored on one side only, takes this
        "user:",
        "user:al ice",
        "group:a:b",
        "urn:globus:auth:identity:not-a-uuid",
        "Public",
        "",
    ],
)
def test_refused_visibility_entries(entry: str) -> None:
    document = _static_model().to_dict()
    document["dlhub"]["visible_to"] = [entry]
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema(document, "servable")
    assert [e.path for e in info.value.errors] == ["dlhub.visible_to.0"]


def test_empty_visibility_is_refused() -> None:
    document = _static_model().to_dict()
    document["dlhub"]["visible_to"] = []
    with pytest.raises(SchemaValidationError, match=r"dlhub\.visible_to"):
        validate_against_dlhub_schema(document, "servable")


def _published(document: dict[str, Any]) -> dict[str, Any]:
    published = copy.deepcopy(document)
    published["dlhub"].update(
        owner="alice",
        id="0b5c3f8e-7a54-4a57-9a8f-2f3b7c9d1e00",
        shorthand_name="alice/column_max",
        publication_date=1_717_171_717_171,
        servable_version=3,
        file_hashes={"app.py": "a" * 64},
        environment={"python": "3.11.7", "requirements": {"numpy": "2.0.0"}},
    )
    return published


def test_fields_added_by_the_hub_are_accepted() -> None:
    validate_against_dlhub_schema(_published(_static_model().to_dict()), "servable")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("publication_date", "2024-06-01"),
        ("publication_date", 1.5),
        ("servable_version", 0),
        ("servable_version", "3"),
        ("file_hashes", {"app.py": "not-a-sha256"}),
        ("shorthand_name", "column_max"),
        ("owner", "alice/bob"),
        ("environment", "python 3.11"),
    ],
)
def test_malformed_hub_fields_are_refused(field: str, value: Any) -> None:
    document = _published(_static_model().to_dict())
    document["dlhub"][field] = value
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema(document, "servable")
    assert all(e.path.startswith(f"dlhub.{field}") for e in info.value.errors), info.value.errors


# ----------------------------------------------------------------------- error reports


def test_every_problem_is_listed_with_its_dotted_path() -> None:
    document = _static_model().to_dict()
    document["datacite"]["titles"] = [{"titleType": "Subtitle"}]
    document["datacite"]["publicationYear"] = "21"
    document["dlhub"]["colour"] = "blue"
    document["dlhub"]["name"] = "has space"
    document["servable"]["methods"]["run"]["output"] = {"type": "ndarray"}
    document["servable"]["shim"] = "keras.KerasServable"
    del document["servable"]["methods"]["run"]["input"]
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema(document, "servable")
    error = info.value
    paths = [problem.path for problem in error.errors]
    assert paths == sorted(paths)
    assert set(paths) == {
        "datacite.publicationYear",
        "datacite.titles.0.title",
        "dlhub.colour",
        "dlhub.name",
        "servable.methods.run.input",
        "servable.methods.run.output.shape",
        "servable.shim",
    }
    for path in paths:
        assert path in str(error)
    assert "7 problems" in str(error)
    problems = dict(error.errors)
    assert problems["datacite.titles.0.title"] == "is required but missing"
    assert "allowed here" in problems["dlhub.colour"] and "visible_to" in problems["dlhub.colour"]
    assert "python.PythonStaticMethodServable" in problems["servable.shim"]
    assert error.field == "datacite.publicationYear"
    assert error.schema_name == "servable"
    assert isinstance(error, InvalidMetadata) and isinstance(error, ValueError)
    assert isinstance(error.errors[0], SchemaProblem) and error.errors[0].field == error.field


def test_the_error_survives_pickling() -> None:
    error = SchemaValidationError("dataset", [("dataset.columns.0.type", "is required")])
    copy_ = pickle.loads(pickle.dumps(error))
    assert copy_.errors == error.errors and str(copy_) == str(error)


def test_incomplete_model_reports_everything_missing() -> None:
    model = PythonStaticMethodModel.create_model("numpy", "max")
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema(model, "servable")
    paths = {problem.path for problem in info.value.errors}
    assert {"dlhub.name", "servable.methods.run.input", "servable.methods.run.output"} <= paths
    assert any(path.startswith("datacite.titles") for path in paths)


def test_document_kind_must_match_the_schema() -> None:
    document = _static_model().to_dict()
    document["dlhub"]["type"] = "dataset"
    with pytest.raises(SchemaValidationError, match=r"dlhub\.type: must be 'servable'"):
        validate_against_dlhub_schema(document, "servable")
    with pytest.raises(SchemaValidationError, match=r"servable: is not an allowed field"):
        validate_against_dlhub_schema(document, "dataset")


def test_validate_document_picks_the_schema() -> None:
    document = _static_model().to_dict()
    assert schema_name_for(document) == "servable"
    assert validate_document(document) == "servable"
    assert schema_name_for({"dlhub": {"type": "pipeline"}}) == "pipeline"
    with pytest.raises(InvalidMetadata, match="no 'servable', 'dataset' or 'pipeline' block"):
        validate_document({"dlhub": {}})


def test_stricter_than_the_reference_where_it_is_sloppy(reference_validate: Any) -> None:
    document = _static_model().to_dict()
    document["datacite"]["creators"] = [{"givenName": "Logan"}]  # no creatorName
    document["servable"]["methods"]["run"]["parameters"] = {"not an identifier": 1}
    document["servable"]["methods"]["run"]["colour"] = "blue"
    reference_validate(document, "servable", ours=False)  # the original accepts all of it
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema(document, "servable")
    paths = {problem.path for problem in info.value.errors}
    assert paths == {
        "datacite.creators.0.creatorName",
        "servable.methods.run.colour",
        "servable.methods.run.parameters",
    }


# ----------------------------------------------------------------------- parts


def test_blocks_of_a_model_validate_against_the_part_schemas() -> None:
    model = _static_model()
    validate_against_dlhub_schema(model["datacite"], "datacite")
    validate_against_dlhub_schema(model["dlhub"], "dlhub")
    validate_against_dlhub_schema(model.method("run"), "method")
    validate_against_dlhub_schema(model.method("run").input, "argument_type")  # type: ignore[arg-type]


def test_datacite_part_requires_the_datacite_mandatory_fields() -> None:
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema({"titles": []}, "datacite")
    paths = {problem.path for problem in info.value.errors}
    assert paths == {
        "identifier",
        "creators",
        "titles",
        "publisher",
        "publicationYear",
        "resourceType",
    }


def test_rights_need_a_text_or_a_uri() -> None:
    block = _static_model()["datacite"].as_dict()
    block["rightsList"] = [{"lang": "en"}]
    with pytest.raises(
        SchemaValidationError, match="at least one of the fields: rights, rightsURI"
    ):
        validate_against_dlhub_schema(block, "datacite")


# Argument types: the schema and the SDK's own checks agree on every rule of chapter 5
FILE = {"type": "file", "file_types": ["text/csv"]}
ARGUMENT_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("string", {"type": "string", "description": "Text"}, True),
    ("ndarray", {"type": "ndarray", "shape": [None, 4]}, True),
    ("ndarray without shape", {"type": "ndarray"}, False),
    ("zero dimension", {"type": "ndarray", "shape": [0]}, False),
    ("list", {"type": "list", "item_type": {"type": "float"}}, True),
    ("list without item type", {"type": "list"}, False),
    ("tuple", {"type": "tuple", "element_types": [{"type": "integer"}, {"type": "string"}]}, True),
    ("empty tuple", {"type": "tuple", "element_types": []}, False),
    ("dict", {"type": "dict", "properties": {"a": {"type": "float"}}}, True),
    ("dict without properties", {"type": "dict"}, False),
    ("python object", {"type": "python object", "python_type": "pandas.DataFrame"}, True),
    ("python object without its type", {"type": "python object"}, False),
    ("unknown type", {"type": "matrix"}, False),
    ("file", FILE, True),
    ("bad MIME type", {"type": "file", "file_types": ["csv"]}, False),
    ("list of files", {"type": "list", "item_type": FILE}, True),
    (
        "tuple with files",
        {
            "type": "tuple",
            "element_types": [FILE, {"type": "list", "item_type": FILE}, {"type": "float"}],
        },
        True,
    ),
    (
        "list of lists of files",
        {"type": "list", "item_type": {"type": "list", "item_type": FILE}},
        False,
    ),
    ("file in a dict", {"type": "dict", "properties": {"f": FILE}}, False),
    (
        "file in a nested tuple",
        {"type": "tuple", "element_types": [{"type": "tuple", "element_types": [FILE]}]},
        False,
    ),
    (
        "list of tuples of files",
        {"type": "list", "item_type": {"type": "tuple", "element_types": [FILE]}},
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "block", "valid"), ARGUMENT_CASES, ids=[c[0] for c in ARGUMENT_CASES]
)
def test_argument_type_schema_agrees_with_the_sdk(
    case: str, block: dict[str, Any], valid: bool
) -> None:
    if valid:
        validate_against_dlhub_schema(block, "argument_type")
        make_argument_type(block)
    else:
        with pytest.raises(SchemaValidationError):
            validate_against_dlhub_schema(block, "argument_type")
        with pytest.raises(InvalidArgumentType):
            make_argument_type(block)


def test_nested_file_error_names_the_rule() -> None:
    block = {"type": "dict", "properties": {"f": FILE}}
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema(block, "argument_type")
    (problem,) = info.value.errors
    assert problem.path == "properties.f.type"
    assert "not part of a dict" in problem.message


def test_schema_files_are_our_own_not_the_reference() -> None:
    ours = {json.dumps(get_schema(name), sort_keys=True) for name in ALL_SCHEMAS}
    reference = Path(__file__).resolve().parents[3] / "shared" / "reference" / "dlhub_schemas"
    if not reference.is_dir():
        pytest.skip("reference schemas not found")
    for path in reference.rglob("*.json"):
        assert json.dumps(json.loads(path.read_text()), sort_keys=True) not in ours
