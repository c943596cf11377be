"""Content-addressed storage of published files.

Every file is stored once under the SHA-256 of its bytes, so versions that share
a file share its blob, and a blob written by a publication that then fails is
harmless: nothing refers to it, and the same bytes published later reuse it.

:class:`BlobStore` is the interface; :class:`FolderBlobStore` keeps blobs in a
folder (``ab/cd/abcd...``) and writes each one atomically (temporary file, then
``os.replace``). An S3 backend implements the same four methods.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlparse

__all__ = ["BlobStore", "FolderBlobStore", "StoredBlob", "open_blob_store"]

_CHUNK = 1024 * 1024


class StoredBlob(tuple[str, int]):
    """``(sha256, size)`` of a blob just stored."""

    __slots__ = ()

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes."""
        return self[0]

    @property
    def size(self) -> int:
        """Number of bytes."""
        return self[1]


class BlobStore(Protocol):
    """Where published files live, by the SHA-256 of their content."""

    def put(self, stream: BinaryIO) -> StoredBlob:
        """Store the bytes of ``stream`` (read to its end); return their hash and size."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored blob for reading (``FileNotFoundError`` if absent)."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether a blob is stored."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove a blob (no error if it is absent)."""
        ...

    def list(self) -> Iterator[str]:
        """The hashes of every stored blob."""
        ...


def _check_hash(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
    return sha256


class FolderBlobStore:
    """Blobs as files in a folder, sharded by the first bytes of their hash."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._incoming = self.root / "incoming"
        self._incoming.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the blob with this hash is (or would be) stored."""
        _check_hash(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO) -> StoredBlob:
        digest = hashlib.sha256()
        size = 0
        # Written beside its final place (same file system), so the rename is atomic.
        fd, tmp_name = tempfile.mkstemp(dir=self._incoming, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            sha256 = digest.hexdigest()
            final = self.path(sha256)
            if final.exists():
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, final)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return StoredBlob((sha256, size))

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        try:
            os.unlink(self.path(sha256))
        except FileNotFoundError:
            pass

    def list(self) -> Iterator[str]:
        for first in sorted(self.root.iterdir()):
            if first == self._incoming or not first.is_dir():
                continue
            for path in sorted(first.glob("*/*")):
                if path.is_file():
                    yield path.name

    def clear_incoming(self, older_than: float = 3600.0) -> None:
        """Remove temporary files a killed process left behind.

        Only files older than ``older_than`` seconds go: another hub process
        sharing the folder may be writing the recent ones.
        """
        limit = time.time() - older_than
        for path in self._incoming.iterdir():
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
            except FileNotFoundError:
                pass


def open_blob_store(url: str) -> BlobStore:
    """The blob store a ``DLHUB_STORAGE_URL`` names: a folder path or ``file://`` URL.

    Raises:
        ValueError: The URL names a backend this hub does not have (e.g. ``s3://``).
    """
    parsed = urlparse(url)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt"):
        path = unquote(parsed.path) if parsed.scheme == "file" else url
        store = FolderBlobStore(Path(path).expanduser())
        store.clear_incoming()
        return store
    raise ValueError(
        f"DLHUB_STORAGE_URL={url!r}: the {parsed.scheme!r} storage backend is not available "
        "in this hub; use a folder path"
    )
