"""Describing pipelines: ordered steps naming published servables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dlhub_sdk.exceptions import InvalidMetadata, SchemaValidationError
from dlhub_sdk.models import BaseMetadataModel
from dlhub_sdk.models.pipeline import PipelineModel, PipelineStep, parse_servable_reference
from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from dlhub_sdk.utils import unserialize_object
from dlhub_sdk.utils.schemas import validate_against_dlhub_schema


def _pipeline() -> PipelineModel:
    return (
        PipelineModel.create_model()
        .set_title("Image classification")
        .set_name("image_classifier")
        .set_creators(["Ward, Logan"])
        .add_step("alice/image_reader", "Read any image into an array")
        .add_step("alice/resize", "Resize to 64x64", parameters={"size": 64, "grayscale": True})
        .add_step("bob/classifier:3")
    )


def test_steps_keep_their_order_and_parts(reference_validate: Any) -> None:
    document = _pipeline().to_dict()
    assert document["dlhub"]["type"] == "pipeline"
    assert document["datacite"]["resourceType"] == {"resourceTypeGeneral": "Workflow"}
    assert document["pipeline"] == {
        "steps": [
            {
                "author": "alice",
                "name": "image_reader",
                "description": "Read any image into an array",
                "parameters": {},
            },
            {
                "author": "alice",
                "name": "resize",
                "description": "Resize to 64x64",
                "parameters": {"size": 64, "grayscale": True},
            },
            {"author": "bob", "name": "classifier", "parameters": {}, "version": 3},
        ]
    }
    validate_against_dlhub_schema(document, "pipeline")
    reference_validate(document, "pipeline")


def test_step_objects() -> None:
    steps = _pipeline().steps
    assert [step.servable for step in steps] == [
        "alice/image_reader",
        "alice/resize",
        "bob/classifier:3",
    ]
    assert isinstance(steps[0], PipelineStep)
    assert steps[1]["parameters"]["size"] == 64


@pytest.mark.parametrize(
    ("reference", "parts"),
    [
        ("alice/model", ("alice", "model", None)),
        ("alice/model:12", ("alice", "model", 12)),
        ("user.name@lab/model-v2.1_b:1", ("user.name@lab", "model-v2.1_b", 1)),
    ],
)
def test_parse_servable_reference(reference: str, parts: tuple[str, str, int | None]) -> None:
    assert parse_servable_reference(reference) == parts


@pytest.mark.parametrize(
    "reference",
    [
        "model",
        "alice/",
        "/model",
        "alice/model/extra",
        "alice/model:latest",
        "alice/model:0",
        "alice/model:",
        "al ice/model",
        "alice/mo del",
        "alice/-model",
        "",
        "alice:model",
    ],
)
def test_bad_servable_references_are_refused(reference: str) -> None:
    model = PipelineModel()
    with pytest.raises(InvalidMetadata, match="write 'owner/name' or 'owner/name:VERSION'") as info:
        model.add_step(reference)
    assert info.value.field == "pipeline.steps"
    assert repr(reference) in str(info.value)
    assert model.steps == []


def test_a_step_is_a_name_not_anything_else() -> None:
    with pytest.raises(InvalidMetadata, match="not int"):
        PipelineModel().add_step(42)  # type: ignore[arg-type]


def test_parameters_must_be_a_json_dict() -> None:
    model = PipelineModel().add_step("alice/a")
    with pytest.raises(InvalidMetadata, match="parameters must be a dict") as info:
        model.add_step("alice/b", parameters=[1, 2])  # type: ignore[arg-type]
    assert info.value.field == "pipeline.steps.1.parameters"
    with pytest.raises(InvalidMetadata, match="JSON-serializable"):
        model.add_step("alice/b", parameters={"when": object()})
    with pytest.raises(InvalidMetadata, match="description must be a string"):
        model.add_step("alice/b", description=3)  # type: ignore[arg-type]
    assert len(model.steps) == 1


def test_a_pipeline_needs_steps() -> None:
    model = PipelineModel().set_title("Empty").set_name("empty")
    with pytest.raises(InvalidMetadata, match="at least one step") as info:
        model.to_dict()
    assert info.value.field == "pipeline.steps"


def test_published_models_can_be_steps() -> None:
    published = (
        PythonStaticMethodModel.create_model("numpy", "max")
        .set_inputs("ndarray", "x", shape=[None])
        .set_outputs("float", "max")
        .set_title("Max")
        .set_name("max")
    )
    with pytest.raises(InvalidMetadata, match="has not been published"):
        PipelineModel().add_step(published)
    published.dlhub.owner = "carol"  # type: ignore[attr-defined]
    published.dlhub.servable_version = 2  # type: ignore[attr-defined]
    assert PipelineModel().add_step(published).steps[0].servable == "carol/max:2"
    published.dlhub.shorthand_name = "carol/max"  # type: ignore[attr-defined]
    del published.dlhub.servable_version  # type: ignore[attr-defined]
    assert PipelineModel().add_step(published, "Maximum").steps[0].servable == "carol/max"


def test_round_trips(tmp_path: Path) -> None:
    model = _pipeline()
    document = model.to_dict()
    loaded = unserialize_object(document)
    assert type(loaded) is PipelineModel and loaded.to_dict() == document
    for suffix in (".json", ".yaml"):
        path = tmp_path / f"pipeline{suffix}"
        model.save(path)
        assert PipelineModel.load(path).to_dict() == document
    assert isinstance(BaseMetadataModel.from_dict(document), PipelineModel)


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"name": "reader"}, "pipeline.steps.0.author"),
        ({"author": "alice"}, "pipeline.steps.0.name"),
        ({"author": "alice", "name": "has space"}, "pipeline.steps.0.name"),
        ({"author": "a/b", "name": "reader"}, "pipeline.steps.0.author"),
        ({"author": "alice", "name": "reader", "version": 0}, "pipeline.steps.0.version"),
        ({"author": "alice", "name": "reader", "parameters": [1]}, "pipeline.steps.0.parameters"),
    ],
)
def test_malformed_steps_do_not_load(step: dict[str, Any], field: str) -> None:
    document = _pipeline().to_dict()
    document["pipeline"]["steps"] = [step]
    with pytest.raises(InvalidMetadata, match=field.replace(".", r"\.")):
        PipelineModel.from_dict(document)


def test_schema_refuses_what_the_model_would_not_write() -> None:
    document = _pipeline().to_dict()
    document["pipeline"]["steps"][0]["dlhub_id"] = "abc"
    document["pipeline"]["steps"][1]["version"] = "3"
    document["pipeline"]["steps"][2]["parameters"] = {"bad key": 1}
    with pytest.raises(SchemaValidationError) as info:
        validate_against_dlhub_schema(document, "pipeline")
    paths = {problem.path for problem in info.value.errors}
    assert paths == {
        "pipeline.steps.0.dlhub_id",
        "pipeline.steps.1.version",
        "pipeline.steps.2.parameters",
    }
    document["pipeline"]["steps"] = []
    with pytest.raises(SchemaValidationError, match=r"pipeline\.steps: \[\] should be non-empty"):
        validate_against_dlhub_schema(document, "pipeline")


def test_pipelines_written_by_sdk_2_load(reference_validate: Any) -> None:
    # SDK 2.x misspelled the type and wrote steps by author and name
    document = {
        "datacite": {
            "creators": [
                {"givenName": "Logan", "familyName": "Ward", "affiliations": ["UChicago"]}
            ],
            "titles": [{"title": "Old pipeline"}],
            "publisher": "DLHub",
            "publicationYear": "2021",
            "identifier": {"identifier": "10.YET/UNASSIGNED", "identifierType": "DOI"},
            "resourceType": {"resourceTypeGeneral": "InteractiveResource"},
        },
        "dlhub": {
            "version": "2.0.3",
            "domains": [],
            "visible_to": ["public"],
            "name": "old",
            "files": {},
            "dependencies": {},
            "type": "piepline",
        },
        "pipeline": {
            "steps": [{"author": "loganw_globusid", "name": "reader", "description": "Read"}]
        },
    }
    model = PipelineModel.from_dict(document)
    assert model.steps[0].servable == "loganw_globusid/reader"
    rewritten = model.to_dict()
    assert rewritten["dlhub"]["type"] == "pipeline"
    validate_against_dlhub_schema(rewritten, "pipeline")
    reference_validate(rewritten, "pipeline")
