"""Checking metadata documents, and the fields the hub owns in them.

A document is checked three ways and every problem is reported at once:

1. the SDK reads it (``dlhub_sdk.utils.unserialize_object``; pydantic names each bad field),
2. the SDK's bundled JSON schema, when that module is present,
3. the fields a publication cannot do without (title, name, each method's input and output).

The hub owns some fields of the ``dlhub`` block (:data:`HUB_FIELDS`); they are
removed before checking and written by the hub when it records a version.
"""

from __future__ import annotations

import copy
from typing import Any

from dlhub_server.errors import InvalidDocument

__all__ = [
    "HUB_FIELDS",
    "IMMUTABLE_FIELDS",
    "Problem",
    "document_files",
    "document_kind",
    "merge_changes",
    "split_hub_fields",
    "validate_document",
]

#: ``dlhub`` fields only the hub writes.
HUB_FIELDS = (
    "owner",
    "id",
    "shorthand_name",
    "publication_date",
    "servable_version",
    "file_hashes",
    "environment",
    "source_repository",
    "user_id",
    "transfer_method",
)

#: ``dlhub`` fields an edit may not change (publish a new version or a new name instead).
IMMUTABLE_FIELDS = ("name", "type", "files")

#: One problem with a document: ``{"field": "datacite.titles", "message": "..."}``.
Problem = dict[str, str]


def _block(document: dict[str, Any], name: str) -> dict[str, Any]:
    block = document.get(name)
    return block if isinstance(block, dict) else {}


def _problem(field: str, message: str) -> Problem:
    return {"field": field or "(document)", "message": message}


def split_hub_fields(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of ``document`` without the hub's fields, and those fields."""
    user_part = copy.deepcopy(document)
    dlhub = user_part.get("dlhub")
    hub_part: dict[str, Any] = {}
    if isinstance(dlhub, dict):
        for key in HUB_FIELDS:
            if key in dlhub:
                hub_part[key] = dlhub.pop(key)
    return user_part, hub_part


def document_files(document: dict[str, Any]) -> list[str]:
    """Every path listed in ``dlhub.files`` (named files and the ``other`` list), in order."""
    files = (document.get("dlhub") or {}).get("files") or {}
    listed: list[str] = []
    if not isinstance(files, dict):
        return listed
    for value in files.values():
        for path in [value] if isinstance(value, str) else value or []:
            if isinstance(path, str) and path not in listed:
                listed.append(path)
    return listed


def _sdk_problems(document: dict[str, Any]) -> tuple[Any, list[Problem]]:
    """The SDK's model of ``document`` (``None`` if it cannot be built) and its problems."""
    from pydantic import ValidationError

    from dlhub_sdk.exceptions import InvalidMetadata
    from dlhub_sdk.utils import unserialize_object

    try:
        return unserialize_object(document), []
    except InvalidMetadata as exc:
        # The SDK summarises pydantic's errors in one message; the original, kept as the
        # exception's context, names every field separately.
        context = exc.__context__
        if isinstance(context, ValidationError):
            return None, [
                _problem(
                    ".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, ")
                )
                for err in context.errors()
            ]
        message = str(exc)
        if exc.field and message.startswith(f"{exc.field}: "):
            message = message[len(exc.field) + 2 :]
        return None, [_problem(exc.field or "", message)]
    except ImportError:
        # The SDK on this hub has no class for this kind of document (yet): the schema and
        # the required-field checks below still apply.
        return None, []


def _schema_problems(document: dict[str, Any], kind: str) -> list[Problem]:
    try:
        from dlhub_sdk.utils.schemas import validate_against_dlhub_schema
    except ImportError:
        return []
    try:
        validate_against_dlhub_schema(document, kind)
    except Exception as exc:
        return _problems_from_exception(exc)
    return []


def _problems_from_exception(exc: Exception) -> list[Problem]:
    for attribute in ("problems", "errors"):
        listed = getattr(exc, attribute, None)
        if callable(listed):
            continue
        if isinstance(listed, list) and listed:
            found = []
            for item in listed:
                if isinstance(item, dict):
                    found.append(
                        _problem(str(item.get("field", "")), str(item.get("message", item)))
                    )
                else:
                    message = getattr(item, "message", None)
                    found.append(_problem(getattr(item, "field", "") or "", str(message or item)))
            return found
    path = getattr(exc, "absolute_path", None)
    if path is not None:  # a jsonschema.ValidationError
        return [_problem(".".join(str(p) for p in path), str(getattr(exc, "message", exc)))]
    field = getattr(exc, "field", None) or ""
    message = str(exc)
    if field and message.startswith(f"{field}: "):
        message = message[len(field) + 2 :]
    return [_problem(field, message)]


def _required_problems(document: dict[str, Any], kind: str) -> list[Problem]:
    problems: list[Problem] = []
    datacite = document.get("datacite")
    titles = datacite.get("titles") if isinstance(datacite, dict) else None
    if not titles or not any(isinstance(t, dict) and t.get("title") for t in titles):
        problems.append(_problem("datacite.titles", "a title is required (model.set_title(...))"))
    dlhub = _block(document, "dlhub")
    if not dlhub.get("name"):
        problems.append(_problem("dlhub.name", "a name is required (model.set_name(...))"))
    if kind == "servable":
        servable = document.get("servable")
        methods = servable.get("methods") if isinstance(servable, dict) else None
        if not isinstance(methods, dict) or "run" not in methods:
            problems.append(_problem("servable.methods.run", "a servable needs a 'run' method"))
        else:
            for name, method in methods.items():
                for part, setter in (("input", "set_inputs"), ("output", "set_outputs")):
                    if not isinstance(method, dict) or not method.get(part):
                        problems.append(
                            _problem(
                                f"servable.methods.{name}.{part}",
                                f"the {part} of method {name!r} is not described ({setter}(...))",
                            )
                        )
    return problems


def document_kind(document: dict[str, Any]) -> str:
    """``dlhub.type`` of a document, or the kind its blocks imply (servable, dataset, pipeline)."""
    declared = _block(document, "dlhub").get("type")
    if isinstance(declared, str) and declared:
        return declared
    for kind in ("servable", "dataset", "pipeline"):
        if kind in document:
            return kind
    return "servable"


def validate_document(document: Any) -> tuple[dict[str, Any], str]:
    """Check a document as submitted (hub fields already removed).

    Returns:
        The document as the SDK writes it (defaults filled in) and its kind.

    Raises:
        InvalidDocument: Listing every problem found, each with its field.
    """
    if not isinstance(document, dict):
        raise InvalidDocument(
            "the metadata document must be a JSON object (model.to_dict())",
            details=[_problem("", "not a JSON object")],
        )
    if not isinstance(document.get("dlhub"), dict):
        raise InvalidDocument(
            "the document has no 'dlhub' block; build it with the SDK (model.to_dict())",
            details=[_problem("dlhub", "missing")],
        )
    kind = document_kind(document)
    if kind not in ("servable", "dataset", "pipeline"):
        raise InvalidDocument(
            f"dlhub.type {kind!r} is not one of servable, dataset, pipeline",
            details=[_problem("dlhub.type", f"unknown type {kind!r}")],
        )
    model, problems = _sdk_problems(document)
    problems += _required_problems(document, kind)
    normalized = document
    if model is not None and not problems:
        try:
            normalized = model.to_dict()
        except Exception as exc:
            problems += _problems_from_exception(exc)
    seen_fields = {p["field"] for p in problems}
    for problem in _schema_problems(normalized, kind):
        if problem["field"] not in seen_fields:
            problems.append(problem)
            seen_fields.add(problem["field"])
    if problems:
        unique = list({(p["field"], p["message"]): p for p in problems}.values())
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in unique)
        raise InvalidDocument(f"the metadata document is not valid: {summary}", details=unique)
    return normalized, kind


def merge_changes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply a partial document to ``current`` (JSON merge patch: objects merge, ``null`` deletes)."""
    merged = copy.deepcopy(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_changes(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
