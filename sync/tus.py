"""The tus 1.0.0 protocol subset we serve (core, creation, checksum, termination, expiration).

Framework-free: functions take header strings and plain values and return parsed values or
raise a `TusError` naming what is wrong; the HTTP adapter (server/photos/api.py) maps each
error class to its status in one table. Spec: tus-resumable-upload-protocol, protocol.md.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any

from sync.errors import SyncError

TUS_VERSION = "1.0.0"
SUPPORTED_VERSIONS = (TUS_VERSION,)
EXTENSIONS = ("creation", "checksum", "termination", "expiration")
#: sha1 is the one every checksum-capable server must support (spec, Checksum extension).
CHECKSUM_ALGORITHMS = ("sha1", "md5", "sha256")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
PHOTO_MIMES = ("image/jpeg", "image/png", "image/webp")

_DIGITS = re.compile(r"^[0-9]{1,18}$")
_META_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_MAX_METADATA_HEADER = 4096
_MAX_METADATA_PAIRS = 16


class TusError(SyncError):
    """A request the tus protocol refuses; `code` is a stable machine name.

    >>> isinstance(OffsetMismatch("offset 5 is not 7", expected=7), SyncError)
    True
    """

    code = "tus_error"

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message, **data)
        #: The same dict as `details` (kept under its first name for the adapter).
        self.data = self.details


class UnsupportedVersion(TusError):
    code = "tus_version_unsupported"


class InvalidHeader(TusError):
    code = "invalid_header"


class UnsupportedChecksum(TusError):
    code = "checksum_algorithm_unsupported"


class ChecksumMismatch(TusError):
    code = "checksum_mismatch"


class OffsetMismatch(TusError):
    code = "offset_mismatch"


class WrongContentType(TusError):
    code = "wrong_content_type"


class TooLarge(TusError):
    code = "upload_too_large"


def check_version(header: str | None) -> None:
    """Raise UnsupportedVersion unless `Tus-Resumable` names a version we speak.

    >>> check_version("1.0.0")
    >>> check_version("0.2.2")
    Traceback (most recent call last):
    ...
    sync.tus.UnsupportedVersion: Tus-Resumable 0.2.2 is not supported; use 1.0.0
    """
    if header not in SUPPORTED_VERSIONS:
        raise UnsupportedVersion(f"Tus-Resumable {header} is not supported; use {TUS_VERSION}")


def parse_count(name: str, header: str | None) -> int:
    """Return a non-negative byte count from a header (`Upload-Length`, `Upload-Offset`).

    Only plain decimal digits: no sign, spaces or exponent. Raises InvalidHeader.

    >>> parse_count("Upload-Offset", "262144")
    262144
    >>> parse_count("Upload-Offset", "-1")
    Traceback (most recent call last):
    ...
    sync.tus.InvalidHeader: Upload-Offset must be a non-negative integer
    """
    if header is None or not _DIGITS.match(header):
        raise InvalidHeader(f"{name} must be a non-negative integer", header=name)
    return int(header)


def parse_length(header: str | None, max_bytes: int) -> int:
    """Return `Upload-Length`; raise InvalidHeader, or TooLarge past `max_bytes`."""
    length = parse_count("Upload-Length", header)
    if length > max_bytes:
        raise TooLarge(f"Upload-Length {length} exceeds {max_bytes}", max_bytes=max_bytes)
    return length


def parse_metadata(header: str | None) -> dict[str, str]:
    """Decode `Upload-Metadata` ("key b64value,key b64value,key") into a dict of text values.

    Strict, because the spec warns that decoded values may be used for header smuggling:
    keys are ASCII words, values must be canonical base64 of UTF-8 text without control
    characters, no key twice, at most 16 pairs and 4 KiB. A key without a value maps to "".
    Raises InvalidHeader.

    >>> parse_metadata("sha256 YWJj,mime aW1hZ2UvanBlZw==,flag")
    {'sha256': 'abc', 'mime': 'image/jpeg', 'flag': ''}
    >>> parse_metadata("name 5paw5Y2O6Lev")
    {'name': '新华路'}
    """
    if not header:
        return {}
    if len(header) > _MAX_METADATA_HEADER:
        raise InvalidHeader("Upload-Metadata is too long", header="Upload-Metadata")
    pairs = header.split(",")
    if len(pairs) > _MAX_METADATA_PAIRS:
        raise InvalidHeader("Upload-Metadata has too many pairs", header="Upload-Metadata")
    result: dict[str, str] = {}
    for pair in pairs:
        key, _, encoded = pair.strip().partition(" ")
        if not _META_KEY.match(key) or key in result or " " in encoded:
            raise InvalidHeader(f"bad Upload-Metadata key {key!r}", header="Upload-Metadata")
        result[key] = _decode_value(key, encoded)
    return result


def _decode_value(key: str, encoded: str) -> str:
    try:
        raw = base64.b64decode(encoded, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidHeader(
            f"Upload-Metadata {key} is not base64 of UTF-8", header="Upload-Metadata"
        ) from None
    if base64.b64encode(raw).decode("ascii") != encoded or any(
        ord(ch) < 32 or ord(ch) == 127 for ch in text
    ):
        raise InvalidHeader(f"Upload-Metadata {key} is not clean text", header="Upload-Metadata")
    return text


def encode_metadata(values: dict[str, str]) -> str:
    """The inverse of `parse_metadata`.

    >>> encode_metadata({"mime": "image/png"})
    'mime aW1hZ2UvcG5n'
    """
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}" if value else key
        for key, value in values.items()
    )


@dataclass(frozen=True)
class PhotoMetadata:
    """What a photo upload must declare: the SHA-256 of the whole file and its type."""

    sha256: str
    mime: str


def photo_metadata(values: dict[str, str]) -> PhotoMetadata:
    """Return the photo fields of decoded metadata; raise InvalidHeader, or WrongContentType.

    >>> photo_metadata({"sha256": "A" * 64, "mime": "image/jpeg"}).sha256 == "a" * 64
    True
    """
    sha256 = values.get("sha256", "").lower()
    if not _SHA256_HEX.match(sha256):
        raise InvalidHeader("metadata sha256 must be 64 hex digits", header="Upload-Metadata")
    mime = values.get("mime", "")
    if mime not in PHOTO_MIMES:
        raise WrongContentType(f"metadata mime must be one of {', '.join(PHOTO_MIMES)}")
    return PhotoMetadata(sha256=sha256, mime=mime)


@dataclass(frozen=True)
class Checksum:
    """A parsed `Upload-Checksum`: the algorithm and the expected digest of the chunk."""

    algorithm: str
    digest: bytes

    def matches(self, data: bytes) -> bool:
        """Whether `data` has this digest.

        >>> parse_checksum("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").matches(b"abc")
        True
        """
        return hashlib.new(self.algorithm, data).digest() == self.digest


def parse_checksum(header: str) -> Checksum:
    """Parse "sha1 <base64 digest>"; raise UnsupportedChecksum or InvalidHeader."""
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UnsupportedChecksum(
            f"checksum algorithm {algorithm!r} is not supported", supported=CHECKSUM_ALGORITHMS
        )
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise InvalidHeader("Upload-Checksum is not base64", header="Upload-Checksum") from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise InvalidHeader("Upload-Checksum has the wrong length", header="Upload-Checksum")
    return Checksum(algorithm, digest)


def check_patch(
    content_type: str | None, upload_offset: int, offset: int, chunk_bytes: int, length: int
) -> None:
    """Check a PATCH against the upload's state before its body is read.

    Raises WrongContentType, OffsetMismatch (the client must HEAD and resume) or TooLarge
    (the chunk runs past `Upload-Length`).

    >>> check_patch(OFFSET_CONTENT_TYPE, 0, 0, 10, 10)
    >>> check_patch(OFFSET_CONTENT_TYPE, 5, 0, 10, 10)
    Traceback (most recent call last):
    ...
    sync.tus.OffsetMismatch: Upload-Offset 5 does not match the upload's offset 0
    """
    if (content_type or "").split(";")[0].strip().lower() != OFFSET_CONTENT_TYPE:
        raise WrongContentType(f"PATCH needs Content-Type {OFFSET_CONTENT_TYPE}")
    if upload_offset != offset:
        raise OffsetMismatch(
            f"Upload-Offset {upload_offset} does not match the upload's offset {offset}",
            offset=offset,
        )
    if offset + chunk_bytes > length:
        raise TooLarge(f"the chunk runs past Upload-Length {length}", max_bytes=length)


def expires_at(last_activity: dt.datetime, expiry_s: float) -> dt.datetime:
    """When an upload last touched at `last_activity` expires (each chunk extends it)."""
    return last_activity + dt.timedelta(seconds=expiry_s)


def http_date(moment: dt.datetime) -> str:
    """Format a time as an RFC 9110 HTTP date, as `Upload-Expires` wants.

    >>> http_date(dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC))
    'Thu, 26 Nov 2026 08:00:00 GMT'
    """
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)
