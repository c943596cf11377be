"""Argument types: the description of a servable's inputs and outputs (chapter 5 of the manual)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from dlhub_sdk.exceptions import InvalidArgumentType
from dlhub_sdk.models._access import ItemAccessMixin

#: Every argument type the manual defines.
ARGUMENT_TYPES = (
    "number",
    "integer",
    "float",
    "complex",
    "string",
    "boolean",
    "timedelta",
    "datetime",
    "python object",
    "ndarray",
    "file",
    "list",
    "tuple",
    "dict",
)

_MIME = re.compile(r"^[^\s/]+/\S+$")


def _as_block(value: Any) -> Any:
    """Accept the shorthand ``"float"`` for ``{"type": "float"}``."""
    return {"type": value} if isinstance(value, str) else value


class ArgumentTypeMetadata(ItemAccessMixin, BaseModel):
    """Description of an input or output argument.

    The rules of the manual are enforced when the block is made: an ``ndarray``
    needs a ``shape``, a ``list`` an ``item_type``, a ``tuple`` its
    ``element_types``, a ``dict`` its ``properties`` and a ``python object`` its
    ``python_type``; files appear only alone, as a list, or as members of a tuple.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    type: str
    description: str | None = None
    shape: list[int | None] | None = None
    item_type: ArgumentTypeMetadata | None = None
    element_types: list[ArgumentTypeMetadata] | None = None
    properties: dict[str, ArgumentTypeMetadata] | None = None
    python_type: str | None = None
    file_types: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"type": data}
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("item_type"), str):
                data["item_type"] = {"type": data["item_type"]}
            if isinstance(data.get("element_types"), (list, tuple)):
                data["element_types"] = [_as_block(e) for e in data["element_types"]]
            if isinstance(data.get("properties"), dict):
                data["properties"] = {k: _as_block(v) for k, v in data["properties"].items()}
            if isinstance(data.get("shape"), tuple):
                data["shape"] = list(data["shape"])
        return data

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ARGUMENT_TYPES:
            raise ValueError(
                f"unknown argument type {value!r}; the types are: {', '.join(ARGUMENT_TYPES)}"
            )
        return value

    @field_validator("shape")
    @classmethod
    def _valid_shape(cls, value: list[int | None] | None) -> list[int | None] | None:
        if value is not None and any(d is not None and d < 1 for d in value):
            raise ValueError(f"shape {value} has a dimension below 1; use None for any size")
        return value

    @field_validator("file_types")
    @classmethod
    def _mime_types(cls, value: list[str] | None) -> list[str] | None:
        for mime in value or ():
            if not _MIME.match(mime):
                raise ValueError(f"{mime!r} is not a MIME type such as 'text/csv'")
        return value

    @model_validator(mode="after")
    def _required_details(self) -> ArgumentTypeMetadata:
        required = {
            "ndarray": ("shape", "an ndarray needs its shape, e.g. shape=[None, 3]"),
            "list": ("item_type", "a list needs item_type, the type of its items"),
            "tuple": ("element_types", "a tuple needs element_types, the type of each member"),
            "dict": ("properties", "a dict needs properties, the type of each key"),
            "python object": (
                "python_type",
                "a python object needs python_type, e.g. 'pandas.DataFrame'",
            ),
        }
        if self.type in required:
            field, message = required[self.type]
            if getattr(self, field) is None:
                raise ValueError(message)
        if self.type == "tuple" and not self.element_types:
            raise ValueError("a tuple needs at least one element type")
        check_file_placement(self)
        return self

    def is_file(self) -> bool:
        """Whether this is a single file."""
        return self.type == "file"

    def is_file_list(self) -> bool:
        """Whether this is a list of files."""
        return self.type == "list" and self.item_type is not None and self.item_type.is_file()

    def contains_file(self) -> bool:
        """Whether a file appears anywhere in this type."""
        if self.is_file():
            return True
        children: list[ArgumentTypeMetadata] = []
        if self.item_type is not None:
            children.append(self.item_type)
        children += self.element_types or []
        children += list((self.properties or {}).values())
        return any(child.contains_file() for child in children)

    def to_dict(self) -> dict[str, Any]:
        """The block as JSON-ready data."""
        return self.model_dump(mode="json", exclude_none=True)


def check_file_placement(block: ArgumentTypeMetadata) -> None:
    """Enforce where files may appear: alone, as a list of files, or as members of a tuple."""
    if block.type == "list" and block.item_type is not None:
        if not block.item_type.is_file() and block.item_type.contains_file():
            raise ValueError(
                "files may be listed only directly (a list of files), not in nested lists"
            )
    elif block.type == "tuple":
        for element in block.element_types or []:
            if not (element.is_file() or element.is_file_list()) and element.contains_file():
                raise ValueError(
                    "a tuple member may be a file or a list of files, but files may not be nested deeper"
                )
    elif block.type == "dict" and any(p.contains_file() for p in (block.properties or {}).values()):
        raise ValueError("files may not be part of a dict; pass them as a tuple member instead")


def make_argument_type(data: Any) -> ArgumentTypeMetadata:
    """Validate a block, turning pydantic's report into :class:`InvalidArgumentType`."""
    from pydantic import ValidationError

    if isinstance(data, ArgumentTypeMetadata):
        return data
    try:
        return ArgumentTypeMetadata.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'type'}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise InvalidArgumentType(problems) from None
