"""Sample photos made with Pillow: plain, with EXIF time and GPS, and a decompression bomb."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import struct
import zlib

from PIL import Image

#: 新华路×番禺路 (WGS-84), where the sample camera stood.
CAMERA_LON, CAMERA_LAT = 121.425438, 31.203749


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def jpeg(
    width: int = 640,
    height: int = 480,
    *,
    exif: bool = True,
    noise_bytes: int = 0,
    seed: int = 0,
) -> bytes:
    """A real JPEG; with EXIF (2026-11-20 09:30:15 +08:00, GPS at 新华路×番禺路) by default.

    `noise_bytes` appends an APP segment-free comment of random bytes to reach a target size
    without changing what the image shows; `seed` varies the pixels (a different photo).
    """
    image = Image.new("RGB", (width, height), ((37 * seed) % 256, 120, 200))
    data = Image.Exif()
    if exif:
        data[0x010F] = "Wangge"
        data[0x0110] = "Test Phone"
        data[0x0112] = 1
        sub = data.get_ifd(0x8769)
        sub[0x9003] = "2026:11:20 09:30:15"
        sub[0x9011] = "+08:00"
        gps = data.get_ifd(0x8825)
        gps[1], gps[2] = "N", _dms(CAMERA_LAT)
        gps[3], gps[4] = "E", _dms(CAMERA_LON)
        gps[18] = "WGS-84"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=data.tobytes(), quality=90)
    body = out.getvalue()
    if noise_bytes:
        # Random comment segments (COM, 0xFFFE) after SOI: a bigger, still valid JPEG.
        rng = random.Random(seed).randbytes(noise_bytes)
        segments = b"".join(
            b"\xff\xfe" + struct.pack(">H", len(part) + 2) + part
            for part in (rng[i : i + 65000] for i in range(0, len(rng), 65000))
        )
        body = body[:2] + segments + body[2:]
    return body


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose header claims width × height pixels (grey, all zero rows)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def metadata_header(data: bytes, mime: str = "image/jpeg", sha256: str | None = None) -> str:
    values = {"sha256": sha256 or sha256_hex(data), "mime": mime}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())
