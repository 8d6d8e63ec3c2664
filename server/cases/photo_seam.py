"""SEAM — local photo storage for the intake form, until the photo-uploads branch lands.

The photo branch (issue 4, tus) stores bytes behind its BlobStore and serves
`GET /api/v1/photos/<sha256>` and `/thumb` to devices. The back office needs two things:
keep a photo a dispatcher attaches in the intake form, and show thumbnails / full size.
At merge: `store_upload` → the photo branch's check-and-store function, and `photo_url` /
`thumb_url` → its routes; drop `photos_bp`.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_file, url_for
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from server.auth import page_login_required
from server.cases.models import Photo
from server.enums import PhotoStatus
from server.exceptions import InvalidInput

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMB_PX = 320
MAX_PIXELS = 50_000_000


def _path(sha256: str, thumb: bool = False) -> Path:
    root = Path(current_app.config["PHOTO_DIR"])
    return root / sha256[:2] / (f"{sha256}.thumb.jpg" if thumb else sha256)


def store_upload(session: Session, data: bytes) -> Photo:
    """Check the bytes are a real JPEG/PNG/WebP, keep them and a thumbnail, return the Photo."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS or image.format not in ACCEPTED:
                raise InvalidInput(_l("Photos must be JPEG, PNG or WebP."), field="photos")
            image.load()
            mime, size = ACCEPTED[image.format], image.size
            thumb = image.convert("RGB")
            thumb.thumbnail((THUMB_PX, THUMB_PX))
            buffer = io.BytesIO()
            thumb.save(buffer, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InvalidInput(_l("Photos must be JPEG, PNG or WebP."), field="photos") from error
    sha256 = hashlib.sha256(data).hexdigest()
    target = _path(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
        _path(sha256, thumb=True).write_bytes(buffer.getvalue())
    photo = session.get(Photo, sha256)
    if photo is None:
        photo = Photo(sha256=sha256)
        session.add(photo)
    photo.status, photo.mime, photo.size_bytes = PhotoStatus.AVAILABLE, mime, len(data)
    photo.width, photo.height = size
    photo.storage_key = f"{sha256[:2]}/{sha256}"
    return photo


photos_bp = Blueprint("backoffice_photos", __name__, url_prefix="/backoffice/photos")


def _send(sha256: str, thumb: bool) -> Response:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        abort(404)
    path = _path(sha256, thumb)
    if not path.exists():
        abort(404)
    from server.extensions import db

    photo = db.session.get(Photo, sha256)
    mime = "image/jpeg" if thumb or photo is None else (photo.mime or "image/jpeg")
    return send_file(path, mimetype=mime, max_age=86400)


@photos_bp.route("/<sha256>")
@page_login_required()
def full(sha256: str) -> Response:
    return _send(sha256, thumb=False)


@photos_bp.route("/<sha256>/thumb")
@page_login_required()
def thumb(sha256: str) -> Response:
    return _send(sha256, thumb=True)


def photo_url(sha256: str) -> str:
    return url_for("backoffice_photos.full", sha256=sha256)


def thumb_url(sha256: str) -> str:
    return url_for("backoffice_photos.thumb", sha256=sha256)


def init_app(app: Flask) -> None:
    app.register_blueprint(photos_bp)
    app.add_template_global(photo_url, "photo_url")
    app.add_template_global(thumb_url, "thumb_url")
