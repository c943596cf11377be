"""Section 4.5 of the manual: scikit-learn estimators, described by inspecting models trained here."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dlhub_sdk.exceptions import InvalidMetadata
from dlhub_sdk.models import BaseMetadataModel
from dlhub_sdk.models.servables.sklearn import ScikitLearnModel
from dlhub_sdk.utils import unserialize_object

pytestmark = pytest.mark.slow

MANUAL_RUN = {
    "input": {
        "type": "ndarray",
        "shape": [None, 4],
        "description": "List of records to evaluate with model. Each record is a list of 4 variables.",
        "item_type": {"type": "float"},
    },
    "output": {
        "type": "ndarray",
        "shape": [None, 3],
        "description": "Probabilities for membership in each of 3 classes",
        "item_type": {"type": "float"},
    },
    "parameters": {},
    "method_details": {"method_name": "_predict_proba"},
}


def iris_like(n_per_class: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs of four measurements each, like the iris data set."""
    rng = np.random.default_rng(seed)
    centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    X = np.concatenate([c + 0.3 * rng.standard_normal((n_per_class, 4)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    return X, y


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A classifier, a regressor and a pipeline, trained once and saved with pickle and joblib."""
    import joblib
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    folder = tmp_path_factory.mktemp("sklearn")
    X, y = iris_like()
    names = np.array(["setosa", "versicolor", "virginica"])
    # The manual trains an SVC; its probability option is deprecated since
    # scikit-learn 1.9, so the classifier with probabilities is a logistic regression.
    models = {
        "classifier": LogisticRegression(max_iter=200).fit(X, y),
        "svc": SVC().fit(X, names[y]),
        "regressor": LinearRegression().fit(X[:, :3], X[:, 3]),
        "two_outputs": LinearRegression().fit(X[:, :2], X[:, 2:]),
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
    }
    paths: dict[str, Any] = {"X": X, "models": models}
    for key, estimator in models.items():
        with open(folder / f"{key}.pkl", "wb") as fp:
            pickle.dump(estimator, fp)
        joblib.dump(estimator, folder / f"{key}.joblib")
        paths[key] = folder / f"{key}.pkl"
        paths[f"{key}_joblib"] = folder / f"{key}.joblib"
    return paths


def _published(model: ScikitLearnModel) -> dict[str, Any]:
    return model.set_title("Iris").set_name("iris").to_dict()


def test_manual_example_classifier(trained: dict[str, Any], reference_validate) -> None:
    import sklearn

    shutil.copy(trained["classifier"], "model.pkl")

    # Loading SVC trained on the iris dataset
    # fmt: off
    model_info = ScikitLearnModel.create_model('model.pkl', n_input_columns=4, classes=3)
    # fmt: on

    doc = _published(model_info)
    assert doc["servable"]["methods"] == {"run": MANUAL_RUN}
    assert doc["servable"]["type"] == "Scikit-learn estimator"
    assert doc["servable"]["shim"] == "sklearn.ScikitLearnServable"
    assert doc["servable"]["model_type"] == "LogisticRegression"
    assert doc["servable"]["model_summary"] == repr(trained["models"]["classifier"])
    assert doc["servable"]["options"] == {
        "serialization_method": "pickle",
        "is_classifier": True,
        "n_classes": 3,
        "classes": [0, 1, 2],
    }
    assert doc["dlhub"]["dependencies"] == {"python": {"scikit-learn": sklearn.__version__}}
    assert doc["dlhub"]["files"] == {"model": "model.pkl"}
    reference_validate(doc)

    # The manual's way of editing a description changes the model itself
    # fmt: off
    model_info['servable']['methods']['run']['output']['description'] = 'Response'
    # fmt: on
    assert model_info.to_dict()["servable"]["methods"]["run"]["output"]["description"] == "Response"


def test_round_trip(trained: dict[str, Any]) -> None:
    model = ScikitLearnModel.create_model(str(trained["classifier"]), 4, classes=3)
    doc = _published(model)
    again = BaseMetadataModel.from_dict(json.loads(json.dumps(doc)))
    assert isinstance(again, ScikitLearnModel)
    assert again == model
    assert unserialize_object(doc) == model
    assert again.to_dict() == doc


def test_joblib_and_class_names(trained: dict[str, Any], reference_validate) -> None:
    names = ["setosa", "versicolor", "virginica"]
    model = ScikitLearnModel.create_model(
        str(trained["classifier_joblib"]), 4, classes=names, serialization_method="joblib"
    )
    doc = _published(model)
    assert doc["servable"]["options"]["serialization_method"] == "joblib"
    assert doc["servable"]["options"]["classes"] == names
    assert doc["servable"]["methods"]["run"]["output"]["shape"] == [None, 3]
    reference_validate(doc)


def test_numpy_integers_are_accepted(trained: dict[str, Any]) -> None:
    model = ScikitLearnModel.create_model(
        str(trained["classifier"]), np.int64(4), classes=np.int32(3)
    )
    assert model.servable.options is not None and model.servable.options["n_classes"] == 3
    assert model.method("run").input is not None and model.method("run").input.shape == [None, 4]


def test_classes_and_columns_read_from_the_estimator(trained: dict[str, Any]) -> None:
    model = ScikitLearnModel.create_model(str(trained["classifier"]), None)
    run = model.method("run")
    assert run.input is not None and run.input.shape == [None, 4]
    assert run.output is not None and run.output.shape == [None, 3]
    assert model.servable.options == {
        "serialization_method": "pickle",
        "is_classifier": True,
        "n_classes": 3,
        "classes": [0, 1, 2],
    }


def test_regressor_predicts(trained: dict[str, Any], reference_validate) -> None:
    model = ScikitLearnModel.create_model(str(trained["regressor"]), n_input_columns=3)
    doc = _published(model)
    assert doc["servable"]["methods"]["run"] == {
        "input": {
            "type": "ndarray",
            "description": "List of records to evaluate with model. Each record is a list of 3 variables.",
            "shape": [None, 3],
            "item_type": {"type": "float"},
        },
        "output": {
            "type": "ndarray",
            "description": "Predictions of the machine learning model.",
            "shape": [None],
            "item_type": {"type": "float"},
        },
        "parameters": {},
        "method_details": {"method_name": "predict"},
    }
    assert doc["servable"]["options"] == {"serialization_method": "pickle", "is_classifier": False}
    assert doc["servable"]["model_type"] == "LinearRegression"
    reference_validate(doc)

    two = ScikitLearnModel.create_model(str(trained["two_outputs"]), 2)
    assert _published(two)["servable"]["methods"]["run"]["output"]["shape"] == [None, 2]


def test_classifier_without_probabilities_predicts_labels(trained: dict[str, Any]) -> None:
    model = ScikitLearnModel.create_model(str(trained["svc"]), 4)
    doc = _published(model)
    run = doc["servable"]["methods"]["run"]
    assert run["method_details"] == {"method_name": "predict"}
    assert run["output"] == {
        "type": "ndarray",
        "description": "Predicted class of each record",
        "shape": [None],
        "item_type": {"type": "string"},
    }
    assert doc["servable"]["options"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert doc["servable"]["model_type"] == "SVC"


def test_pipeline_is_described_by_its_last_step(trained: dict[str, Any]) -> None:
    model = ScikitLearnModel.create_model(str(trained["pipeline"]), 4, classes=3)
    assert model.servable.model_type == "LogisticRegression"
    assert "StandardScaler" in (model.servable.model_summary or "")
    assert model.method("run").method_details == {"method_name": "_predict_proba"}


def test_inspect_model_directly(trained: dict[str, Any]) -> None:
    model = ScikitLearnModel().inspect_model(trained["models"]["regressor"])
    assert model.servable.model_type == "LinearRegression"
    assert model.method("run").input is not None
    assert model.method("run").input.shape == [None, 3]


def test_version_that_saved_the_model_is_the_requirement(trained: dict[str, Any]) -> None:
    import sklearn

    current = sklearn.__version__
    older = ("0" if current[0] != "0" else "9") + current[1:]
    data = Path(trained["classifier"]).read_bytes()
    assert current.encode() in data
    Path("old.pkl").write_bytes(data.replace(current.encode(), older.encode()))

    model = ScikitLearnModel.create_model("old.pkl", 4, classes=3)
    assert model.requirements == {"scikit-learn": older}


def test_missing_file_and_bad_arguments(trained: dict[str, Any]) -> None:
    path = str(trained["classifier"])
    with pytest.raises(FileNotFoundError, match="nothere.pkl"):
        ScikitLearnModel.create_model("nothere.pkl", 4, classes=3)
    with pytest.raises(InvalidMetadata, match="serialization_method"):
        ScikitLearnModel.create_model(path, 4, classes=3, serialization_method="dill")
    with pytest.raises(InvalidMetadata, match="fitted on 4 features"):
        ScikitLearnModel.create_model(path, 5, classes=3)
    with pytest.raises(InvalidMetadata, match="n_input_columns must be an integer"):
        ScikitLearnModel.create_model(path, "4", classes=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidMetadata, match="classes must be a number or a list of names"):
        ScikitLearnModel.create_model(path, 4, classes=3.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidMetadata, match="2 classes were given"):
        ScikitLearnModel.create_model(path, 4, classes=2)
    with pytest.raises(InvalidMetadata, match="not a classifier"):
        ScikitLearnModel.create_model(str(trained["regressor"]), 3, classes=3)
    Path("notes.pkl").write_text("not a pickle")
    with pytest.raises(InvalidMetadata, match="cannot read"):
        ScikitLearnModel.create_model("notes.pkl", 4)
    with open("plain.pkl", "wb") as fp:
        pickle.dump({"a": 1}, fp)
    with pytest.raises(InvalidMetadata, match="not a scikit-learn estimator"):
        ScikitLearnModel.create_model("plain.pkl", 4)
