"""The README's quickstart, run as written by a new user against a hub the test starts."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from clitools import PASSWORD, dlhub_executable, served_hub

README = Path(__file__).resolve().parents[2] / "README.md"


def quickstart_blocks() -> list[list[str]]:
    """The command lines of each ```bash block between the quickstart markers."""
    text = README.read_text()
    match = re.search(r"<!-- quickstart -->(.*?)<!-- /quickstart -->", text, re.S)
    assert match, "README.md has no <!-- quickstart --> ... <!-- /quickstart --> section"
    blocks = re.findall(r"```bash\n(.*?)```", match.group(1), re.S)
    return [
        [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
        for block in blocks
    ]


def test_the_quickstart_has_the_workflow_of_the_issue() -> None:
    commands = " ".join(line for block in quickstart_blocks() for line in block)
    for step in ("serve", "login --register", "init", "publish --local", "search", "describe"):
        assert f"dlhub {step}" in commands, step
    for step in ("run --servable", "status --task"):
        assert f"dlhub {step}" in commands or f"$(dlhub {step}" in commands, step


@pytest.mark.slow
def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    blocks = quickstart_blocks()
    # The first block starts the hub; the test starts one of its own on a free port instead.
    assert blocks[0] == ["dlhub serve"]
    script = "\n".join(["set -euo pipefail", *(line for block in blocks[1:] for line in block)])
    home, work = tmp_path / "user-home", tmp_path / "user-work"
    home.mkdir()
    work.mkdir()
    with served_hub(tmp_path / "hub") as url:
        environment = {
            **os.environ,
            "HOME": str(home),
            "DLHUB_URL": url,
            # `dlhub` as installed for this interpreter comes first
            "PATH": f"{Path(dlhub_executable()).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        try:
            done = subprocess.run(
                ["bash", "-xc", script],  # -x: stderr shows which command ran last
                cwd=work,
                env=environment,
                # `dlhub login` asks for the password twice; with no terminal it reads stdin
                input=f"{PASSWORD}\n{PASSWORD}\n",
                capture_output=True,
                text=True,
                timeout=240,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as stuck:
            pytest.fail(f"the quickstart did not finish in 240 s:\n{stuck.stdout}\n{stuck.stderr}")
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    out = done.stdout
    assert f"Logged in to {url} as alice" in out
    assert "Published alice/doubler version 1" in out
    assert re.search(r"alice\s+doubler\s+1\s+Python static method", out)  # the search table
    assert "shorthand_name: alice/doubler" in out  # describe's YAML
    assert "42\n" in out and out.endswith("8\n")  # run, then the async run's result
    assert (work / "doubler" / "dlhub.json").is_file()
