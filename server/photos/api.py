"""HTTP adapter: the tus 1.0.0 upload endpoint and photo downloads for staff.

tus answers in its own terms (status + headers, `Tus-Resumable` on every response), so the
errors here get a short JSON body `{code, detail}` rather than problem+json.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import ClientDisconnected

from server.auth import api_login_required, current_caller
from server.extensions import db
from server.ops.metrics import record_upload_bytes
from server.photos import operations as ops
from server.photos.models import Upload, UploadStatus
from server.photos.storage import blob_store
from sync import tus
from sync.db import utcnow

bp = Blueprint("photos", __name__, url_prefix="/api/v1")

_READ_BLOCK = 64 * 1024
_YEAR_S = 365 * 24 * 3600

#: The one table from error to status. 460 is tus's "Checksum Mismatch".
STATUS_BY_ERROR: dict[type[Exception], int] = {
    tus.UnsupportedVersion: 412,
    tus.ChecksumMismatch: 460,
    tus.OffsetMismatch: 409,
    tus.WrongContentType: 415,
    tus.TooLarge: 413,
    tus.TusError: 400,
    ops.UploadNotFound: 404,
    ops.UploadGone: 410,
    ops.UploadRejected: 422,
    ops.DeviceRequired: 403,
    ops.UploadError: 400,
}

#: What the worker may be shown, by code (the PWA has its own copies of these).
MESSAGES = {
    "sha256_mismatch": _l("The photo arrived damaged. It will be sent again from the start."),
    "not_an_image": _l("This file is not a JPEG, PNG or WebP photo."),
    "image_unreadable": _l("This photo's data is damaged and cannot be read."),
    "too_many_pixels": _l("This photo has too many pixels; take it at a lower resolution."),
    "upload_too_large": _l("This photo is too large."),
    "device_required": _l("Photos are sent from a signed-in phone."),
}


def _error_response(error: Exception) -> Response:
    status = next(s for cls, s in STATUS_BY_ERROR.items() if isinstance(error, cls))
    if isinstance(error, ops.UploadRejected) and error.too_large:
        status = 413
    code = str(getattr(error, "code", "error"))
    body: dict[str, Any] = {"code": code, "detail": str(MESSAGES.get(code, error))}
    response = jsonify(body)
    response.status_code = status
    if isinstance(error, tus.OffsetMismatch):
        response.headers["Upload-Offset"] = str(error.data["offset"])
    if isinstance(error, tus.UnsupportedVersion):
        response.headers["Tus-Version"] = ",".join(tus.SUPPORTED_VERSIONS)
    return response


bp.register_error_handler(tus.TusError, _error_response)
bp.register_error_handler(ops.UploadError, _error_response)


@bp.before_request
def _check_tus_version() -> None:
    if request.path.startswith("/api/v1/uploads") and request.method != "OPTIONS":
        tus.check_version(request.headers.get("Tus-Resumable"))


@bp.after_request
def _tus_headers(response: Response) -> Response:
    if request.path.startswith("/api/v1/uploads"):
        response.headers["Tus-Resumable"] = tus.TUS_VERSION
        response.headers["Cache-Control"] = "no-store"
    return response


def _limits() -> ops.Limits:
    return ops.Limits.from_config(current_app.config)


def _device_caller() -> tuple[int, uuid.UUID]:
    caller = current_caller()
    if caller is None or caller.device is None:
        raise ops.DeviceRequired("uploads need a device token")
    return caller.user.id, caller.device.id


def _state_headers(upload: Upload, response: Response) -> Response:
    response.headers["Upload-Offset"] = str(upload.upload_offset)
    response.headers["Upload-Length"] = str(upload.upload_length)
    if upload.status == UploadStatus.OPEN:
        response.headers["Upload-Expires"] = tus.http_date(upload.expires_at)
    return response


@bp.route("/uploads/", methods=["OPTIONS"])
@bp.route("/uploads/<uuid:upload_id>", methods=["OPTIONS"])
def options(upload_id: uuid.UUID | None = None) -> Response:
    response = Response(status=204)
    response.headers["Tus-Version"] = ",".join(tus.SUPPORTED_VERSIONS)
    response.headers["Tus-Extension"] = ",".join(tus.EXTENSIONS)
    response.headers["Tus-Checksum-Algorithm"] = ",".join(tus.CHECKSUM_ALGORITHMS)
    response.headers["Tus-Max-Size"] = str(_limits().max_bytes)
    return response


@bp.post("/uploads/")
@api_login_required()
def create() -> Response:
    user_id, device_id = _device_caller()
    if request.headers.get("Upload-Defer-Length"):
        raise tus.InvalidHeader("creation-defer-length is not supported")
    limits = _limits()
    length = tus.parse_length(request.headers.get("Upload-Length"), limits.max_bytes)
    values = tus.parse_metadata(request.headers.get("Upload-Metadata"))
    upload = ops.create_upload(
        db.session,
        blob_store(),
        user_id=user_id,
        device_id=device_id,
        length=length,
        photo=tus.photo_metadata(values),
        values=values,
        limits=limits,
        now=utcnow(),
    )
    response = _state_headers(upload, Response(status=201))
    response.headers["Location"] = url_for("photos.head", upload_id=upload.id)
    return response


@bp.route("/uploads/<uuid:upload_id>", methods=["HEAD"])
@api_login_required()
def head(upload_id: uuid.UUID) -> Response:
    _, device_id = _device_caller()
    upload = ops.find_upload(db.session, upload_id, device_id, utcnow())
    return _state_headers(upload, Response(status=200))


@bp.patch("/uploads/<uuid:upload_id>")
@api_login_required()
def patch(upload_id: uuid.UUID) -> Response:
    _, device_id = _device_caller()
    now = utcnow()
    upload = ops.find_upload(db.session, upload_id, device_id, now)
    upload_offset = tus.parse_count("Upload-Offset", request.headers.get("Upload-Offset"))
    expected = request.content_length
    if expected is None:
        raise tus.InvalidHeader("PATCH needs a Content-Length")
    if upload.status != UploadStatus.FINISHED:
        tus.check_patch(
            request.content_type,
            upload_offset,
            upload.upload_offset,
            expected,
            upload.upload_length,
        )
    header = request.headers.get("Upload-Checksum")
    checksum = tus.parse_checksum(header) if header else None
    # A finished upload answers any PATCH with its final offset (e.g. after dedupe at
    # creation stock clients still send their first chunk); the body is read and dropped.
    data, complete = _read_body(expected, keep=upload.status != UploadStatus.FINISHED)
    record_upload_bytes(len(data))
    upload = ops.receive_chunk(
        db.session,
        blob_store(),
        upload,
        upload_offset=upload_offset,
        data=data,
        complete=complete,
        checksum=checksum,
        limits=_limits(),
        now=now,
    )
    return _state_headers(upload, Response(status=204))


@bp.delete("/uploads/<uuid:upload_id>")
@api_login_required()
def terminate(upload_id: uuid.UUID) -> Response:
    _, device_id = _device_caller()
    now = utcnow()
    upload = ops.find_upload(db.session, upload_id, device_id, now)
    ops.terminate_upload(db.session, blob_store(), upload, now)
    return Response(status=204)


def _read_body(expected: int, *, keep: bool) -> tuple[bytes, bool]:
    """Read up to `expected` bytes; a dropped connection gives fewer (and `complete` False)."""
    blocks: list[bytes] = []
    received = 0
    try:
        while received < expected:
            block = request.stream.read(min(_READ_BLOCK, expected - received))
            if not block:
                break
            if keep:
                blocks.append(block)
            received += len(block)
    except ClientDisconnected:
        pass
    return b"".join(blocks), received == expected


@bp.get("/photos/<string(length=64):sha256>")
@api_login_required()
def photo(sha256: str) -> Response:
    return _serve(sha256, thumbnail=False)


@bp.get("/photos/<string(length=64):sha256>/thumb")
@api_login_required()
def thumb(sha256: str) -> Response:
    return _serve(sha256, thumbnail=True)


def _serve(sha256: str, *, thumbnail: bool) -> Response:
    caller = current_caller()
    assert caller is not None  # api_login_required
    found = ops.photo_for_viewer(db.session, caller.user, sha256)
    key = ops.thumb_key(found.sha256) if thumbnail else ops.photo_key(found.sha256)
    data = blob_store().get(key)
    response = Response(data, mimetype="image/jpeg" if thumbnail else found.mime)
    response.set_etag(f"{found.sha256}-thumb" if thumbnail else found.sha256)
    # Content-addressed: the bytes under this URL never change. Private: it may show people.
    response.headers["Cache-Control"] = f"private, max-age={_YEAR_S}, immutable"
    return response.make_conditional(request, accept_ranges=True, complete_length=len(data))
