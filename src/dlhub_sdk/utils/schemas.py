"""Utilities for validating against DLHub schemas.

The JSON schemas (draft 2020-12) ship inside the package, in
``dlhub_sdk/schemas/``, and reference each other by file name, so validation
needs no network. There is one schema per kind of document (``servable``,
``dataset``, ``pipeline``) and one per shared part (``datacite``, ``dlhub``,
``method``, ``argument_type``); any of them can be used on its own.

They describe what this SDK writes, plus the fields the hub adds when it
publishes a version (``dlhub.owner``, ``dlhub.id``, ``dlhub.shorthand_name``,
``dlhub.publication_date``, ``dlhub.servable_version``, ``dlhub.file_hashes``,
``dlhub.environment``). They are stricter than the original DLHub schemas where
those accepted anything (unknown fields, malformed creators, file arguments
nested anywhere), and they accept the visibility entries of a self-hosted hub
(``user:NAME`` and ``group:NAME``), which the original schemas reject.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from dlhub_sdk.exceptions import InvalidMetadata, SchemaValidationError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

__all__ = [
    "SchemaValidationError",
    "get_schema",
    "list_schema_names",
    "schema_name_for",
    "validate_against_dlhub_schema",
    "validate_document",
]

#: The schemas of whole documents; the other schemas describe one of their parts.
DOCUMENT_SCHEMAS = ("servable", "dataset", "pipeline")

#: Names the original DLHub schema repository used for the same parts.
_ALIASES = {
    "datacite-v4.1": "datacite",
    "servable/method": "method",
    "servable/argument_type": "argument_type",
}


@functools.cache
def _bundled_schemas() -> dict[str, dict[str, Any]]:
    folder = resources.files("dlhub_sdk") / "schemas"
    schemas = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            schemas[entry.name.removesuffix(".json")] = json.loads(entry.read_text("utf-8"))
    return schemas


def list_schema_names() -> list[str]:
    """Names of the bundled schemas: the documents first, then their parts.

    Returns:
        e.g. ``['servable', 'dataset', 'pipeline', 'argument_type', 'datacite', 'dlhub', 'method']``.
    """
    parts = sorted(name for name in _bundled_schemas() if name not in DOCUMENT_SCHEMAS)
    return [*DOCUMENT_SCHEMAS, *parts]


def _canonical_name(schema_name: str) -> str:
    if not isinstance(schema_name, str):
        raise TypeError(f"schema_name must be a string, not {type(schema_name).__name__}")
    name = schema_name.removesuffix(".json")
    name = _ALIASES.get(name, name)
    if name not in _bundled_schemas():
        raise ValueError(
            f"unknown schema {schema_name!r}; the DLHub schemas are: {', '.join(list_schema_names())}"
        )
    return name


def get_schema(schema_name: str) -> dict[str, Any]:
    """A copy of one bundled schema, as JSON data.

    Args:
        schema_name: One of :func:`list_schema_names`.

    Raises:
        ValueError: No schema has that name.
    """
    return copy.deepcopy(_bundled_schemas()[_canonical_name(schema_name)])


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    # Registered under their file names, so the relative "$ref"s between them
    # resolve here; a registry without a retriever never goes to the network.
    registry: Registry[Any] = Registry().with_resources(
        (f"{n}.json", Resource.from_contents(s, default_specification=DRAFT202012))
        for n, s in _bundled_schemas().items()
    )
    return Draft202012Validator(_bundled_schemas()[name], registry=registry)


def _dotted(path: Iterable[Any]) -> str:
    return ".".join(str(part) for part in path) or "(document)"


_REQUIRED = re.compile(r"^'(?P<name>.+)' is a required property$")


def _describe(error: ValidationError) -> list[tuple[str, str]]:
    """Turn one jsonschema error into ``(path, message)`` pairs that name the field."""
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required":
        match = _REQUIRED.match(error.message)
        if match:
            return [(_dotted([*path, match["name"]]), "is required but missing")]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extras = [
            key
            for key in error.instance
            if key not in allowed and not any(re.search(p, key) for p in patterns)
        ]
        hint = f"; allowed here: {', '.join(sorted(allowed))}" if allowed else ""
        return [(_dotted([*path, key]), f"is not an allowed field{hint}") for key in extras]
    if error.validator == "not" and "description" in schema:
        return [(_dotted(path), str(schema["description"]))]
    if error.validator == "const":
        return [(_dotted(path), f"must be {error.validator_value!r} (found {error.instance!r})")]
    if error.validator in ("anyOf", "oneOf") and error.context:
        if all(sub.validator == "required" for sub in error.context):
            names = [name for sub in error.context for name in sub.validator_value]
            return [(_dotted(path), f"needs at least one of the fields: {', '.join(names)}")]
        alternatives = dict.fromkeys(sub.message for sub in error.context)
        return [(_dotted(path), "needs one of: " + "; or ".join(alternatives))]
    return [(_dotted(path), error.message)]


def _as_document(document: Any) -> Any:
    from pydantic import BaseModel

    from dlhub_sdk.models import BaseMetadataModel

    if isinstance(document, BaseMetadataModel):
        try:
            return document.to_dict()
        except InvalidMetadata:
            # An incomplete model: let the schema list everything missing, not just the first
            return document.model_dump(mode="json", exclude_none=True)
    if isinstance(document, BaseModel):
        return document.model_dump(mode="json", exclude_none=True)
    if isinstance(document, Mapping):
        return dict(document)
    raise TypeError(f"document must be a dict or a metadata model, not {type(document).__name__}")


def schema_name_for(document: Mapping[str, Any]) -> str:
    """The document schema that fits a document: ``servable``, ``dataset`` or ``pipeline``.

    Decided by the block the document carries, else by ``dlhub.type``.

    Raises:
        InvalidMetadata: The document says nothing about what it describes.
    """
    for name in DOCUMENT_SCHEMAS:
        if name in document:
            return name
    dlhub = document.get("dlhub")
    kind = dlhub.get("type") if isinstance(dlhub, Mapping) else None
    if kind in DOCUMENT_SCHEMAS:
        return str(kind)
    raise InvalidMetadata(
        "the document has no 'servable', 'dataset' or 'pipeline' block to say what it describes",
        field="dlhub.type",
    )


def validate_against_dlhub_schema(document: Any, schema_name: str) -> None:
    """Validate a metadata document against one of the DLHub schemas.

    The schemas are bundled with the SDK: no network is needed.

    Args:
        document: The document (a dict), a metadata model (its :meth:`to_dict` is
            checked) or one block of a model (e.g. ``model['datacite']``).
        schema_name: ``"servable"``, ``"dataset"``, ``"pipeline"`` or a part:
            ``"datacite"``, ``"dlhub"``, ``"method"``, ``"argument_type"`` (the
            original names ``"datacite-v4.1"`` and ``"servable/method"`` work too).
            See :func:`list_schema_names`.

    Raises:
        SchemaValidationError: The document does not match; the message lists every
            problem with the dotted path of its field, and ``.errors`` holds them
            as ``(path, message)`` pairs.
        ValueError: There is no schema of that name (the message lists them).
        TypeError: ``document`` is neither a dict nor a model.
    """
    name = _canonical_name(schema_name)
    instance = _as_document(document)
    problems: dict[tuple[str, str], None] = {}
    for error in _validator(name).iter_errors(instance):
        problems.update(dict.fromkeys(_describe(error)))
    if problems:
        raise SchemaValidationError(name, sorted(problems))


def validate_document(document: Any) -> str:
    """Validate a whole document against the schema of its kind.

    Args:
        document: A servable, dataset or pipeline document, or its model.

    Returns:
        The name of the schema it matched.

    Raises:
        SchemaValidationError: The document does not match (every problem listed).
        InvalidMetadata: The document does not say what kind of object it describes.
    """
    instance = _as_document(document)
    if not isinstance(instance, Mapping):
        raise InvalidMetadata("a DLHub document must be a JSON object")
    name = schema_name_for(instance)
    validate_against_dlhub_schema(instance, name)
    return name
