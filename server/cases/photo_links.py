"""Photos in the back office: keep a photo attached at the intake desk, link to photo pages.

Bytes go through the same checks and blob store as the phones' tus uploads
(`server.photos.operations.store_photo_bytes`); pages show them through
`/api/v1/photos/<sha256>` (and `/thumb`), which checks who may see what.
"""

from __future__ import annotations

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from server.cases.models import Photo
from server.exceptions import InvalidInput
from server.photos import operations as photos
from server.photos.storage import blob_store
from sync.db import utcnow


def store_upload(session: Session, data: bytes) -> Photo:
    """Check the bytes are a real JPEG/PNG/WebP, keep them and a thumbnail, return the Photo."""
    limits = photos.Limits.from_config(current_app.config)
    try:
        return photos.store_photo_bytes(session, blob_store(), data, limits, utcnow())
    except photos.UploadRejected as error:  # details["reason"]: too_large, not_an_image, …
        raise InvalidInput(
            _l("Photos must be JPEG, PNG or WebP."),
            field="photos",
            details={"reason": error.code},
        ) from None


def photo_url(sha256: str) -> str:
    return url_for("photos.photo", sha256=sha256)


def thumb_url(sha256: str) -> str:
    return url_for("photos.thumb", sha256=sha256)


def init_app(app: Flask) -> None:
    app.add_template_global(photo_url, "photo_url")
    app.add_template_global(thumb_url, "thumb_url")
