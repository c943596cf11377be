"""Isolated environments through the hub: each servable gets its own packages, built with uv."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from servertools import publish_and_wait, wait_for_task

from dlhub_sdk.client import DLHubClient
from dlhub_sdk.models.servables.python import PythonStaticMethodModel
from hubtools import PASSWORD

pytestmark = pytest.mark.slow

VERSION_APP = "import six\n\ndef version(_):\n    return six.__version__\n"


def _six_servable(folder: Path, name: str, six_version: str) -> PythonStaticMethodModel:
    folder.mkdir(parents=True)
    (folder / "sixapp.py").write_text(VERSION_APP)
    model = PythonStaticMethodModel.create_model("sixapp", "version").add_file(
        str(folder / "sixapp.py")
    )
    model.set_inputs("number", "ignored").set_outputs("string", "six's version")
    model.add_requirement("six", six_version)
    return model.set_title(f"six {six_version}").set_name(name)


def test_two_versions_of_one_package_side_by_side(
    make_http: Callable[..., httpx.Client], tmp_path: Path
) -> None:
    http = make_http(environments="isolated", warm_on_publish=True)
    client = DLHubClient.login("heidi", PASSWORD, register=True, http_client=http)
    old = publish_and_wait(client, _six_servable(tmp_path / "old", "six_old", "1.16.0"))
    publish_and_wait(client, _six_servable(tmp_path / "new", "six_new", "1.17.0"))
    assert client.run("heidi/six_old", 0) == "1.16.0"
    assert client.run("heidi/six_new", 0) == "1.17.0"
    # the resolved versions are recorded on the version, and the build log is in the task
    environment = client.describe_servable("heidi/six_old")["dlhub"]["environment"]
    assert environment["isolated"] is True and environment["packages"]["six"] == "1.16.0"
    build = next(s for s in old["steps"] if s["name"] == "build environment")
    assert "six==1.16.0" in build["log"] and build["state"] == "succeeded"


def test_unresolvable_requirements_fail_the_publication_with_the_resolver_message(
    make_http: Callable[..., httpx.Client], tmp_path: Path
) -> None:
    http = make_http(environments="isolated", uv_offline=True)
    client = DLHubClient.login("ivan", PASSWORD, register=True, http_client=http)
    model = _six_servable(tmp_path / "bad", "broken", "1.16.0")
    model.add_requirement("surely-not-a-package-dlhub-test", "9.9.9")
    status = wait_for_task(client, client.publish_servable(model), timeout=120)
    assert status["status"] == "failed"
    build = next(s for s in status["steps"] if s["name"] == "build environment")
    assert build["state"] == "failed" and "surely-not-a-package-dlhub-test" in build["log"]
