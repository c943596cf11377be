"""Files that travel with a published object: listing, directories, the zip."""

from __future__ import annotations

import fnmatch
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path


def as_patterns(patterns: str | Iterable[str]) -> list[str]:
    """Normalise one glob pattern or several into a list."""
    return [patterns] if isinstance(patterns, str) else list(patterns)


def matches(relative: str, patterns: list[str]) -> bool:
    """Whether a path matches any pattern, by its relative path or its base name."""
    name = os.path.basename(relative)
    return any(fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(name, p) for p in patterns)


def files_in_directory(
    directory: str | os.PathLike[str],
    include: str | Iterable[str] = (),
    exclude: str | Iterable[str] = (),
    recursive: bool = False,
) -> list[str]:
    """Paths of the regular files in ``directory``, filtered by glob patterns, sorted."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"directory not found: {os.fspath(directory)!r}")
    include_list, exclude_list = as_patterns(include), as_patterns(exclude)
    candidates = root.rglob("*") if recursive else root.glob("*")
    selected = []
    for path in candidates:
        if not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        if include_list and not matches(relative, include_list):
            continue
        if exclude_list and matches(relative, exclude_list):
            continue
        selected.append(os.path.join(os.fspath(directory), *path.relative_to(root).parts))
    return sorted(selected)


def common_root(paths: Iterable[str]) -> str:
    """The deepest folder that holds every path (the zip's root, as the manual defines it)."""
    folders = [os.path.dirname(os.path.abspath(p)) for p in paths]
    if not folders:
        return os.getcwd()
    return os.path.commonpath(folders)


def relative_to_root(path: str, root: str) -> str:
    """Path inside the zip: relative to ``root``, with forward slashes."""
    return Path(os.path.relpath(os.path.abspath(path), root)).as_posix()


def write_zip(paths: list[str], destination: str | os.PathLike[str]) -> str:
    """Write ``paths`` into a zip at ``destination``, keeping their layout below the common root.

    Returns:
        The common root, which maps the listed paths to names inside the zip.
    """
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"files listed in the metadata do not exist: {missing}")
    root = common_root(paths)
    tmp = f"{os.fspath(destination)}.part"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(set(paths)):
            archive.write(path, arcname=relative_to_root(path, root))
    os.replace(tmp, destination)
    return root
