"""Resolving Python requirements: detect installed versions, ask the index, read repo2docker files."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from pathlib import Path

from dlhub_sdk.exceptions import RequirementError

#: Where ``add_requirement(lib, 'latest')`` asks for the newest release (PyPI's JSON API).
DEFAULT_PYPI_URL = "https://pypi.org/pypi"

_REQ_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*?)\s*$")


def detect_version(library: str) -> str:
    """Version of ``library`` installed in this interpreter."""
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        module = importlib.import_module(library)
    except ImportError as exc:
        raise RequirementError(
            f"cannot detect the version of {library!r}: it is not installed in this Python "
            f"({exc}). Install it, or give the version explicitly."
        ) from exc
    version = getattr(module, "__version__", None)
    if not isinstance(version, str):
        raise RequirementError(f"cannot detect the version of {library!r}: it has no __version__")
    return version


def latest_version(library: str, timeout: float = 10.0) -> str:
    """Newest release of ``library`` on the package index (``DLHUB_PYPI_URL``, default PyPI)."""
    import httpx

    base = os.environ.get("DLHUB_PYPI_URL", DEFAULT_PYPI_URL).rstrip("/")
    url = f"{base}/{library}/json"
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise RequirementError(
            f"cannot look up the latest version of {library!r}: the package index at {base} "
            f"is unreachable ({exc}). Give a version, or use 'detect' for the installed one."
        ) from exc
    if response.status_code == 404:
        raise RequirementError(f"{library!r} is not on the package index at {base}")
    if response.status_code != 200:
        raise RequirementError(
            f"the package index at {base} answered {response.status_code} for {library!r}"
        )
    try:
        return str(response.json()["info"]["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RequirementError(f"unexpected answer from {url}: {exc}") from exc


def parse_requirement_line(line: str) -> tuple[str, str | None] | None:
    """Split a requirements.txt line into (name, version spec); ``None`` for non-requirements."""
    line = line.split(" #", 1)[0].strip()
    if not line or line.startswith(("#", "-")):
        return None
    if "://" in line or line.startswith("git+"):
        return line, None
    match = _REQ_LINE.match(line.split(";", 1)[0])
    if match is None:
        return None
    name, spec = match.group(1), match.group(3).strip()
    if not spec:
        return name, None
    if spec.startswith("==") and not any(c in spec[2:] for c in ",<>!=~*"):
        return name, spec[2:].strip()
    return name, spec


def read_requirements_txt(path: Path) -> dict[str, str | None]:
    """Requirements listed in a pip requirements file."""
    found: dict[str, str | None] = {}
    for line in path.read_text().splitlines():
        parsed = parse_requirement_line(line)
        if parsed:
            found[parsed[0]] = parsed[1]
    return found


def read_environment_yml(path: Path) -> dict[str, str | None]:
    """The pip part of a conda environment.yml."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from exc
    found: dict[str, str | None] = {}
    for entry in document.get("dependencies", []) or []:
        if isinstance(entry, dict) and "pip" in entry:
            for line in entry["pip"] or []:
                parsed = parse_requirement_line(str(line))
                if parsed:
                    found[parsed[0]] = parsed[1]
    return found


def pip_spec(name: str, version: str | None) -> str:
    """The requirement as pip writes it (``numpy==1.26.4``, ``torch>=2``, ``git+https://...``)."""
    if not version:
        return name
    if version[0] in "<>=!~":
        return f"{name}{version}"
    return f"{name}=={version}"
