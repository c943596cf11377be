"""Describing pipelines: published servables run one after the other.

A pipeline names servables that are already published; each step's output is
the next step's input. For example, an image reader (any image to an array),
a resizer (with the target size as a parameter) and a classifier make an image
classification pipeline that accepts any image. The ``pipeline`` block::

    {"steps": [{"author": "alice", "name": "reader", "description": "...",
                "parameters": {}},
               {"author": "bob", "name": "classifier", "version": 3, "parameters": {}}]}
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import NAME_PATTERN, BaseMetadataModel, DLHubType
from dlhub_sdk.models._access import ItemAccessMixin
from dlhub_sdk.models.datacite import DataciteResourceTypeGeneral

__all__ = ["PipelineMetadata", "PipelineModel", "PipelineStep", "parse_servable_reference"]

#: ``owner/name`` or ``owner/name:VERSION``, VERSION being the hub's version number.
_REFERENCE = re.compile(
    r"^(?P<owner>[^\s/:]+)/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?::(?P<version>[0-9]+))?$"
)
_OWNER = re.compile(r"^[^\s/:]+$")


def parse_servable_reference(reference: str) -> tuple[str, str, int | None]:
    """Split ``"owner/name"`` or ``"owner/name:VERSION"`` into its parts.

    Returns:
        ``(owner, name, version)``, version being ``None`` when not pinned.

    Raises:
        InvalidMetadata: The text is not of that form.
    """
    match = _REFERENCE.match(reference) if isinstance(reference, str) else None
    if match is None or (match["version"] is not None and int(match["version"]) < 1):
        raise InvalidMetadata(
            f"{reference!r} does not name a servable: write 'owner/name' or 'owner/name:VERSION' "
            "(VERSION a version number such as 2)",
            field="pipeline.steps",
        )
    version = match["version"]
    return match["owner"], match["name"], None if version is None else int(version)


class PipelineStep(ItemAccessMixin, BaseModel):
    """One step: a published servable and the parameters it is called with."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    author: str
    name: str
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1)

    @field_validator("author")
    @classmethod
    def _valid_owner(cls, value: str) -> str:
        if not _OWNER.match(value):
            raise ValueError(f"{value!r} is not a user name (no spaces, slashes or colons)")
        return value

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a servable name (letters, digits, '.', '_', '-')")
        return value

    @property
    def servable(self) -> str:
        """The servable this step runs, as ``owner/name`` or ``owner/name:VERSION``."""
        pinned = "" if self.version is None else f":{self.version}"
        return f"{self.author}/{self.name}{pinned}"


class PipelineMetadata(ItemAccessMixin, BaseModel):
    """The ``pipeline`` block: the steps, in the order they run."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    steps: list[PipelineStep] = Field(default_factory=list)


def _reference_of(servable: Any) -> str:
    """``owner/name[:version]`` of a string, or of a published model (which knows its owner)."""
    if isinstance(servable, str):
        return servable
    if isinstance(servable, BaseMetadataModel):
        dlhub = servable.dlhub
        shorthand = dlhub.get("shorthand_name")
        if not shorthand and dlhub.get("owner") and dlhub.name:
            shorthand = f"{dlhub.get('owner')}/{dlhub.name}"
        if not shorthand:
            raise InvalidMetadata(
                "this model has not been published (it has no owner): name the servable "
                "as 'owner/name' instead",
                field="pipeline.steps",
            )
        version = dlhub.get("servable_version")
        return f"{shorthand}:{version}" if version else str(shorthand)
    raise InvalidMetadata(
        f"a step is a servable name 'owner/name[:VERSION]', not {type(servable).__name__}",
        field="pipeline.steps",
    )


class PipelineModel(BaseMetadataModel):
    """Description of a pipeline of servables already published on the hub.

    Example::

        pipeline = (PipelineModel.create_model()
                    .set_title("Image classification").set_name("image_classifier")
                    .add_step("alice/image_reader", "Read any image into an array")
                    .add_step("alice/resize", "Resize to 64x64", parameters={"size": 64})
                    .add_step("bob/classifier:3", "Classify the image"))
    """

    _dlhub_type: ClassVar[DLHubType | None] = DLHubType.pipeline
    # DataCite's type for a series of steps run in order
    _resource_type: ClassVar[DataciteResourceTypeGeneral] = DataciteResourceTypeGeneral.Workflow

    pipeline: PipelineMetadata = Field(default_factory=PipelineMetadata)

    @property
    def steps(self) -> list[PipelineStep]:
        """The steps, in the order they run."""
        return list(self.pipeline.steps)

    def add_step(
        self,
        servable: str | BaseMetadataModel,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> Self:
        """Append a step that runs a published servable.

        Args:
            servable: ``"owner/name"`` (its latest version) or ``"owner/name:VERSION"``;
                a published model (one read back from the hub) works too.
            description: What this step does.
            parameters: Parameters passed to the servable (JSON-serializable),
                e.g. the target size of a resizing step.

        Raises:
            InvalidMetadata: The servable name is not of that form, or the
                parameters are not a JSON-serializable dict.
        """
        owner, name, version = parse_servable_reference(_reference_of(servable))
        index = len(self.pipeline.steps)
        if description is not None and not isinstance(description, str):
            raise InvalidMetadata(
                "the description must be a string", field=f"pipeline.steps.{index}.description"
            )
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            raise InvalidMetadata(
                "parameters must be a dict", field=f"pipeline.steps.{index}.parameters"
            )
        try:
            json.dumps(parameters)
        except (TypeError, ValueError) as exc:
            raise InvalidMetadata(
                f"parameters must be JSON-serializable: {exc}",
                field=f"pipeline.steps.{index}.parameters",
            ) from None
        step = PipelineStep(
            author=owner,
            name=name,
            description=description,
            parameters=dict(parameters),
            version=version,
        )
        self.pipeline.steps = [*self.pipeline.steps, step]
        return self

    def validate_complete(self) -> None:
        super().validate_complete()
        if not self.pipeline.steps:
            raise InvalidMetadata(
                "a pipeline needs at least one step: call add_step('owner/name')",
                field="pipeline.steps",
            )
