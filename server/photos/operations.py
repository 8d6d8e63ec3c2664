"""Photo uploads as verbs: create, receive a chunk, finish (verify, check, store), terminate.

Each function takes the session, the blob store and the acting device explicitly. Upload
state lives in the `uploads` table (so offsets survive restarts); partial bytes live in the
store's staging area; finished photos are stored once per SHA-256. Who may skip sending
bytes that are stored already, and who may read them, is server/photos/access.py's call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.models import Photo
from server.enums import PhotoProof, PhotoStatus
from server.photos import access, images
from server.photos.models import Upload, UploadStatus
from sync import tus
from sync.blobs import BlobStore

_SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
_EXPIRE_PER_CALL = 10
_GONE = (UploadStatus.FAILED, UploadStatus.TERMINATED, UploadStatus.EXPIRED)


@dataclass(frozen=True)
class Limits:
    """The photo limits and settings of one deployment (server/config.py)."""

    max_bytes: int
    max_pixels: int
    thumb_px: int
    expiry_s: float
    local_tz: dt.tzinfo

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            max_bytes=int(config["PHOTO_MAX_BYTES"]),
            max_pixels=int(config["PHOTO_MAX_PIXELS"]),
            thumb_px=int(config["PHOTO_THUMB_PX"]),
            expiry_s=float(config["UPLOAD_EXPIRY_S"]),
            local_tz=ZoneInfo(str(config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")),
        )


class UploadError(Exception):
    """Base of the upload errors; `code` is stable, the adapter maps classes to statuses."""

    code = "upload_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class UploadNotFound(UploadError):
    code = "upload_not_found"


class UploadGone(UploadError):
    code = "upload_gone"


class DeviceRequired(UploadError):
    """Uploads come from a phone signed in with a device token, never from a bare session."""

    code = "device_required"


class UploadRejected(UploadError):
    """The whole file was refused; the partial bytes are gone and the client starts anew."""

    code = "upload_rejected"

    def __init__(self, message: str, code: str, *, too_large: bool = False) -> None:
        super().__init__(message, code)
        self.too_large = too_large


def photo_key(sha256: str) -> str:
    return f"photos/{sha256[:2]}/{sha256}"


def thumb_key(sha256: str) -> str:
    return f"thumbs/{sha256[:2]}/{sha256}.jpg"


def _staging_id(upload: Upload) -> str:
    return upload.id.hex


def create_upload(
    session: Session,
    store: BlobStore,
    *,
    user_id: int,
    device_id: uuid.UUID,
    length: int,
    photo: tus.PhotoMetadata,
    values: dict[str, str],
    limits: Limits,
    now: dt.datetime,
) -> Upload:
    """Open an upload; answer one already finished (no bytes needed) only when the photo is
    stored and the caller may already read it. Anyone else sends the bytes: a hash is no
    proof of having the photo (server/photos/access.py).
    """
    expire_idle_uploads(session, store, now)
    stored = session.get(Photo, photo.sha256)
    user = session.get(User, user_id)
    proof = (
        access.link_proof(session, user, photo.sha256)
        if user is not None and stored is not None and stored.status == PhotoStatus.AVAILABLE
        else None
    )
    duplicate = proof is not None
    upload = Upload(
        device_id=device_id,
        user_id=user_id,
        sha256=photo.sha256,
        mime=photo.mime,
        upload_length=length,
        upload_offset=length if duplicate else 0,
        status=UploadStatus.FINISHED if duplicate else UploadStatus.OPEN,
        deduplicated=duplicate,
        metadata_values=values,
        created_at=now,
        updated_at=now,
        expires_at=tus.expires_at(now, limits.expiry_s),
        finished_at=now if duplicate else None,
    )
    session.add(upload)
    if proof is not None:
        access.prove_links(session, user_id, photo.sha256, proof)
    session.commit()
    return upload


def find_upload(
    session: Session, upload_id: uuid.UUID, device_id: uuid.UUID, now: dt.datetime
) -> Upload:
    """The caller's upload; raise UploadNotFound (also for another device's) or UploadGone."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.device_id != device_id:
        raise UploadNotFound("no such upload")
    if upload.status in _GONE:
        raise UploadGone(f"the upload is {upload.status.value}", upload.failure or "upload_gone")
    if upload.status == UploadStatus.OPEN and upload.expires_at <= now:
        raise UploadGone("the upload expired", "upload_expired")
    return upload


def receive_chunk(
    session: Session,
    store: BlobStore,
    upload: Upload,
    *,
    upload_offset: int,
    data: bytes,
    complete: bool,
    checksum: tus.Checksum | None,
    limits: Limits,
    now: dt.datetime,
) -> Upload:
    """Store a PATCH body at `upload_offset`; finish the upload when the last byte arrives.

    A body cut short by a dropped connection is kept (tus allows it) unless it came with a
    checksum, which then cannot be verified. Raises tus.ChecksumMismatch (nothing stored),
    tus.OffsetMismatch (another request moved the offset first) and UploadRejected.
    """
    if upload.status == UploadStatus.FINISHED:
        return upload
    if checksum is not None:
        if not complete:
            return upload
        if not checksum.matches(data):
            raise tus.ChecksumMismatch("the chunk does not match its Upload-Checksum")
    if not data:
        return upload
    upload_id = upload.id
    # End the read snapshot first: in SQLite's WAL mode a transaction that has read cannot
    # later take the write lock if someone else wrote meanwhile; a fresh one waits instead.
    session.commit()
    # The conditional UPDATE is the lock (row lock on PostgreSQL, the write lock on SQLite):
    # of two PATCHes racing at the same offset, the second finds the offset moved.
    claimed = session.execute(
        update(Upload)
        .where(
            Upload.id == upload_id,
            Upload.upload_offset == upload_offset,
            Upload.status == UploadStatus.OPEN,
        )
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    upload = session.get(Upload, upload_id, populate_existing=True) or upload
    if not claimed:
        session.rollback()
        raise tus.OffsetMismatch("the offset moved", offset=upload.upload_offset)
    store.stage_write(_staging_id(upload), upload_offset, data)
    upload.upload_offset = upload_offset + len(data)
    upload.bytes_written += len(data)
    upload.expires_at = tus.expires_at(now, limits.expiry_s)
    if upload.upload_offset == upload.upload_length:
        _finish(session, store, upload, limits, now)
    session.commit()
    if upload.status == UploadStatus.FINISHED:
        store.stage_discard(_staging_id(upload))
    return upload


def _finish(
    session: Session, store: BlobStore, upload: Upload, limits: Limits, now: dt.datetime
) -> None:
    """Verify the whole file, check the image, store photo and thumbnail, mark it available.

    The bytes are hashed even when the photo is stored already (another device sent it
    first): the hash is this caller's proof of having the photo, so it is never skipped.
    """
    existing = session.get(Photo, upload.sha256)
    stored = existing is not None and existing.status == PhotoStatus.AVAILABLE
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES) as spool:
        digest = hashlib.sha256()
        for block in store.stage_read(_staging_id(upload), upload.upload_length):
            digest.update(block)
            if not stored:
                spool.write(block)
        if digest.hexdigest() != upload.sha256:
            _fail(session, store, upload, "sha256_mismatch", "the file's SHA-256 is not sha256")
        if not stored:
            spool.seek(0)
            try:
                with images.open_checked(spool, limits.max_pixels) as image:
                    info = images.facts(image, limits.local_tz)
                    thumbnail = images.thumbnail_jpeg(image, limits.thumb_px)
            except images.ImageRejected as error:
                _fail(session, store, upload, error.code, str(error), too_large=error.too_large)
            spool.seek(0)
            store.put(photo_key(upload.sha256), spool)  # type: ignore[arg-type]
            store.put(thumb_key(upload.sha256), thumbnail)
            _mark_available(session, upload, info, now)
    upload.status, upload.finished_at = UploadStatus.FINISHED, now
    access.prove_links(session, upload.user_id, upload.sha256, PhotoProof.UPLOAD)


def store_photo_bytes(
    session: Session, store: BlobStore, data: bytes, limits: Limits, now: dt.datetime
) -> Photo:
    """Check and keep a whole photo received in one piece (the back-office intake form).

    The same checks and storage as a finished tus upload; raises UploadRejected.
    """
    if len(data) > limits.max_bytes:
        raise UploadRejected("the photo is too large", "too_large", too_large=True)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = session.get(Photo, sha256)
    if existing is not None and existing.status == PhotoStatus.AVAILABLE:
        return existing
    try:
        with images.open_checked(io.BytesIO(data), limits.max_pixels) as image:
            info = images.facts(image, limits.local_tz)
            thumbnail = images.thumbnail_jpeg(image, limits.thumb_px)
    except images.ImageRejected as error:
        raise UploadRejected(str(error), error.code, too_large=error.too_large) from None
    store.put(photo_key(sha256), data)
    store.put(thumb_key(sha256), thumbnail)
    _write_available(session, sha256, len(data), info, now)
    photo = session.get(Photo, sha256)
    assert photo is not None
    return photo


def _fail(
    session: Session,
    store: BlobStore,
    upload: Upload,
    code: str,
    message: str,
    *,
    too_large: bool = False,
) -> NoReturn:
    upload.status, upload.failure, upload.finished_at = UploadStatus.FAILED, code, upload.updated_at
    session.commit()
    store.stage_discard(_staging_id(upload))
    raise UploadRejected(message, code, too_large=too_large)


def _mark_available(
    session: Session, upload: Upload, info: images.ImageFacts, now: dt.datetime
) -> None:
    _write_available(session, upload.sha256, upload.upload_length, info, now)


def _write_available(
    session: Session, sha256: str, size: int, info: images.ImageFacts, now: dt.datetime
) -> None:
    """Create the photo row, or flip the `missing` row a report made before the bytes came."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(Photo)
        .values(sha256=sha256, status=PhotoStatus.MISSING, exif={}, created_at=now)
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    session.execute(
        update(Photo)
        .where(Photo.sha256 == sha256)
        .values(
            status=PhotoStatus.AVAILABLE,
            size_bytes=size,
            mime=info.mime,
            width=info.width,
            height=info.height,
            taken_at=info.taken_at,
            lon=info.lon,
            lat=info.lat,
            exif=info.exif,
            storage_key=photo_key(sha256),
        )
        .execution_options(synchronize_session="fetch")
    )


def terminate_upload(session: Session, store: BlobStore, upload: Upload, now: dt.datetime) -> None:
    """tus termination: forget an open upload and its bytes (a finished photo stays)."""
    if upload.status == UploadStatus.OPEN:
        upload.status, upload.updated_at = UploadStatus.TERMINATED, now
    session.commit()
    store.stage_discard(_staging_id(upload))


def expire_idle_uploads(
    session: Session, store: BlobStore, now: dt.datetime, limit: int = _EXPIRE_PER_CALL
) -> int:
    """Mark up to `limit` open uploads past their expiry as expired and drop their bytes."""
    stale = session.scalars(
        select(Upload)
        .where(Upload.status == UploadStatus.OPEN, Upload.expires_at <= now)
        .limit(limit)
    ).all()
    for upload in stale:
        upload.status, upload.updated_at = UploadStatus.EXPIRED, now
    session.commit()
    for upload in stale:
        store.stage_discard(_staging_id(upload))
    return len(stale)


def photo_for_viewer(session: Session, user: User, sha256: str) -> Photo:
    """The stored photo if `user` may see it (server/photos/access.py), else raise
    UploadNotFound (no hint which)."""
    photo = session.get(Photo, sha256.lower())
    if photo is None or photo.status != PhotoStatus.AVAILABLE or not photo.storage_key:
        raise UploadNotFound("no such photo", "photo_not_found")
    if access.may_read(session, user, photo.sha256):
        return photo
    raise UploadNotFound("no such photo", "photo_not_found")
