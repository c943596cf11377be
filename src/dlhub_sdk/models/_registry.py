"""Choosing the model class for a document, and reading documents written for the original DLHub."""

from __future__ import annotations

import copy
import importlib
from typing import Any

from pydantic import ValidationError

from dlhub_sdk.exceptions import InvalidMetadata, UnknownServableType

#: servable.type -> (module, class) of every servable type.
SERVABLE_CLASSES: dict[str, tuple[str, str]] = {
    "Python static method": ("dlhub_sdk.models.servables.python", "PythonStaticMethodModel"),
    "Python class method": ("dlhub_sdk.models.servables.python", "PythonClassMethodModel"),
    "Keras Model": ("dlhub_sdk.models.servables.keras", "KerasModel"),
    "Torch Model": ("dlhub_sdk.models.servables.pytorch", "TorchModel"),
    "TensorFlow Model": ("dlhub_sdk.models.servables.tensorflow", "TensorFlowModel"),
    "Scikit-learn estimator": ("dlhub_sdk.models.servables.sklearn", "ScikitLearnModel"),
}

#: The shim of each servable type, for documents that name only the shim.
SHIMS: dict[str, str] = {
    "python.PythonStaticMethodServable": "Python static method",
    "python.PythonClassMethodServable": "Python class method",
    "keras.KerasServable": "Keras Model",
    "torch.TorchServable": "Torch Model",
    "tensorflow.TensorFlowServable": "TensorFlow Model",
    "sklearn.ScikitLearnServable": "Scikit-learn estimator",
}

OTHER_CLASSES: dict[str, tuple[str, str]] = {
    "dataset": ("dlhub_sdk.models.datasets", "DatasetModel"),
    "pipeline": ("dlhub_sdk.models.pipeline", "PipelineModel"),
}


def _load(module: str, name: str) -> type:
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _servable_type_name(servable: dict[str, Any]) -> str:
    type_name = servable.get("type")
    if type_name in SERVABLE_CLASSES:
        return str(type_name)
    shim = servable.get("shim")
    if shim in SHIMS:
        return SHIMS[shim]
    # Older documents wrote the type in lower case or with other spacing
    lowered = {k.lower(): k for k in SERVABLE_CLASSES}
    if isinstance(type_name, str) and type_name.lower() in lowered:
        return lowered[type_name.lower()]
    raise UnknownServableType(
        f"unknown servable type {type_name!r} (shim {shim!r}); known types: {', '.join(SERVABLE_CLASSES)}",
        field="servable.type",
    )


def class_for_document(data: dict[str, Any]) -> type:
    """The model class that reads ``data``."""
    if "servable" in data:
        servable = data["servable"]
        if not isinstance(servable, dict):
            raise InvalidMetadata("must be an object", field="servable")
        return _load(*SERVABLE_CLASSES[_servable_type_name(servable)])
    dlhub = data.get("dlhub") if isinstance(data.get("dlhub"), dict) else {}
    kind = dlhub.get("type") if dlhub else None
    for key in ("dataset", "pipeline"):
        if key in data or kind == key:
            return _load(*OTHER_CLASSES[key])
    raise InvalidMetadata(
        "the document has no 'servable', 'dataset' or 'pipeline' block to say what it describes"
    )


def upgrade_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """Move fields of documents written by the original DLHub SDK to where this SDK keeps them."""
    data = copy.deepcopy(data)
    servable = data.get("servable")
    dlhub = data.setdefault("dlhub", {})
    if isinstance(servable, dict) and isinstance(dlhub, dict):
        servable.pop("language", None)
        legacy = servable.pop("dependencies", None)
        if isinstance(legacy, dict):
            merged = dict(dlhub.get("dependencies") or {})
            for kind, libraries in legacy.items():
                merged[kind] = {**(libraries or {}), **merged.get(kind, {})}
            dlhub["dependencies"] = merged
    datacite = data.get("datacite")
    if isinstance(datacite, dict):
        titles = datacite.get("titles")
        if isinstance(titles, list):
            datacite["titles"] = [
                t for t in titles if not (isinstance(t, dict) and t.get("title") is None)
            ]
        for creator in datacite.get("creators") or []:
            if isinstance(creator, dict) and "creatorName" not in creator:
                family, given = creator.get("familyName", ""), creator.get("givenName", "")
                creator["creatorName"] = f"{family}, {given}" if given else family
            # SDKs before 1.0 wrote a lone affiliation as a string
            if isinstance(creator, dict) and isinstance(creator.get("affiliations"), str):
                creator["affiliations"] = [creator["affiliations"]]
        # SDK 2.x left the year empty for the hub to fill in; the default is this year
        if datacite.get("publicationYear") in ("", None):
            datacite.pop("publicationYear", None)
    if isinstance(dlhub, dict) and dlhub.get("type") == "piepline":  # SDK 2.x misspelled it
        dlhub["type"] = "pipeline"
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, each naming the dotted path of its field."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def model_from_dict(data: dict[str, Any], expected: type | None = None) -> Any:
    """Build the model object a document describes."""
    if not isinstance(data, dict):
        raise InvalidMetadata(f"a DLHub document is a dict, not {type(data).__name__}")
    data = upgrade_legacy(data)
    cls = class_for_document(data)
    if expected is not None and not issubclass(cls, expected):
        raise InvalidMetadata(
            f"the document describes a {cls.__name__}, not a {expected.__name__}",
            field="servable.type",
        )
    try:
        return cls.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise InvalidMetadata(describe_validation_error(exc)) from None
