"""The blob store contract: keys, errors and the `BlobStore` protocol every backend implements."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from sync.errors import SyncError

#: Keys are relative paths of plain segments, so a key can never escape a disk root
#: or mean different objects on different backends.
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}){0,7}$")
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BlobStoreError(SyncError):
    """Base of every blob store error (a `sync.errors.SyncError`)."""

    code = "blob_store_error"


class BlobNotFound(BlobStoreError, KeyError):
    """The key (or staged upload) does not exist."""

    code = "blob_not_found"

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class BlobStat:
    """What a store knows about one stored blob."""

    key: str
    size_bytes: int


def check_key(key: str) -> str:
    """Return `key` if it is a valid blob key, else raise BlobStoreError.

    >>> check_key("photos/ab/abcdef")
    'photos/ab/abcdef'
    >>> check_key("../etc/passwd")
    Traceback (most recent call last):
    ...
    sync.blobs.base.BlobStoreError: invalid blob key '../etc/passwd'
    """
    if not _KEY.match(key):
        raise BlobStoreError(f"invalid blob key {key!r}")
    return key


def check_key_prefix(prefix: str) -> str:
    """Return `prefix` if it can start a key ("" or segments ending in "/"), else raise.

    >>> check_key_prefix("thumbs/")
    'thumbs/'
    """
    if prefix and not (prefix.endswith("/") and _KEY.match(prefix[:-1])):
        raise BlobStoreError(f"invalid blob key prefix {prefix!r}")
    return prefix


def check_upload_id(upload_id: str) -> str:
    """Return `upload_id` if it can name a staging area, else raise BlobStoreError."""
    if not _UPLOAD_ID.match(upload_id):
        raise BlobStoreError(f"invalid upload id {upload_id!r}")
    return upload_id


class BlobStore(Protocol):
    """Immutable blobs by key, plus a staging area where partial uploads grow chunk by chunk.

    Staging is written only at the offset the caller has recorded (the tus offset kept in the
    database, under a row lock); whatever a crash left beyond it is overwritten or ignored.
    """

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        """Store `data` under `key`, atomically: readers see the old blob or the whole new one."""

    def get(self, key: str) -> bytes:
        """Return the whole blob; raise BlobNotFound."""

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Return up to `length` bytes from `start` (fewer at the end); raise BlobNotFound."""

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under `key`."""

    def stat(self, key: str) -> BlobStat:
        """Return the blob's size; raise BlobNotFound."""

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing key is not an error."""

    def open(self, key: str) -> BinaryIO:
        """Return a stream of the blob to read in blocks and close; raise BlobNotFound."""

    def list_blobs(self, prefix: str = "") -> Iterator[BlobStat]:
        """Yield every stored blob whose key starts with `prefix`, in key order (no staging)."""

    def stage_write(self, upload_id: str, offset: int, data: bytes) -> None:
        """Write `data` at `offset` of the upload's staged bytes (discarding any tail beyond)."""

    def stage_read(self, upload_id: str, length: int) -> Iterator[bytes]:
        """Yield the first `length` staged bytes in order; raise BlobNotFound if any are missing."""

    def stage_discard(self, upload_id: str) -> None:
        """Forget the upload's staged bytes; discarding twice is not an error."""
