"""Helpers for the ``dlhub`` command's tests: the hub in process, error lines, servable folders."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from dlhub_cli._context import CliContext
from dlhub_cli.main import main
from dlhub_sdk.client import DLHubClient
from dlhub_server.local import start_hub
from hubtools import PASSWORD, TestClient


@contextmanager
def hub_in_process(data_dir: Path, **changes: Any) -> Iterator[Hub]:
    """A hub served in process on ``data_dir`` (servables run in the hub's own interpreter)."""
    from dlhub_server.app import create_app
    from dlhub_server.settings import Settings

    options: dict[str, Any] = {"environments": "shared", "warm_on_publish": False, **changes}
    settings = Settings.from_env(data_dir=data_dir, **options)
    with TestClient(create_app(settings)) as http:
        yield Hub(http, settings)


@dataclass
class Hub:
    """A hub served in process, and how to run ``dlhub`` against it."""

    http: Any
    settings: Any

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        """Run ``dlhub ARGS`` against this hub; returns click's result (never raises)."""
        runner = CliRunner()
        return runner.invoke(
            main, list(args), obj=CliContext(http_client=self.http), input=input, env=env
        )

    def register(self, username: str) -> DLHubClient:
        """Create an account and store its login (as `dlhub login --register` does)."""
        return DLHubClient.login(username, PASSWORD, register=True, http_client=self.http)


def one_error_line(result: Result) -> str:
    """The single ``Error: ...`` line a failed command printed (and check there is one)."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines
    assert "Traceback" not in result.output
    return lines[0]


def write_servable(folder: Path, name: str, body: str = "return 2 * x", **extra: Any) -> Path:
    """A folder with app.py (``run(x)``, returning ``body``) and its dlhub.json; returns it.

    ``extra`` may give ``title``, ``author``, ``domains``, ``doi``, ``input_type``.
    """
    from dlhub_sdk.models.servables.python import PythonStaticMethodModel

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(f"def run(x):\n    {body}\n")
    # Described by hand (not auto_inspect), so the test process never imports app.py.
    model = PythonStaticMethodModel.create_model("app", "run")
    model.set_inputs(extra.get("input_type", "float"), "A number")
    model.set_outputs("float", "Twice the number")
    model.add_file(str(folder / "app.py"))
    model.set_title(extra.get("title", f"The {name} servable")).set_name(name)
    model.set_creators([extra.get("author", "Ward, Logan")], [["Argonne National Laboratory"]])
    if "domains" in extra:
        model.set_domains(extra["domains"])
    if "doi" in extra:
        model.add_related_resource(extra["doi"], "DOI", "IsDescribedBy")
    model.save(str(folder / "dlhub.json"), simplify_paths=True)
    return folder


def write_numpy_max(folder: Path, name: str = "numpy_max") -> Path:
    """The manual's numpy.max servable (an ndarray input, no files) as dlhub.json in ``folder``."""
    from dlhub_sdk.models.servables.python import PythonStaticMethodModel

    folder.mkdir(parents=True, exist_ok=True)
    model = PythonStaticMethodModel.create_model(
        "numpy", "max", autobatch=False, function_kwargs={"axis": 0}
    )
    model.set_inputs("ndarray", "Matrix", shape=[None, None])
    model.set_outputs("ndarray", "Max of a certain axis", shape=[None])
    model.set_title("Maximum of a matrix").set_name(name)
    model.set_creators(["Ward, Logan"], [["Argonne National Laboratory"]])
    model.save(str(folder / "dlhub.json"))
    return folder


def publish(hub: Hub, folder: Path) -> str:
    """Publish the servable in ``folder`` with `dlhub publish --local --dir`; returns the output."""
    result = hub.run("publish", "--local", "--dir", str(folder))
    assert result.exit_code == 0, result.output
    return result.output


def dlhub_executable() -> str:
    """The installed ``dlhub`` command of this interpreter (not a pyenv shim, which needs HOME)."""
    beside = Path(sys.executable).parent / "dlhub"
    if beside.is_file():
        return str(beside)
    found = shutil.which("dlhub")
    assert found, "the dlhub command is not installed: pip install -e ."
    return found


@contextmanager
def served_hub(folder: Path, **environment: str) -> Iterator[str]:
    """``dlhub serve`` in its own process on a free port with its data in ``folder``; yields its URL.

    Servables run in the hub's own interpreter (``DLHUB_ENVIRONMENTS=shared``): building
    isolated environments would download packages, and the tests talk only to 127.0.0.1.
    """
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "HOME": str(folder),
        "DLHUB_ENVIRONMENTS": "shared",
        "DLHUB_WARM_ON_PUBLISH": "false",
        **environment,
    }
    hub = start_hub(
        folder / "data",
        environment=settings,
        log=folder / "serve.log",
        command=[dlhub_executable()],
    )
    try:
        yield hub.url
    finally:
        hub.stop()
