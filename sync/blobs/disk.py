"""The local-disk blob store: one file per blob under a root, partial uploads beside them."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sync.blobs.base import BlobNotFound, BlobStat, check_key, check_key_prefix, check_upload_id

_COPY_BYTES = 1024 * 1024


class DiskBlobStore:
    """Blobs as files under `root/blobs/`, staged uploads as files under `root/staging/`.

    Good for one machine (or a shared POSIX filesystem). Writes go to a temporary file that is
    fsynced and renamed into place, so a crash never leaves half a blob under its key.

    >>> import tempfile
    >>> store = DiskBlobStore(tempfile.mkdtemp())
    >>> store.put("photos/x", b"abc"); store.get("photos/x")
    b'abc'
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._blobs = self.root / "blobs"
        self._staging = self.root / "staging"

    def _path(self, key: str) -> Path:
        return self._blobs / check_key(key)

    def _stage_path(self, upload_id: str) -> Path:
        return self._staging / check_upload_id(upload_id)

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, bytes | bytearray | memoryview):
                    handle.write(data)
                else:
                    while block := data.read(_COPY_BYTES):
                        handle.write(block)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def read_range(self, key: str, start: int, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as handle:
                handle.seek(start)
                return handle.read(length)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def stat(self, key: str) -> BlobStat:
        try:
            return BlobStat(key=key, size_bytes=self._path(key).stat().st_size)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def list_blobs(self, prefix: str = "") -> Iterator[BlobStat]:
        # Sorted as strings, as S3 lists them; dot files are a `put` still being written.
        found = []
        for folder, _dirs, files in os.walk(self._blobs / check_key_prefix(prefix)):
            for name in files:
                if not name.startswith("."):
                    path = Path(folder, name)
                    found.append((path.relative_to(self._blobs).as_posix(), path))
        for key, path in sorted(found):
            try:
                yield BlobStat(key=key, size_bytes=path.stat().st_size)
            except FileNotFoundError:  # deleted since the walk
                continue

    def stage_write(self, upload_id: str, offset: int, data: bytes) -> None:
        path = self._stage_path(upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as handle:
            handle.seek(offset)
            handle.write(data)
            # A crash after an earlier write may have left bytes the database never counted.
            handle.truncate(offset + len(data))
            handle.flush()
            os.fsync(handle.fileno())

    def stage_read(self, upload_id: str, length: int) -> Iterator[bytes]:
        path = self._stage_path(upload_id)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise BlobNotFound(upload_id) from None
        with handle:
            if os.fstat(handle.fileno()).st_size < length:
                raise BlobNotFound(upload_id)
            remaining = length
            while remaining > 0:
                block = handle.read(min(_COPY_BYTES, remaining))
                if not block:
                    raise BlobNotFound(upload_id)
                remaining -= len(block)
                yield block

    def stage_discard(self, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._stage_path(upload_id).unlink()
