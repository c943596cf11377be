"""scikit-learn estimators saved with pickle or joblib.

``servable.options.serialization_method`` is ``"pickle"`` (the default) or
``"joblib"``; the estimator is the document's ``model`` file. ``method_details.
method_name`` names the estimator's method; the manual's ``"_predict_proba"``
means ``predict_proba``. The method's parameters are keyword arguments.
"""

from __future__ import annotations

import pickle
from typing import Any

from dlhub_runtime.shims.base import Shim

__all__ = ["ScikitLearnShim"]


class ScikitLearnShim(Shim):
    """Runs ``predict``, ``predict_proba`` (or another method) of a scikit-learn estimator."""

    def load(self) -> None:
        method = self.options.get("serialization_method", "pickle")
        path = self.file("model", fallback="pickle")
        if method == "joblib":
            import joblib

            self.model = joblib.load(path)
        elif method == "pickle":
            with open(path, "rb") as fp:
                self.model = pickle.load(fp)  # the servable's own file, inside its worker
        else:
            raise ValueError(
                f"servable.options.serialization_method must be 'pickle' or 'joblib', not {method!r}"
            )
        self.predictors = {}
        for name in self.methods:
            method_name = self.details(name).get("method_name") or "predict"
            public = method_name.lstrip("_")
            predictor = getattr(self.model, public, None)
            if predictor is None:
                raise AttributeError(
                    f"a {type(self.model).__name__} has no method {public!r} "
                    f"(servable.methods.{name}.method_details.method_name)"
                )
            self.predictors[name] = predictor

    def run(self, method: str, inputs: Any, parameters: dict[str, Any]) -> Any:
        import numpy

        return self.predictors[method](numpy.asarray(inputs), **parameters)
