"""Describing scikit-learn estimators saved with pickle or joblib.

The description is read from the estimator itself: whether it is a classifier,
its classes, the number of input columns, the arguments of its prediction
method, its type and a text summary.

For the runtime: ``servable.options`` holds ``serialization_method``
(``"pickle"`` or ``"joblib"``), ``is_classifier``, ``n_classes`` and ``classes``
(class names) for classifiers; the estimator file is the named file ``model``.
``method_details.method_name`` is the method to call; classifiers with
probabilities carry the name ``"_predict_proba"`` the manual prints, which means
the estimator's public ``predict_proba`` on current scikit-learn versions.
"""

from __future__ import annotations

import inspect
import json
import numbers
import os
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from typing_extensions import Self

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models.servables.python import BasePythonServableModel

__all__ = ["SERIALIZATION_METHODS", "ScikitLearnModel"]

#: Libraries an estimator may be saved with.
SERIALIZATION_METHODS = ("pickle", "joblib")

#: The method name the manual (and the original DLHub) writes for ``predict_proba``.
PROBABILITY_METHOD = "_predict_proba"


class ScikitLearnModel(BasePythonServableModel):
    """Metadata for a scikit-learn machine learning model.

    This class assumes that the inputs to the model are a list of records of a
    fixed length (a 2-D array). Models taking other inputs (e.g. pipelines with
    text-processing steps) can be described, but their input must be set by hand
    with :meth:`set_inputs`.
    """

    servable_type = "Scikit-learn estimator"
    servable_shim = "sklearn.ScikitLearnServable"

    @classmethod
    def create_model(  # type: ignore[override]
        cls,
        path: str,
        n_input_columns: int | None,
        classes: int | Sequence[Any] | None = None,
        serialization_method: str = "pickle",
    ) -> Self:
        """Initialize a scikit-learn model.

        Args:
            path: Path to the model file.
            n_input_columns: Number of input columns (features) of the model; ``None``
                reads it from the estimator (``n_features_in_``).
            classes: For classifiers, the number of classes or their names (list-like).
                When omitted, read from the fitted estimator (``classes_``).
            serialization_method: Library used to save the model: ``"pickle"`` or ``"joblib"``.

        Raises:
            FileNotFoundError: There is no file at ``path``.
            InvalidMetadata: An argument is wrong or disagrees with the estimator
                (the message says which).
        """
        if serialization_method not in SERIALIZATION_METHODS:
            raise InvalidMetadata(
                f"unknown serialization_method {serialization_method!r}; use one of "
                f"{', '.join(SERIALIZATION_METHODS)}",
                field="servable.options.serialization_method",
            )
        if not os.path.isfile(path):
            raise FileNotFoundError(f"scikit-learn model file not found: {path!r}")
        saved_version, estimator = _load_estimator(path, serialization_method)

        model = cls()
        model.servable.options = {"serialization_method": serialization_method}
        model.add_file(path, name="model")
        model.add_requirement("scikit-learn", saved_version)
        model.inspect_model(estimator, n_input_columns=n_input_columns, classes=classes)
        return model

    def inspect_model(
        self,
        model: Any,
        n_input_columns: int | None = None,
        classes: int | Sequence[Any] | None = None,
    ) -> Self:
        """Extract and store metadata that describes an ML model.

        Fills ``model_type``, ``model_summary``, the options (``is_classifier``,
        classes) and the ``run`` method: its input, its output and the defaults of
        the prediction method's other arguments.

        Args:
            model (BaseEstimator): Model to be inspected.
            n_input_columns: Number of input columns (``None``: read from the model).
            classes: Number or names of the classes of a classifier (``None``: read from the model).

        Raises:
            InvalidMetadata: The model is not an estimator, or it disagrees with the
                given number of columns or classes.
        """
        from sklearn.base import is_classifier
        from sklearn.pipeline import Pipeline

        if not hasattr(model, "predict"):
            raise InvalidMetadata(
                f"a {type(model).__name__} is not a scikit-learn estimator (it has no predict method)",
                field="dlhub.files.model",
            )
        final = model.steps[-1][-1] if isinstance(model, Pipeline) else model
        self.servable.model_type = type(final).__name__
        self.servable.model_summary = repr(model)

        n_columns = _input_columns(model, n_input_columns)
        classifier = bool(is_classifier(model))
        options = dict(self.servable.options or {})
        options["is_classifier"] = classifier
        class_names: list[Any] | None = None
        if classifier:
            n_classes, class_names = _classes(model, classes)
            options["n_classes"] = n_classes
            if class_names is not None:
                options["classes"] = class_names
        elif classes is not None:
            raise InvalidMetadata(
                f"classes were given, but a {type(final).__name__} is not a classifier",
                field="servable.options.classes",
            )
        self.servable.options = options

        use_proba = classifier and hasattr(model, "predict_proba")
        predict = model.predict_proba if use_proba else model.predict
        run = self.method("run")
        run.method_details = {"method_name": PROBABILITY_METHOD if use_proba else "predict"}
        run.parameters = _method_defaults(predict)

        self.set_inputs(
            "ndarray",
            f"List of records to evaluate with model. Each record is a list of {n_columns} variables.",
            shape=[None, n_columns],
            item_type="float",
        )
        if use_proba:
            self.set_outputs(
                "ndarray",
                f"Probabilities for membership in each of {options['n_classes']} classes",
                shape=[None, options["n_classes"]],
                item_type="float",
            )
        else:
            self._describe_predictions(model, n_columns, classifier, class_names)
        return self

    def _describe_predictions(
        self, model: Any, n_columns: int, classifier: bool, class_names: list[Any] | None
    ) -> None:
        shape, item_type = _probe_predictions(model, n_columns)
        if classifier:
            description = "Predicted class of each record"
            if class_names is not None and all(isinstance(c, str) for c in class_names):
                item_type = "string"
        else:
            description = "Predictions of the machine learning model."
        self.set_outputs("ndarray", description, shape=shape, item_type=item_type)


def _load_estimator(path: str, serialization_method: str) -> tuple[str, Any]:
    """Load the estimator and find the scikit-learn version that saved it."""
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    # scikit-learn warns when a model comes from another version; the warning
    # carries that version, which is the one the servable needs.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        try:
            if serialization_method == "joblib":
                import joblib

                estimator = joblib.load(path)
            else:
                import pickle

                with open(path, "rb") as fp:
                    estimator = pickle.load(fp)  # the user's own file, on the user's machine
        except (ImportError, AttributeError) as exc:
            raise InvalidMetadata(
                f"cannot load {path!r}: a class it needs is not importable here ({exc})",
                field="dlhub.files.model",
            ) from exc
        except Exception as exc:
            raise InvalidMetadata(
                f"cannot read {path!r} with {serialization_method}: {exc}. "
                "Check serialization_method (pickle or joblib).",
                field="dlhub.files.model",
            ) from exc
    version = str(sklearn.__version__)
    for record in caught:
        if isinstance(record.message, InconsistentVersionWarning):
            version = str(record.message.original_sklearn_version)
            if version.startswith("pre-"):  # saved before versions were recorded (0.18)
                version = "<" + version.removeprefix("pre-")
        else:  # any other warning is the user's to see
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)
    return version, estimator


def _input_columns(model: Any, n_input_columns: int | None) -> int:
    known = getattr(model, "n_features_in_", None)
    if n_input_columns is None:
        if known is None:
            raise InvalidMetadata(
                "n_input_columns is required: the model does not record its number of features",
                field="servable.methods.run.input",
            )
        return int(known)
    if isinstance(n_input_columns, bool) or not isinstance(n_input_columns, numbers.Integral):
        raise InvalidMetadata(
            f"n_input_columns must be an integer, not {n_input_columns!r}",
            field="servable.methods.run.input",
        )
    n_input_columns = int(n_input_columns)
    if n_input_columns < 1:
        raise InvalidMetadata(
            f"n_input_columns must be at least 1, not {n_input_columns}",
            field="servable.methods.run.input",
        )
    if known is not None and int(known) != n_input_columns:
        raise InvalidMetadata(
            f"n_input_columns={n_input_columns}, but the model was fitted on {int(known)} features",
            field="servable.methods.run.input",
        )
    return n_input_columns


def _jsonable(value: Any) -> Any:
    """A class label as plain JSON (numpy scalars become Python numbers or strings)."""
    if hasattr(value, "item"):
        value = value.item()
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value


def _classes(model: Any, classes: int | Sequence[Any] | None) -> tuple[int, list[Any] | None]:
    """The number of classes and, when known, their names."""
    fitted = getattr(model, "classes_", None)
    fitted_names = None
    if fitted is not None and getattr(fitted, "ndim", 1) == 1:
        fitted_names = [_jsonable(c) for c in fitted]
    if classes is None:
        if fitted_names is None:
            raise InvalidMetadata(
                "classes must be given for this classifier (a number of classes or their names)",
                field="servable.options.classes",
            )
        return len(fitted_names), fitted_names
    if isinstance(classes, (bool, str, bytes)) or not isinstance(
        classes, (numbers.Integral, Iterable)
    ):
        raise InvalidMetadata(
            f"classes must be a number or a list of names, not {classes!r}",
            field="servable.options.classes",
        )
    if isinstance(classes, numbers.Integral):
        count, names = int(classes), fitted_names
    else:
        names = [_jsonable(c) for c in classes]
        count = len(names)
    if count < 1:
        raise InvalidMetadata(
            "a classifier needs at least one class", field="servable.options.classes"
        )
    if fitted_names is not None and len(fitted_names) != count:
        raise InvalidMetadata(
            f"{count} classes were given, but the model was fitted on {len(fitted_names)}: "
            f"{fitted_names}",
            field="servable.options.classes",
        )
    return count, names


def _method_defaults(method: Any) -> dict[str, Any]:
    """Defaults of the prediction method's arguments after the data (JSON-serializable ones)."""
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return {}
    defaults: dict[str, Any] = {}
    for index, parameter in enumerate(signature.parameters.values()):
        if index == 0 or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue  # the records themselves, or **params of metadata routing
        if parameter.default is parameter.empty:
            continue
        try:
            json.dumps(parameter.default)
        except TypeError:
            continue
        defaults[parameter.name] = parameter.default
    return defaults


def _probe_predictions(model: Any, n_columns: int) -> tuple[list[int | None], str | None]:
    """Shape and item type of ``predict`` output, learned by predicting one record of zeros."""
    import numpy as np

    from dlhub_sdk.utils.types import simplify_numpy_dtype

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a probe: numerical warnings on zeros mean nothing
            predicted = np.asarray(model.predict(np.zeros((1, n_columns))))
    except Exception:
        return [None], "float"
    shape: list[int | None] = [None, *predicted.shape[1:]]
    try:
        item_type: str | None = simplify_numpy_dtype(predicted.dtype)
    except ValueError:
        item_type = None
    if item_type == "python object":
        first = predicted.flat[0] if predicted.size else None
        item_type = "string" if isinstance(first, str) else None
    return shape, item_type
