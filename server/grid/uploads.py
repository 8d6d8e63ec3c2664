"""Uploaded grid files, kept so a draft can be read again with other options (no re-upload).

Stored in the database with the version that came from them: the file is small (a street's
grid is well under 10 MB) and belongs with the draft's report, in the same backups.
"""

from __future__ import annotations

import hashlib

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.exceptions import NotFound
from server.grid.models import GridUpload


def store_upload(
    session: Session, actor: User | None, data: bytes, filename: str | None
) -> GridUpload:
    """Keep the bytes (the same bytes under the same name reuse their row); flushes."""
    digest = hashlib.sha256(data).hexdigest()
    name = (filename or "")[:255] or None
    found = session.scalar(
        select(GridUpload).where(GridUpload.sha256 == digest, GridUpload.filename == name)
    )
    if found is not None and found.size_bytes == len(data):
        return found
    upload = GridUpload(
        sha256=digest,
        filename=name,
        size_bytes=len(data),
        data=data,
        created_by_id=actor.id if actor else None,
    )
    session.add(upload)
    session.flush()
    return upload


MAX_ID = 2**31 - 1  # the id column is 32-bit: a larger number names no upload (not a 5xx)


def get_upload(session: Session, upload_id: int) -> GridUpload:
    """The stored upload; NotFound (field ``upload_id``) when there is none."""
    upload = session.get(GridUpload, upload_id) if 0 < upload_id <= MAX_ID else None
    if upload is None:
        raise NotFound(_l("No stored upload %(id)s.", id=upload_id), field="upload_id")
    return upload
