"""Building servable environments with uv: shared by identical requirements, isolated otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlhub_server.execution.environments import (
    EnvironmentBuilder,
    EnvironmentBuildError,
    PackageSources,
    environment_key,
)

pytestmark = pytest.mark.slow


def _run(python: str, code: str) -> str:
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_key_ignores_order_case_and_spacing() -> None:
    assert environment_key(["numpy==2.0", "Six >= 1"]) == environment_key(["six>=1", "numpy==2.0"])
    assert environment_key(["numpy==2.0"]) != environment_key(["numpy==2.1"])
    assert environment_key(["numpy"], "3.11") != environment_key(["numpy"], "3.12")


def test_identical_requirements_share_one_environment(tmp_path: Path) -> None:
    builder = EnvironmentBuilder(tmp_path / "envs")
    lines: list[str] = []
    first = builder.build(["six==1.17.0"], log=lines.append)
    assert first.isolated and first.path is not None
    assert first.resolved["six"] == "1.17.0"
    assert "msgpack" in first.resolved
    assert (
        _run(first.python, "import six, msgpack, dlhub_runtime; print(six.__version__)") == "1.17.0"
    )
    # The environment is not the hub's: the SDK and the server are absent from it
    assert (
        _run(first.python, "import importlib.util as u; print(u.find_spec('dlhub_server'))")
        == "None"
    )
    assert any("ready" in line for line in lines)

    again = builder.build(["SIX==1.17.0"])
    assert again.path == first.path
    assert again.resolved == first.resolved


def test_two_versions_of_one_package_side_by_side(tmp_path: Path) -> None:
    builder = EnvironmentBuilder(tmp_path / "envs")
    old = builder.build(["six==1.16.0"])
    new = builder.build(["six==1.17.0"])
    assert old.path != new.path
    assert _run(old.python, "import six; print(six.__version__)") == "1.16.0"
    assert _run(new.python, "import six; print(six.__version__)") == "1.17.0"


def test_failed_build_reports_the_resolver_and_leaves_nothing(tmp_path: Path) -> None:
    builder = EnvironmentBuilder(tmp_path / "envs", sources=PackageSources(offline=True))
    with pytest.raises(EnvironmentBuildError) as info:
        builder.build(["surely-not-a-package-dlhub-test==9.9.9"])
    assert "surely-not-a-package-dlhub-test" in str(info.value)
    leftovers = [p.name for p in (tmp_path / "envs").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []


def test_shared_mode_uses_the_hub_interpreter(tmp_path: Path) -> None:
    env = EnvironmentBuilder(tmp_path / "envs", mode="shared").build(["numpy", "pytest>=7"])
    assert env.python == sys.executable and not env.isolated
    assert set(env.resolved) == {"numpy", "pytest"}
    with pytest.raises(ValueError, match="unknown environment mode"):
        EnvironmentBuilder(tmp_path, mode="docker")


def test_package_sources_follow_settings_then_pip(tmp_path: Path) -> None:
    (tmp_path / "pip.conf").write_text(
        "[global]\nextra-index-url = file:///a file:///b\nfind-links = /wheels\n"
    )
    from_pip = PackageSources.from_environment(
        {"HOME": str(tmp_path), "PIP_CONFIG_FILE": str(tmp_path / "pip.conf")}
    )
    assert from_pip.extra_index_urls == ("file:///a", "file:///b")
    assert from_pip.find_links == ("/wheels",)
    ours = PackageSources.from_environment(
        {
            "HOME": str(tmp_path),
            "DLHUB_INDEX_URL": "http://127.0.0.1:1/simple",
            "PIP_INDEX_URL": "http://x",
        }
    )
    assert ours.index_url == "http://127.0.0.1:1/simple"
    assert ours.uv_arguments()[:2] == ["--index-url", "http://127.0.0.1:1/simple"]
