"""`dlhub init`: the describe script it writes runs, and makes a dlhub.json that publishes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clitools import one_error_line, publish

from dlhub_sdk.utils import unserialize_object


def test_init_writes_a_script_that_describes_the_example(cli) -> None:
    answer = cli(
        "init",
        "--name",
        "my_model",
        "--author",
        "Ward, Logan",
        "Argonne National Laboratory",
        "--author",
        "Chard, Ryan",
        "University of Chicago",
        "--title",
        "My first model",
    )
    assert answer.exit_code == 0, answer.output
    assert "Wrote describe_servable.py" in answer.output
    assert "wrote dlhub.json for my_model" in answer.output
    script = Path("describe_servable.py").read_text()
    # The TODOs the manual's chapter 2 promises: title, abstract, requirements, servable type.
    for todo in ("descriptive title", "short abstract", "Python libraries", "servable type"):
        assert f"TODO: {todo}" in script or todo in script, todo
    assert script.count("# TODO") >= 4

    document = json.loads(Path("dlhub.json").read_text())
    model = unserialize_object(document)
    assert model.name == "my_model"
    assert document["datacite"]["titles"] == [{"title": "My first model"}]
    creators = document["datacite"]["creators"]
    assert [c["creatorName"] for c in creators] == ["Ward, Logan", "Chard, Ryan"]
    assert creators[1]["affiliations"] == ["University of Chicago"]
    assert document["servable"]["methods"]["run"]["input"]["type"] == "float"
    assert document["dlhub"]["files"] == {"other": ["app.py"]}


def test_the_script_runs_again_after_editing_and_the_result_publishes(hub, alice) -> None:
    assert hub.run("init", "--name", "tripler").exit_code == 0
    # What a user does next: replace the example with their code, fill in a TODO, rerun.
    Path("app.py").write_text("def run(x: float) -> float:\n    return 3 * x\n")
    script = Path("describe_servable.py")
    script.write_text(
        script.read_text().replace(
            'model.set_abstract("TODO: describe what this servable does.")',
            'model.set_abstract("Triples a number.")',
        )
    )
    rerun = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "Triples a number." in Path("dlhub.json").read_text()

    assert "Published alice/tripler version 1" in publish(hub, Path("."))
    ran = hub.run("run", "--servable", "alice/tripler", "--input", "2")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output) == 6


def test_skip_run_only_writes_the_script(cli) -> None:
    answer = cli("init", "--name", "later", "--skip-run", "--filename", "describe_later.py")
    assert answer.exit_code == 0, answer.output
    assert Path("describe_later.py").is_file() and Path("app.py").is_file()
    assert not Path("dlhub.json").exists()
    assert "Run `python describe_later.py`" in answer.output


def test_an_existing_script_is_kept_unless_forced(cli) -> None:
    Path("describe_servable.py").write_text("# mine\n")
    line = one_error_line(cli("init", "--name", "x"))
    assert line == (
        "Error: describe_servable.py already exists "
        "(--force overwrites it; --filename writes another one)"
    )
    assert Path("describe_servable.py").read_text() == "# mine\n"
    assert cli("init", "--name", "x", "--force").exit_code == 0
    assert "set_name('x')" in Path("describe_servable.py").read_text()


def test_an_existing_app_py_is_not_overwritten(cli) -> None:
    Path("app.py").write_text("def run(x: int) -> int:\n    return x + 1\n")
    answer = cli("init", "--name", "incr")
    assert answer.exit_code == 0, answer.output
    assert "Wrote app.py" not in answer.output
    assert "return x + 1" in Path("app.py").read_text()
    inputs = json.loads(Path("dlhub.json").read_text())["servable"]["methods"]["run"]["input"]
    assert inputs["type"] == "integer"


def test_a_script_that_fails_is_reported_in_one_line(cli) -> None:
    Path("app.py").write_text("def not_run():\n    pass\n")  # no function `run` to describe
    line = one_error_line(cli("init", "--name", "broken"))
    assert line.startswith("Error: running describe_servable.py failed: AttributeError")
    assert line.endswith("(fix it, and run it with python to see the whole traceback)")
    assert Path("describe_servable.py").is_file()


def test_a_bad_name_is_refused_before_anything_is_written(cli) -> None:
    line = one_error_line(cli("init", "--name", "has space"))
    assert "is not a valid name" in line and "(see `dlhub init --help`" in line
    assert not Path("describe_servable.py").exists()


def test_init_needs_a_name(cli) -> None:
    answer = cli("init")
    assert answer.exit_code == 2 and "Missing option '--name'" in answer.output
