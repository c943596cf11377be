"""Describing servables: the ``servable`` block and the base class of every servable type."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import BaseMetadataModel, DLHubType
from dlhub_sdk.models._access import ItemAccessMixin
from dlhub_sdk.models._argument_types import ArgumentTypeMetadata, make_argument_type
from dlhub_sdk.models.datacite import DataciteResourceTypeGeneral

__all__ = ["ArgumentTypeMetadata", "BaseServableModel", "MethodMetadata", "ServableMetadata"]


class MethodMetadata(ItemAccessMixin, BaseModel):
    """Metadata that describes each method of a servable."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    input: ArgumentTypeMetadata | None = None
    output: ArgumentTypeMetadata | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    method_details: dict[str, Any] = Field(default_factory=dict)


class ServableMetadata(ItemAccessMixin, BaseModel):
    """Metadata for servable objects: how to build and run the servable."""

    model_config = ConfigDict(extra="allow", validate_assignment=True, protected_namespaces=())

    type: str = ""
    shim: str = ""
    model_type: str | None = None
    model_summary: str | None = None
    methods: dict[str, MethodMetadata] = Field(default_factory=lambda: {"run": MethodMetadata()})
    options: dict[str, Any] | None = None


class BaseServableModel(BaseMetadataModel):
    """Base class for servables: the metadata of the object and how to create and run it."""

    #: ``servable.type`` and ``servable.shim`` written for this kind of servable.
    servable_type: ClassVar[str] = ""
    servable_shim: ClassVar[str] = ""
    _dlhub_type: ClassVar[DLHubType | None] = DLHubType.servable
    _resource_type: ClassVar[DataciteResourceTypeGeneral] = (
        DataciteResourceTypeGeneral.InteractiveResource
    )

    servable: ServableMetadata = Field(default_factory=ServableMetadata)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        if not self.servable.type:
            self.servable.type = self.servable_type
        if not self.servable.shim:
            self.servable.shim = self.servable_shim

    def register_function(
        self,
        name: str,
        inputs: dict[str, Any] | ArgumentTypeMetadata,
        outputs: dict[str, Any] | ArgumentTypeMetadata,
        parameters: dict[str, Any] | None = None,
        method_details: dict[str, Any] | None = None,
    ) -> Self:
        """Register a new function (method) of this servable.

        Args:
            name: Name of the function (e.g. ``"run"``).
            inputs: Argument type of its input (see ``compose_argument_block``).
            outputs: Argument type of its output.
            parameters: Optional parameters of the function and their defaults.
            method_details: Options the shim uses to build the function.
        """
        methods = dict(self.servable.methods)
        methods[name] = MethodMetadata(
            input=make_argument_type(inputs),
            output=make_argument_type(outputs),
            parameters=dict(parameters or {}),
            method_details=dict(method_details or {}),
        )
        self.servable.methods = methods
        return self

    def method(self, name: str = "run") -> MethodMetadata:
        """The metadata of one method (``KeyError`` naming the known ones if absent)."""
        try:
            return self.servable.methods[name]
        except KeyError:
            raise KeyError(
                f"no method {name!r}; methods: {sorted(self.servable.methods)}"
            ) from None

    def validate_complete(self) -> None:
        super().validate_complete()
        if "run" not in self.servable.methods:
            raise InvalidMetadata("a servable needs a 'run' method", field="servable.methods")
        for name, method in self.servable.methods.items():
            for part, setter in (("input", "set_inputs"), ("output", "set_outputs")):
                if getattr(method, part) is None:
                    raise InvalidMetadata(
                        f"the {part} of method {name!r} is not defined: call {setter}(...)",
                        field=f"servable.methods.{name}.{part}",
                    )
