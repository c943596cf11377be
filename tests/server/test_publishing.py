"""Publishing through DLHubClient to a hub in process: versions, owners, hashes, descriptions."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from manual_examples import class_method, numpy_max
from servertools import count_rows, sha256, wait_for_task

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.exceptions import InvalidMetadata, PermissionDenied, RepositoryError
from dlhub_sdk.utils import unserialize_object
from dlhub_sdk.utils.schemas import validate_against_dlhub_schema
from dlhub_server.hub import Hub
from dlhub_server.tables import ServableVersion, Task

HUB_FIELDS = {
    "owner",
    "id",
    "shorthand_name",
    "publication_date",
    "servable_version",
    "file_hashes",
}


def add(x: float, y: float) -> float:
    """A typed function for easy_publish (inputs and outputs come from the hints)."""
    return x + y


def test_each_user_publishes_the_manual_examples_and_versions_increase(
    alice: DLHubClient, bob: DLHubClient, tmp_path: Path
) -> None:
    for client in (alice, bob):
        user = client.get_username()
        client.publish_servable(numpy_max())
        client.publish_servable(class_method(tmp_path / user))
        task_id = client.publish_servable(numpy_max())  # a second version

        task = wait_for_task(client, task_id)  # the executor builds the environment
        assert task["status"] == "succeeded"
        steps = {s["name"]: s["state"] for s in task["steps"]}
        assert steps == {
            "validate": "succeeded",
            "store": "succeeded",
            "record": "succeeded",
            "build environment": "succeeded",
        }
        assert task["result"]["name"] == f"{user}/numpy_max"
        assert task["result"]["version"] == 2

    assert alice.list_servables() == [
        "alice/example_class",
        "alice/numpy_max",
        "bob/example_class",
        "bob/numpy_max",
    ]
    latest = alice.describe_servable("bob/numpy_max")
    first = alice.describe_servable("bob/numpy_max:1")
    assert latest["dlhub"]["servable_version"] == 2
    assert first["dlhub"]["servable_version"] == 1
    assert latest["dlhub"]["id"] != first["dlhub"]["id"]
    assert latest["dlhub"]["publication_date"] >= first["dlhub"]["publication_date"]
    assert [d["dlhub"]["servable_version"] for d in bob.get_versions("bob/numpy_max")] == [2, 1]
    assert len(alice.get_servables(only_latest_version=False)) == 6
    assert len(alice.get_servables()) == 4


def test_describe_returns_what_was_published_plus_the_hub_fields(
    alice: DLHubClient, tmp_path: Path
) -> None:
    model = class_method(tmp_path / "model", a=3)
    sent = model.to_dict(simplify_paths=True)
    alice.publish_servable(model)

    described = alice.describe_servable("alice/example_class")
    # the environment is recorded once the executor has built it
    assert set(described["dlhub"]) - set(sent["dlhub"]) - {"environment"} == HUB_FIELDS
    for block in ("datacite", "servable"):
        assert described[block] == sent[block]
    assert described["dlhub"]["owner"] == "alice"
    assert described["dlhub"]["shorthand_name"] == "alice/example_class"
    assert isinstance(described["dlhub"]["publication_date"], int)
    assert described["dlhub"]["servable_version"] == 1
    # What the hub adds keeps the document readable by the SDK and valid under its schema.
    assert unserialize_object(described).to_dict()["servable"] == sent["servable"]
    validate_against_dlhub_schema(described, "servable")

    methods = alice.describe_methods("alice/example_class")
    assert set(methods) == {"run"} and "method_details" not in methods["run"]
    assert alice.describe_methods("alice/example_class", "run")["input"]["type"] == "float"


def test_file_hashes_match_the_uploaded_bytes(
    alice: DLHubClient, http, hub: Hub, tmp_path: Path
) -> None:
    alice.publish_servable(class_method(tmp_path / "model", a=2))
    pickled = (tmp_path / "model" / "pickle.pkl").read_bytes()
    source = (tmp_path / "model" / "example.py").read_bytes()

    hashes = alice.describe_servable("alice/example_class")["dlhub"]["file_hashes"]
    assert hashes == {"pickle.pkl": sha256(pickled), "example.py": sha256(source)}
    assert sorted(hub.storage.list()) == sorted(hashes.values())
    token = {"Authorization": f"Bearer {alice._token}"}
    download = http.get(
        "/api/v1/servables/alice/example_class/versions/1/files/pickle.pkl", headers=token
    )
    assert download.status_code == 200 and download.content == pickled
    assert download.headers["x-content-sha256"] == sha256(pickled)


def test_identical_files_are_stored_once(
    alice: DLHubClient, bob: DLHubClient, hub: Hub, tmp_path: Path
) -> None:
    alice.publish_servable(class_method(tmp_path / "a", a=5))
    bob.publish_servable(class_method(tmp_path / "b", a=5))
    alice.publish_servable(class_method(tmp_path / "a", a=5))
    assert len(list(hub.storage.list())) == 2  # the pickle and example.py, shared by all three


def test_other_users_cannot_publish_over_a_servable(
    alice: DLHubClient, bob: DLHubClient, hub: Hub
) -> None:
    alice.publish_servable(numpy_max())
    published = alice.describe_servable("alice/numpy_max")

    # Bob republishes alice's document as it came from the hub (it names alice as owner).
    with pytest.raises(
        PermissionDenied, match="only alice can publish new versions of alice/numpy_max"
    ) as caught:
        bob.publish_servable(unserialize_object(published))
    assert caught.value.status_code == 403
    assert [d["dlhub"]["servable_version"] for d in alice.get_versions("alice/numpy_max")] == [1]
    assert count_rows(hub, Task) == 1

    # Without the hub's fields, the same name is simply bob's own servable.
    bob.publish_servable(numpy_max())
    assert bob.describe_servable("bob/numpy_max")["dlhub"]["servable_version"] == 1
    # ...and alice can publish a new version from the document the hub returned.
    alice.publish_servable(unserialize_object(published))
    assert alice.describe_servable("alice/numpy_max")["dlhub"]["servable_version"] == 2


def test_easy_publish(alice: DLHubClient) -> None:
    task_id = alice.easy_publish(
        "Adder",
        "Smith, Jane",
        "adder",
        "static_method",
        {"f": add},
        affiliations=[["Argonne National Laboratory"]],
        paper_doi="10.1000/xyz123",
    )
    assert alice.get_task_status(task_id)["result"]["name"] == "alice/adder"
    described = alice.describe_servable("alice/adder")
    assert described["datacite"]["titles"][0]["title"] == "Adder"
    assert described["datacite"]["creators"][0]["familyName"] == "Smith"
    assert described["datacite"]["relatedIdentifiers"][0]["relatedIdentifier"] == "10.1000/xyz123"
    run = described["servable"]["methods"]["run"]
    assert run["input"]["type"] == "tuple" and run["output"]["type"] == "float"

    with pytest.raises(ValueError, match="servable_type 'lisp' is not one of"):
        alice.easy_publish("X", "A, B", "x", "lisp", {})
    with pytest.raises(InvalidMetadata, match="serv_options"):
        alice.easy_publish("X", "A, B", "x", "class_method", {"path": "missing.pkl", "method": "f"})


def _git(folder: Path, *args: str) -> None:
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, env=environment)


def _repository_with_servable(root: Path, subfolder: str = "") -> Path:
    """A git repository holding a class-method servable's files and dlhub.json."""
    folder = root / subfolder if subfolder else root
    model = class_method(folder / "files", a=4)
    document = model.to_dict()
    # dlhub.json lists paths relative to its own folder, as describe_servable.py writes them.
    document["dlhub"]["files"] = {"pickle": "files/pickle.pkl", "other": ["files/example.py"]}
    (folder / "dlhub.json").write_text(json.dumps(document))
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "servable")
    return root


def test_publish_repository_from_a_local_git_repository(alice: DLHubClient, tmp_path: Path) -> None:
    repository = _repository_with_servable(tmp_path / "repo")
    task_id = alice.publish_repository(str(repository))

    assert alice.get_task_status(task_id)["result"]["name"] == "alice/example_class"
    described = alice.describe_servable("alice/example_class")
    assert described["dlhub"]["source_repository"] == {"url": str(repository), "path": ""}
    pickled = (repository / "files" / "pickle.pkl").read_bytes()
    assert described["dlhub"]["file_hashes"]["pickle.pkl"] == sha256(pickled)
    assert described["dlhub"]["files"] == {"pickle": "pickle.pkl", "other": ["example.py"]}


def test_publish_repository_from_a_folder_inside_it(alice: DLHubClient, tmp_path: Path) -> None:
    repository = _repository_with_servable(tmp_path / "repo", subfolder="models/example")
    alice.publish_repository(str(repository), path="models/example")
    described = alice.describe_servable("alice/example_class")
    assert described["dlhub"]["source_repository"]["path"] == "models/example"

    with pytest.raises(RepositoryError, match="no dlhub.json at the root"):
        alice.publish_repository(str(repository))
    with pytest.raises(RepositoryError, match="git could not clone"):
        alice.publish_repository(str(tmp_path / "not-a-repository"))


def test_publish_repository_refuses_files_outside_it(alice: DLHubClient, tmp_path: Path) -> None:
    repository = _repository_with_servable(tmp_path / "repo")
    document = json.loads((repository / "dlhub.json").read_text())
    document["dlhub"]["files"] = {"pickle": "../secret.pkl"}
    (tmp_path / "secret.pkl").write_bytes(b"not yours")
    (repository / "dlhub.json").write_text(json.dumps(document))
    _git(repository, "commit", "-q", "-am", "escape")
    with pytest.raises(InvalidMetadata, match=r"not in the repository: \.\./secret\.pkl"):
        alice.publish_repository(str(repository))


def test_datasets_and_pipelines_publish_through_the_same_route(
    alice: DLHubClient, hub: Hub, tmp_path: Path
) -> None:
    from dlhub_sdk.models.datasets import TabularDataset
    from dlhub_sdk.models.pipeline import PipelineModel

    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n3,4\n")
    dataset = TabularDataset.create_model(str(data)).set_title("Points").set_name("points")
    alice.publish_servable(dataset)
    alice.publish_servable(numpy_max())
    pipeline = (
        PipelineModel.create_model()
        .set_title("Max of points")
        .set_name("max_pipeline")
        .add_step("alice/numpy_max", "Max along axis 0")
    )
    alice.publish_servable(pipeline)

    assert alice.describe_servable("alice/points")["dlhub"]["type"] == "dataset"
    assert alice.describe_servable("alice/points")["dlhub"]["file_hashes"] == {
        "data.csv": sha256(data.read_bytes())
    }
    assert alice.describe_servable("alice/max_pipeline")["dlhub"]["type"] == "pipeline"
    with hub.transaction() as session:
        kinds = sorted(v.kind for v in session.query(ServableVersion))
    assert kinds == ["dataset", "pipeline", "servable"]
