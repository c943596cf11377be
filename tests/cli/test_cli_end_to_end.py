"""The real thing: the installed `dlhub` executable against `dlhub serve` in its own process,
used the way a new user would, from an empty folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from clitools import PASSWORD, dlhub_executable, served_hub

pytestmark = pytest.mark.slow

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_a_new_user_from_init_to_run(tmp_path: Path) -> None:
    home, work = tmp_path / "user-home", tmp_path / "doubler"
    home.mkdir()
    work.mkdir()

    with served_hub(tmp_path / "hub") as url:
        environment = {**os.environ, "HOME": str(home), "DLHUB_URL": url}

        def dlhub(
            *args: str, stdin: str | None = None, ok: bool = True
        ) -> subprocess.CompletedProcess[str]:
            try:
                done = subprocess.run(
                    [dlhub_executable(), *args],
                    cwd=work,
                    env=environment,
                    input=stdin,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            except subprocess.TimeoutExpired as stuck:
                pytest.fail(f"dlhub {' '.join(args)} hung:\n{stuck.stdout}\n{stuck.stderr}")
            if ok:
                assert done.returncode == 0, (args, done.stdout, done.stderr)
            return done

        init = dlhub(
            "init", "--name", "doubler", "--author", "Doe, Jane", "University of Somewhere"
        )
        assert "Wrote describe_servable.py" in init.stdout
        assert "wrote dlhub.json for doubler" in init.stdout
        assert json.loads((work / "dlhub.json").read_text())["dlhub"]["name"] == "doubler"

        login = dlhub(
            "login", "--register", "--username", "alice", "--password-stdin", stdin=PASSWORD + "\n"
        )
        assert login.stdout.splitlines() == [
            f"Created the account alice on {url}",
            f"Logged in to {url} as alice",
        ]
        assert (home / ".dlhub" / "credentials" / "DLHub_Client_tokens.json").is_file()
        assert dlhub("whoami").stdout.strip() == f"alice on {url}"

        published = dlhub("publish", "--local")
        lines = published.stdout.splitlines()
        assert re.fullmatch(rf"task {UUID}", lines[0]), lines
        assert re.search(r"validate\s+succeeded", published.stdout)
        assert lines[-1] == "Published alice/doubler version 1; its environment is ready"

        found = dlhub("search", "doubler")
        header, *rows = found.stdout.splitlines()
        assert header.split() == ["owner", "name", "version", "type", "published", "title"]
        assert [row.split()[:3] for row in rows] == [["alice", "doubler", "1"]]

        described = yaml.safe_load(dlhub("describe", "alice/doubler").stdout)
        assert described["dlhub"]["shorthand_name"] == "alice/doubler"
        assert described["datacite"]["creators"][0]["creatorName"] == "Doe, Jane"

        assert dlhub("run", "--servable", "alice/doubler", "--input", "21").stdout == "42\n"
        task_id = dlhub("run", "--servable", "alice/doubler", "--input", "4", "--async").stdout
        assert re.fullmatch(UUID, task_id.strip())
        assert dlhub("result", "--task", task_id.strip(), "--wait").stdout == "8\n"
        status = dlhub("status", "--task", task_id.strip())
        assert status.stdout.splitlines()[0] == f"run {task_id.strip()}: succeeded"

        # A mistake prints one line, and no traceback.
        missing = dlhub("describe", "alice/tripler", ok=False)
        assert missing.returncode == 1 and missing.stdout == ""
        assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
        assert missing.stderr.startswith("Error: no servable alice/tripler")

        assert dlhub("logout").stdout.strip() == f"Logged out of {url}"

    # The hub is gone now.
    down = subprocess.run(
        [dlhub_executable(), "servables"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 1
    assert down.stderr.startswith(f"Error: cannot reach the DLHub hub at {url}")
