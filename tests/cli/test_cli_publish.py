"""`dlhub publish`: from a folder or a git repository, following the task, and every refusal."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from clitools import one_error_line, publish, write_numpy_max, write_servable

from dlhub_cli import tasks
from dlhub_cli._errors import PublicationFailed
from dlhub_cli.publishing import _announce

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_publish_local_prints_the_task_then_its_steps(hub, alice) -> None:
    write_servable(Path("."), "doubler")
    answer = hub.run("publish", "--local")
    assert answer.exit_code == 0, answer.output
    lines = answer.output.splitlines()
    task_id = re.fullmatch(rf"task ({UUID})", lines[0]).group(1)
    assert re.search(rf"publish {task_id}: succeeded", answer.output)
    for step in ("validate", "store", "record", "build environment"):
        assert re.search(rf"✓\s+{step}\s+succeeded", answer.output), step
    assert lines[-1] == "Published alice/doubler version 1; its environment is ready"
    assert alice.describe_servable("alice/doubler")["dlhub"]["servable_version"] == 1

    # Publishing again makes version 2.
    again = hub.run("publish", "--local", "--json")
    assert again.exit_code == 0, again.output
    task = json.loads(again.output)
    assert task["status"] == "succeeded" and task["result"]["version"] == 2


def test_dir_resolves_the_files_relative_to_dlhub_json(hub, alice, tmp_path: Path) -> None:
    folder = write_servable(tmp_path / "elsewhere" / "model", "relative")
    document = json.loads((folder / "dlhub.json").read_text())
    assert document["dlhub"]["files"] == {"other": ["app.py"]}  # relative, as saved
    os.chdir(tmp_path)  # the command runs from another folder
    assert "Published alice/relative version 1" in publish(hub, folder)
    ran = hub.run("run", "--servable", "alice/relative", "--input", "21")
    assert ran.exit_code == 0 and json.loads(ran.output) == 42


def test_a_servable_without_files(hub, alice) -> None:
    assert "Published alice/numpy_max version 1" in publish(hub, write_numpy_max(Path("m")))


def test_no_wait_returns_the_task_id_at_once(hub, alice) -> None:
    write_servable(Path("."), "quick")
    answer = hub.run("publish", "--local", "--no-wait")
    assert answer.exit_code == 0, answer.output
    task_id = answer.stdout.strip()  # alone, for  task=$(dlhub publish --local --no-wait)
    assert re.fullmatch(UUID, task_id)
    assert f"`dlhub status --task {task_id}`" in answer.stderr
    as_json = hub.run("publish", "--local", "--no-wait", "--json")
    assert re.fullmatch(UUID, json.loads(as_json.output)["task_id"])


def test_publish_a_git_repository(hub, alice, tmp_path: Path) -> None:
    repository = tmp_path / "repository"
    write_servable(repository / "model", "from_git")
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "servable"]):
        subprocess.run(["git", *command], cwd=repository, check=True, env=environment)
    answer = hub.run("publish", "--repository", str(repository), "--path", "model")
    assert answer.exit_code == 0, answer.output
    assert "Published alice/from_git version 1" in answer.output

    # Without --path there is no dlhub.json at the root.
    line = one_error_line(hub.run("publish", "--repository", str(repository)))
    assert "no dlhub.json at the root" in line
    assert line.endswith("at the repository's root or at --path)")
    line = one_error_line(hub.run("publish", "--repository", str(tmp_path / "nothing")))
    assert "git could not clone" in line


def test_the_manuals_globus_route_is_explained(cli) -> None:
    for args in (["--globus"], ["--globus", "--endpoint", "abc"]):
        answer = cli("publish", *args)
        assert answer.exit_code == 2 and "Globus is not available" in answer.output


def test_local_or_repository_exactly_one(cli) -> None:
    for args in ([], ["--local", "--repository", "x"], ["--local", "--path", "p"]):
        answer = cli("publish", *args)
        assert answer.exit_code == 2, (args, answer.output)


def test_no_dlhub_json(cli, alice) -> None:
    line = one_error_line(cli("publish", "--local"))
    assert line.startswith("Error: no dlhub.json in ")
    assert line.endswith(
        "(write dlhub.json with `python describe_servable.py` (start one with `dlhub init`))"
    )


def test_a_document_the_sdk_refuses(cli, alice) -> None:
    write_servable(Path("."), "untitled")
    document = json.loads(Path("dlhub.json").read_text())
    document["datacite"]["titles"] = []
    Path("dlhub.json").write_text(json.dumps(document))
    line = one_error_line(cli("publish", "--local"))
    assert line.startswith("Error: datacite.titles: a title is required")


def test_malformed_dlhub_json(cli, alice) -> None:
    Path("dlhub.json").write_text('{"dlhub": {"name": "x",}')
    line = one_error_line(cli("publish", "--local"))
    assert "dlhub.json is not valid JSON" in line and "line 1" in line
    assert line.endswith("run it to rewrite dlhub.json, and publish again)")

    Path("dlhub.json").write_text("[1, 2]")
    assert "does not hold a DLHub document" in one_error_line(cli("publish", "--local"))


def test_a_listed_file_that_is_missing(cli, alice) -> None:
    write_servable(Path("."), "missing")
    Path("app.py").unlink()
    line = one_error_line(cli("publish", "--local"))
    assert "dlhub.files: files listed in" in line and "do not exist: app.py" in line


def test_a_document_the_hub_rejects_lists_every_problem(cli, alice) -> None:
    write_servable(Path("."), "rejected")
    document = json.loads(Path("dlhub.json").read_text())
    # Two mistakes the SDK lets through and the hub's schemas catch.
    document["datacite"]["publicationYear"] = "last year"
    document["datacite"]["identifier"]["identifier"] = "not a DOI"
    Path("dlhub.json").write_text(json.dumps(document))
    line = one_error_line(cli("publish", "--local"))
    assert line.startswith("Error: the metadata document is not valid: ")
    assert "datacite.publicationYear: 'last year' does not match" in line
    assert "datacite.identifier.identifier: 'not a DOI' does not match" in line
    assert line.endswith(
        "(fix describe_servable.py, run it to rewrite dlhub.json, and publish again)"
    )


def test_publishing_needs_a_login(cli) -> None:
    write_servable(Path("."), "anonymous")
    line = one_error_line(cli("publish", "--local"))
    assert line.startswith("Error: not logged in to the hub at http://testserver")


def _task(*states: str) -> dict:
    names = ("validate", "store", "record", "build environment")
    steps = [
        {"name": n, "state": s, "log": f"{n} log\nlast line of {n}"} for n, s in zip(names, states)
    ]
    return {
        "id": "t1",
        "kind": "publish",
        "status": tasks.task_state({"status": _overall(states)}),
        "steps": steps,
        "result": {"name": "alice/x", "version": 3},
    }


def _overall(states: tuple[str, ...]) -> str:
    for state in ("failed", "running", "pending"):
        if state in states:
            return state
    return "succeeded"


def test_a_build_that_never_starts_counts_as_published(capsys) -> None:
    # A hub without an executor leaves the build pending for good: stop following and say so.
    calls = []

    def status() -> dict:
        calls.append(1)
        return _task("succeeded", "succeeded", "succeeded", "pending")

    task = tasks.follow_task(status, timeout=30, show=False, pending_grace=0.2, interval=0.05)
    assert tasks.only_build_pending(task) and 2 <= len(calls) < 20
    _announce(task, "t1")
    out = capsys.readouterr().out
    assert out.startswith("Published alice/x version 3; the build environment step has not started")
    assert "`dlhub status --task t1`" in out


def test_following_stops_at_the_timeout_and_says_the_task_goes_on() -> None:
    running = _task("succeeded", "succeeded", "succeeded", "running")
    task = tasks.follow_task(lambda: running, timeout=0.2, show=False, interval=0.05)
    with pytest.raises(TimeoutError, match="still running"):
        _announce(task, "t1")


def test_a_failed_step_is_the_error_with_its_last_log_line() -> None:
    failed = _task("succeeded", "succeeded", "succeeded", "failed")
    with pytest.raises(PublicationFailed) as caught:
        _announce(failed, "t1")
    assert str(caught.value) == (
        "publication task t1 failed at step 'build environment': last line of build environment"
    )


def test_a_build_that_starts_is_followed_to_its_end() -> None:
    states = iter(
        [
            _task("succeeded", "succeeded", "succeeded", "pending"),
            _task("succeeded", "succeeded", "succeeded", "running"),
            _task("succeeded", "succeeded", "succeeded", "running"),
            _task("succeeded", "succeeded", "succeeded", "succeeded"),
        ]
    )
    task = tasks.follow_task(lambda: next(states), timeout=30, show=False, interval=0.01)
    assert task["status"] == "succeeded"
