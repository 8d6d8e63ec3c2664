"""Photo blobs into and out of a backup folder: streamed, hashed, checked against their names.

A backup keeps every blob as `photos/blobs/<key>` whatever store it came from (the disk
store's own layout), so one backup restores into a disk store or an object store alike.
Object stores are read and written by a small thread pool: each transfer waits on the
network far longer than it spends hashing, and hashlib releases the GIL on big blocks.
"""

from __future__ import annotations

import errno
import hashlib
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sync.blobs import BlobNotFound, BlobStore

PREFIX = "photos/blobs/"
CHUNK = 1024 * 1024
#: Photos are stored under their own SHA-256; thumbnails are derived, so only sized.
_CONTENT_ADDRESSED = re.compile(r"^photos/[0-9a-f]{2}/([0-9a-f]{64})$")

_T = TypeVar("_T")
_R = TypeVar("_R")


class PhotoCopyError(Exception):
    """A blob that cannot be copied into or out of a backup; the message names it."""


@dataclass
class CopiedOut:
    """What copying a store into a backup found."""

    files: list[dict[str, Any]] = field(default_factory=list)  # path, size, sha256
    missing: list[str] = field(default_factory=list)  # named by the database, not in the store
    damaged: list[str] = field(default_factory=list)  # content does not hash to its key
    linked: int = 0  # copied (reflinked) from the previous backup instead of fetched


def content_address(key: str) -> str | None:
    """The SHA-256 a blob's bytes must have, when its key says so (photos, not thumbnails).

    >>> content_address("photos/ab/" + "ab" * 32) == "ab" * 32
    True
    >>> content_address("thumbs/ab/x.jpg") is None
    True
    """
    match = _CONTENT_ADDRESSED.match(key)
    return match.group(1) if match else None


def copy_stream(source: BinaryIO, dest: Path) -> tuple[int, str]:
    """Write `source` to `dest` block by block; return the size and SHA-256 of what was written.

    Not fsynced here: callers sync once after the whole batch (an fsync per small file costs
    about ten times the copy).
    """
    digest = hashlib.sha256()
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        while block := source.read(CHUNK):
            digest.update(block)
            out.write(block)
            size += len(block)
    return size, digest.hexdigest()


def stream_sha256(source: BinaryIO) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while block := source.read(CHUNK):
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()


def _pooled(workers: int, fn: Callable[[_T], _R], items: Iterable[_T]) -> Iterable[_R]:
    if workers <= 1:
        return map(fn, items)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backup")
    try:
        return list(pool.map(fn, items))
    finally:  # on the first error, start nothing more
        pool.shutdown(wait=True, cancel_futures=True)


# --- out of a store, into a backup --------------------------------------------------------


def copy_out(
    store: BlobStore,
    named: Iterable[str],
    dest: Path,
    *,
    previous: Path | None = None,
    previous_files: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int = 1,
) -> CopiedOut:
    """Copy every stored blob, and every key the database names, into `dest/photos/blobs/`.

    A named key the store lacks is reported in `missing`, never skipped silently; a blob whose
    bytes do not hash to its key is reported in `damaged` and not kept. With `previous` (an
    earlier backup folder and its manifest's files by path) a blob already there with the
    same size is copied from it (reflinked where possible) and re-hashed locally instead of
    fetched (blobs never change);
    only if the store still lists it, so a blob the store lost is reported, not papered over.
    """
    named = set(named)
    listed = list_blobs(store)
    earlier = previous_files or {}

    def one(key: str) -> tuple[str, dict[str, Any] | None, bool]:
        path = PREFIX + key
        before = earlier.get(path)
        if previous is not None and before and before["size"] == listed.get(key):
            entry = _link_previous(previous / path, dest / path, key)
            if entry is not None:
                return key, {"path": path, **entry}, True
        try:
            with store.open(key) as stream:
                size, sha = copy_stream(stream, dest / path)
        except BlobNotFound:
            return key, None, False  # named and missing, or deleted since the listing
        # Whatever stops one blob (network, credentials, a full disk) must name the blob; the
        # store's own exception types (botocore's, OSError) stay chained as the cause.
        except Exception as error:
            if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise  # the destination is full, not the store: backup() says so
            raise PhotoCopyError(f"cannot copy {key} out of the photo store: {error}") from error
        if content_address(key) not in (None, sha):
            (dest / path).unlink()
            return key, {"path": path, "damaged": True}, False
        return key, {"path": path, "size": size, "sha256": sha}, False

    result = CopiedOut()
    for key, entry, linked in _pooled(workers, one, sorted(listed.keys() | named)):
        if entry is None:
            if key in named:
                result.missing.append(key)
        elif entry.get("damaged"):
            result.damaged.append(key)
        else:
            result.files.append(entry)
            result.linked += linked
    return result


def list_blobs(store: BlobStore) -> dict[str, int]:
    """Every stored blob's key and size; PhotoCopyError if the store cannot be listed."""
    try:
        return {stat.key: stat.size_bytes for stat in store.list_blobs()}
    except Exception as error:  # named and chained, as in copy_out
        raise PhotoCopyError(f"cannot list the photo store: {error}") from error


def _link_previous(earlier: Path, path: Path, key: str) -> dict[str, Any] | None:
    """Copy a blob from the previous backup (a reflink where the filesystem can); re-hash it.

    Never a hard link: two backups sharing one inode share its damage, and each backup must
    restore on its own. A reflink (FICLONE: btrfs, XFS, …) shares blocks copy-on-write, so a
    later write to either file leaves the other as it was; elsewhere it is a full local copy,
    which still saves fetching the blob from the store.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        clone_or_copy(earlier, path)
    except FileNotFoundError:
        return None
    with path.open("rb") as handle:
        size, sha = stream_sha256(handle)
    if content_address(key) not in (None, sha):
        path.unlink()  # rotted in the previous backup: fetch it afresh
        return None
    return {"size": size, "sha256": sha}


FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)


def clone_or_copy(source: Path, dest: Path) -> str:
    """Copy `source` to the new file `dest`: `reflink` if the filesystem clones, else `copy`."""
    import fcntl

    with source.open("rb") as src, dest.open("xb") as out:
        try:
            fcntl.ioctl(out.fileno(), FICLONE, src.fileno())
            return "reflink"
        except OSError:  # not supported here (ext4, tmpfs, another filesystem): copy the bytes
            shutil.copyfileobj(src, out, 1 << 20)
            return "copy"


# --- out of a backup, into a store --------------------------------------------------------


def _key(entry: Mapping[str, Any]) -> str:
    path = str(entry["path"])
    if not path.startswith(PREFIX):
        raise PhotoCopyError(f"not a photo blob: {path}")
    return path[len(PREFIX) :]


def copy_in_disk(root: Path, entries: Iterable[Mapping[str, Any]], source: Path) -> int:
    """Copy backed-up blobs into a disk store's folder `root`, re-hashing each; return a count."""
    count = 0
    for entry in entries:
        dest = root / "blobs" / _key(entry)
        with (source / entry["path"]).open("rb") as handle:
            size, sha = copy_stream(handle, dest)
        if (size, sha) != (entry["size"], entry["sha256"]):
            raise PhotoCopyError(f"restored file differs: {dest}")
        count += 1
    return count


def copy_in(
    store: BlobStore, entries: Iterable[Mapping[str, Any]], source: Path, *, workers: int = 1
) -> tuple[int, int]:
    """Upload backed-up blobs into `store`; return (uploaded, already there with the same bytes).

    The backup's files were verified against the manifest just before. A blob already in the
    store with the manifest's size is read back and kept only if its SHA-256 is the
    manifest's; otherwise it is overwritten. One listing before and one after stand in for a
    request per blob each (a HEAD costs about what a small PUT does): afterwards every blob
    must be listed with its size, or PhotoCopyError.
    """
    todo = [(entry, _key(entry)) for entry in entries]
    present = list_blobs(store)

    def one(item: tuple[Mapping[str, Any], str]) -> bool:
        entry, key = item
        if present.get(key) == entry["size"] and _same_content(store, key, entry):
            return False
        try:
            with (source / entry["path"]).open("rb") as handle:
                store.put(key, handle)
        except Exception as error:  # named and chained, as in copy_out
            raise PhotoCopyError(f"cannot store {key}: {error}") from error
        return True

    uploaded = sum(_pooled(workers, one, todo))
    stored = list_blobs(store)
    wrong = [key for entry, key in todo if stored.get(key) != entry["size"]]
    if wrong:
        raise PhotoCopyError(f"{len(wrong)} blobs are not whole in the store: {wrong[:5]}")
    return uploaded, len(todo) - uploaded


def _same_content(store: BlobStore, key: str, entry: Mapping[str, Any]) -> bool:
    try:
        with store.open(key) as stream:
            return stream_sha256(stream) == (entry["size"], entry["sha256"])
    except BlobNotFound:
        return False
