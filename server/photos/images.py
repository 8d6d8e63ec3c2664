"""Image checks with Pillow: the type by content, a pixel limit, EXIF time and GPS, thumbnails."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import math
import warnings
from dataclasses import dataclass, field
from typing import IO, Any

from PIL import Image, ImageOps, UnidentifiedImageError

#: Pillow format → MIME. Phones' multi-picture JPEGs open as MPO; they are JPEG files.
MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL, _DATETIME = 0x9003, 0x9011, 0x0132
_MAKE, _MODEL, _ORIENTATION = 0x010F, 0x0110, 0x0112


class ImageRejected(Exception):
    """The bytes are not a photo we accept; `code` says why, `too_large` picks 413 over 422."""

    def __init__(self, code: str, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.too_large = too_large


@dataclass
class ImageFacts:
    """What the bytes say about themselves."""

    mime: str
    width: int
    height: int
    taken_at: dt.datetime | None = None
    lon: float | None = None
    lat: float | None = None
    exif: dict[str, Any] = field(default_factory=dict)


def open_checked(stream: IO[bytes], max_pixels: int) -> Image.Image:
    """Open and fully decode a JPEG/PNG/WebP of at most `max_pixels`; raise ImageRejected.

    The pixel count comes from the header, so a decompression bomb is refused before any
    pixel is decoded. Pillow's own bomb guard (a warning, then an error, past
    Image.MAX_IMAGE_PIXELS) is treated the same way.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=("JPEG", "PNG", "WEBP"))
    except Image.DecompressionBombError:
        raise ImageRejected(
            "too_many_pixels", "the image has too many pixels", too_large=True
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejected("not_an_image", "not a JPEG, PNG or WebP image") from None
    if image.width * image.height > max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"{image.width}×{image.height} exceeds {max_pixels} pixels",
            too_large=True,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ImageRejected("image_unreadable", "the image data is damaged") from None
    return image


def facts(image: Image.Image, local_tz: dt.tzinfo) -> ImageFacts:
    """Type, size, and EXIF time and GPS of an opened image (times without offset are local)."""
    result = ImageFacts(
        mime=MIME_BY_FORMAT[str(image.format)], width=image.width, height=image.height
    )
    exif = image.getexif()
    if not exif:
        return result
    sub = exif.get_ifd(_EXIF_IFD)
    raw_time = _text(sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME))
    offset = _text(sub.get(_OFFSET_TIME_ORIGINAL))
    result.taken_at = _exif_time(raw_time, offset, local_tz)
    kept = {
        "make": _text(exif.get(_MAKE)),
        "model": _text(exif.get(_MODEL)),
        "orientation": exif.get(_ORIENTATION),
        "datetime_original": raw_time,
        "offset_time_original": offset,
    }
    gps = _gps(exif.get_ifd(_GPS_IFD))
    if gps:
        result.lon, result.lat = gps["lon"], gps["lat"]
        kept["gps"] = gps
    result.exif = {key: value for key, value in kept.items() if value not in (None, "")}
    return result


def thumbnail_jpeg(image: Image.Image, size_px: int) -> bytes:
    """A JPEG at most `size_px` on its longer side, turned upright per the EXIF orientation."""
    thumb = ImageOps.exif_transpose(image)
    thumb = thumb.convert("RGB")
    thumb.thumbnail((size_px, size_px))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).replace("\x00", "").strip()[:64] or None


def _exif_time(raw: str | None, offset: str | None, local_tz: dt.tzinfo) -> dt.datetime | None:
    """EXIF writes "YYYY:MM:DD HH:MM:SS" in the camera's local time, with an offset if lucky."""
    if not raw:
        return None
    try:
        naive = dt.datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz: dt.tzinfo = local_tz
    if offset:
        with contextlib.suppress(ValueError):
            tz = dt.datetime.strptime(offset, "%z").tzinfo or local_tz
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def _gps(ifd: dict[int, Any]) -> dict[str, Any] | None:
    """Decimal degrees from the GPS IFD (as the camera wrote them: normally WGS-84)."""
    try:
        lat = _degrees(ifd[2]) * (-1 if _text(ifd.get(1)) == "S" else 1)
        lon = _degrees(ifd[4]) * (-1 if _text(ifd.get(3)) == "W" else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    gps: dict[str, Any] = {"lon": round(lon, 7), "lat": round(lat, 7)}
    datum = _text(ifd.get(18))
    if datum:
        gps["map_datum"] = datum
    return gps


def _degrees(value: Any) -> float:
    degrees, minutes, seconds = (float(part) for part in value)
    return degrees + minutes / 60 + seconds / 3600
