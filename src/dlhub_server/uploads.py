"""Checking an uploaded zip before anything in it is stored.

A publication's files arrive as one zip. It is refused, with every bad entry
listed, when an entry could escape the folder it is unpacked into (absolute
path, ``..``), is a symbolic link, is encrypted or appears twice, and when it
holds too many entries or unpacks to too many bytes. Then every file the
document lists must be in it.
"""

from __future__ import annotations

import posixpath
import re
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dlhub_server.errors import InvalidUpload, PayloadTooLarge

__all__ = ["ZipMember", "ZipSource", "check_listed_files", "inspect_zip", "open_member"]

_DRIVE = re.compile(r"^[A-Za-z]:")

#: A zip on disk, or an open seekable binary file holding one.
ZipSource = str | Path | BinaryIO


@dataclass(frozen=True)
class ZipMember:
    """A regular file in an accepted zip.

    Attributes:
        path: Its path inside the zip (forward slashes, relative).
        size: Its unpacked size in bytes.
        info: The zip's record of it.
    """

    path: str
    size: int
    info: zipfile.ZipInfo


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = re.split(r"[\\/]", name)
    if "\x00" in name:
        return "the name holds a NUL character"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute path; store paths relative to the model's folder"
    if ".." in parts:
        return "the path climbs out of the folder ('..'); store paths inside the model's folder"
    # Unix zips keep the file's mode in the high bytes; the type bits may be absent.
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "symbolic link; add the file it points to instead of the link"
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "not a regular file (device, pipe or socket)"
    if info.flag_bits & 0x1:
        return "encrypted entry; upload an unencrypted zip"
    return None


def inspect_zip(path: ZipSource, *, max_unpacked_bytes: int, max_entries: int) -> list[ZipMember]:
    """The files of an uploaded zip, after checking it is safe to store.

    Args:
        path: The zip (a path, or a seekable binary file).
        max_unpacked_bytes: Largest total unpacked size accepted (``DLHUB_MAX_UNPACKED_BYTES``).
        max_entries: Most entries accepted (``DLHUB_MAX_ZIP_ENTRIES``).

    Raises:
        InvalidUpload: Not a zip, or entries that are unsafe (all listed in ``details``).
        PayloadTooLarge: Too many entries or too many bytes once unpacked.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidUpload(
            f"the uploaded file is not a readable zip ({exc}); send the archive from "
            "model.get_zip_file(...)",
            details=[{"field": "file", "message": "not a zip"}],
        ) from None
    if len(infos) > max_entries:
        raise PayloadTooLarge(
            f"the zip holds {len(infos)} entries; this hub accepts at most {max_entries} "
            "(DLHUB_MAX_ZIP_ENTRIES)",
            details={"entries": len(infos), "limit": max_entries},
        )
    problems: list[dict[str, str]] = []
    members: list[ZipMember] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        problem = _entry_problem(info)
        if problem is None and info.filename in seen:
            problem = "appears more than once"
        seen.add(info.filename)
        if problem is not None:
            problems.append({"field": f"file:{info.filename}", "message": problem})
            continue
        if info.is_dir():
            continue
        total += info.file_size
        members.append(ZipMember(info.filename, info.file_size, info))
    if problems:
        summary = "; ".join(f"{p['field'][5:]}: {p['message']}" for p in problems)
        raise InvalidUpload(f"the zip has unsafe entries: {summary}", details=problems)
    if total > max_unpacked_bytes:
        raise PayloadTooLarge(
            f"the zip unpacks to {total} bytes; this hub accepts at most {max_unpacked_bytes} "
            "(DLHUB_MAX_UNPACKED_BYTES)",
            details={"unpacked_bytes": total, "limit": max_unpacked_bytes},
        )
    return members


def check_listed_files(listed: list[str], members: list[ZipMember]) -> None:
    """Raise :class:`InvalidUpload` naming every listed file that is not in the zip."""
    present = {posixpath.normpath(m.path) for m in members}
    missing = [p for p in listed if posixpath.normpath(p) not in present]
    if missing:
        raise InvalidUpload(
            f"files listed in dlhub.files are not in the zip: {', '.join(missing)}; list paths "
            "relative to the zip's root (model.to_dict(simplify_paths=True)) and zip the same "
            "files (model.get_zip_file(...))",
            details=[{"field": f"dlhub.files:{p}", "message": "not in the zip"} for p in missing],
        )


@contextmanager
def open_member(path: ZipSource, member: ZipMember) -> Iterator[BinaryIO]:
    """Read one member's bytes (the zip checks its CRC at the end)."""
    with zipfile.ZipFile(path) as archive, archive.open(member.info) as stream:
        yield stream  # type: ignore[misc]
