"""tus 1.0.0 header parsing and checks, without a server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from sync import tus


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_metadata_round_trips_chinese_text_and_empty_values() -> None:
    values = {"sha256": "a" * 64, "mime": "image/jpeg", "filename": "井盖破损.jpg", "flag": ""}
    assert tus.parse_metadata(tus.encode_metadata(values)) == values


@pytest.mark.parametrize(
    "header",
    [
        f"mime {b64('a')},mime {b64('b')}",  # a key twice
        "mime not*base64",
        "mime YWJj=",  # not canonical base64
        f"mi\u00e9 {b64('x')}",  # non-ASCII key
        f"mime {b64('image/jpeg')} extra",  # three parts
        "x " + b64("evil\r\nSet-Cookie: a=b"),  # header smuggling
        "x " + base64.b64encode(b"\xff\xfe").decode(),  # not UTF-8
        ",".join(f"k{i} {b64('v')}" for i in range(17)),  # too many pairs
        "k " + "A" * 5000,  # too long
        " ",  # an empty key
    ],
)
def test_metadata_that_could_smuggle_or_confuse_is_refused(header: str) -> None:
    with pytest.raises(tus.InvalidHeader):
        tus.parse_metadata(header)


def test_missing_metadata_is_empty() -> None:
    assert tus.parse_metadata(None) == {} == tus.parse_metadata("")


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"mime": "image/jpeg"}, tus.InvalidHeader),
        ({"sha256": "g" * 64, "mime": "image/jpeg"}, tus.InvalidHeader),
        ({"sha256": "a" * 63, "mime": "image/jpeg"}, tus.InvalidHeader),
        ({"sha256": "a" * 64, "mime": "image/gif"}, tus.WrongContentType),
        ({"sha256": "a" * 64}, tus.WrongContentType),
    ],
)
def test_photo_metadata_needs_a_sha256_and_a_photo_type(
    values: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        tus.photo_metadata(values)


@pytest.mark.parametrize("header", ["", "+1", "1e3", " 1", "0x10", "1.0", "9" * 19, None])
def test_counts_are_plain_decimal_digits(header: str | None) -> None:
    with pytest.raises(tus.InvalidHeader):
        tus.parse_count("Upload-Offset", header)


def test_a_length_over_the_limit_is_too_large() -> None:
    assert tus.parse_length("100", 100) == 100
    with pytest.raises(tus.TooLarge):
        tus.parse_length("101", 100)


@pytest.mark.parametrize("algorithm", tus.CHECKSUM_ALGORITHMS)
def test_every_advertised_checksum_algorithm_verifies(algorithm: str) -> None:
    digest = base64.b64encode(hashlib.new(algorithm, b"chunk").digest()).decode()
    checksum = tus.parse_checksum(f"{algorithm} {digest}")
    assert checksum.matches(b"chunk")
    assert not checksum.matches(b"chunK")


def test_sha1_is_advertised_because_the_spec_requires_it() -> None:
    assert "sha1" in tus.CHECKSUM_ALGORITHMS


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("crc32 AAAA", tus.UnsupportedChecksum),
        ("sha1 !!!", tus.InvalidHeader),
        ("sha1 " + base64.b64encode(b"short").decode(), tus.InvalidHeader),
    ],
)
def test_bad_checksum_headers_are_refused(header: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        tus.parse_checksum(header)


def test_patch_checks_content_type_offset_and_length() -> None:
    tus.check_patch("application/offset+octet-stream; charset=x", 10, 10, 5, 15)
    with pytest.raises(tus.WrongContentType):
        tus.check_patch("application/octet-stream", 10, 10, 5, 15)
    with pytest.raises(tus.OffsetMismatch) as caught:
        tus.check_patch(tus.OFFSET_CONTENT_TYPE, 0, 10, 5, 15)
    assert caught.value.data == {"offset": 10}
    with pytest.raises(tus.TooLarge):
        tus.check_patch(tus.OFFSET_CONTENT_TYPE, 10, 10, 6, 15)


def test_only_version_1_0_0_is_spoken() -> None:
    tus.check_version("1.0.0")
    for other in ("0.2.2", "1.0", "", None):
        with pytest.raises(tus.UnsupportedVersion):
            tus.check_version(other)


def test_expiry_is_counted_from_the_last_activity_and_sent_as_an_http_date() -> None:
    touched = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    expires = tus.expires_at(touched, 3600)
    assert tus.http_date(expires) == "Thu, 26 Nov 2026 16:30:00 GMT"
