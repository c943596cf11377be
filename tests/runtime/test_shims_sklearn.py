"""The scikit-learn shim: pickle and joblib, predict and predict_proba."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression

from dlhub_runtime import load_servable
from dlhub_sdk.models.servables.sklearn import ScikitLearnModel


@pytest.fixture(scope="module")
def classifier() -> tuple[LogisticRegression, np.ndarray]:
    x, y = make_classification(
        n_samples=60, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    return LogisticRegression(max_iter=500).fit(x, y), x[:5]


@pytest.mark.parametrize("method", ["pickle", "joblib"])
def test_predict_proba_equals_in_process(
    tmp_path: Path,
    sdk_document: Any,
    classifier: tuple[LogisticRegression, np.ndarray],
    method: str,
) -> None:
    estimator, x = classifier
    path = tmp_path / "model.pkl"
    if method == "pickle":
        path.write_bytes(pickle.dumps(estimator))
    else:
        joblib.dump(estimator, path)
    document = sdk_document(
        ScikitLearnModel.create_model(str(path), 4, serialization_method=method)
    )
    assert (
        document["servable"]["methods"]["run"]["method_details"]["method_name"] == "_predict_proba"
    )

    servable = load_servable(document, tmp_path)
    np.testing.assert_array_equal(servable.call("run", x), estimator.predict_proba(x))
    # a list of records (what JSON clients send) works too
    np.testing.assert_array_equal(servable.call("run", x.tolist()), estimator.predict_proba(x))


def test_regressor_predict(tmp_path: Path, sdk_document: Any) -> None:
    x, y = make_regression(n_samples=30, n_features=3, random_state=1)
    estimator = LinearRegression().fit(x, y)
    path = tmp_path / "reg.pkl"
    path.write_bytes(pickle.dumps(estimator))
    servable = load_servable(sdk_document(ScikitLearnModel.create_model(str(path), 3)), tmp_path)
    np.testing.assert_array_equal(servable.call("run", x[:4]), estimator.predict(x[:4]))


def test_unknown_serialization_method(tmp_path: Path, make_document: Any) -> None:
    (tmp_path / "m.pkl").write_bytes(b"")
    document = make_document(
        "sklearn.ScikitLearnServable",
        {"run": {"method_details": {"method_name": "predict"}}},
        files={"model": "m.pkl"},
        options={"serialization_method": "cloudpickle"},
    )
    with pytest.raises(ValueError, match="'pickle' or 'joblib', not 'cloudpickle'"):
        load_servable(document, tmp_path)
