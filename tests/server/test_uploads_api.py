"""The tus endpoint through the Flask test client: statuses, headers, limits, images, access."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image

from server.cases.models import Photo
from server.enums import PhotoStatus
from server.extensions import db
from server.photos.models import Upload, UploadStatus
from server.photos.operations import photo_key, thumb_key
from server.photos.storage import blob_store
from tests.server import photo_samples as samples
from tests.server.conftest import login

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


@pytest.fixture
def worker_token(make_user: Any, token_for: Any) -> str:
    return str(token_for(make_user("worker")))


def auth(token: str, **headers: str) -> dict[str, str]:
    return {**TUS, "Authorization": f"Bearer {token}", **headers}


def create(client: FlaskClient, token: str, data: bytes, **overrides: str) -> Any:
    headers = auth(
        token, **{"Upload-Length": str(len(data)), "Upload-Metadata": samples.metadata_header(data)}
    )
    headers.update(overrides)
    return client.post("/api/v1/uploads/", headers=headers)


def patch(
    client: FlaskClient, token: str, location: str, offset: int, chunk: bytes, **extra: str
) -> Any:
    headers = auth(token, **{"Upload-Offset": str(offset), "Content-Type": OCTETS})
    headers.update(extra)
    return client.patch(location, headers=headers, data=chunk)


def sha1_header(chunk: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(chunk).digest()).decode()


def upload_all(client: FlaskClient, token: str, data: bytes, chunk: int = 50_000) -> Any:
    created = create(client, token, data)
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    response = created
    for start in range(int(created.headers["Upload-Offset"]), len(data), chunk):
        part = data[start : start + chunk]
        response = patch(
            client, token, location, start, part, **{"Upload-Checksum": sha1_header(part)}
        )
        if response.status_code != 204:
            return response
    return response


def test_options_advertises_version_extensions_checksums_and_max_size(client: FlaskClient) -> None:
    response = client.options("/api/v1/uploads/")
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation",
        "checksum",
        "termination",
        "expiration",
    }
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")
    assert int(response.headers["Tus-Max-Size"]) == 20 * 1024 * 1024


def test_creation_answers_201_with_location_offset_zero_and_expiry(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.jpeg()
    response = create(client, worker_token, data)
    assert response.status_code == 201
    assert response.headers["Location"].startswith("/api/v1/uploads/")
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert "GMT" in response.headers["Upload-Expires"]
    head = client.head(response.headers["Location"], headers=auth(worker_token))
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"


def test_a_whole_upload_stores_the_photo_with_exif_and_a_thumbnail(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.jpeg(1600, 1200)
    final = upload_all(client, worker_token, data)
    assert final.status_code == 204
    assert final.headers["Upload-Offset"] == str(len(data))
    sha = samples.sha256_hex(data)
    photo = db.session.get(Photo, sha)
    assert photo.status == PhotoStatus.AVAILABLE
    assert (photo.mime, photo.width, photo.height, photo.size_bytes) == (
        "image/jpeg",
        1600,
        1200,
        len(data),
    )
    assert photo.taken_at == dt.datetime(2026, 11, 20, 1, 30, 15, tzinfo=dt.UTC)
    assert photo.lon == pytest.approx(samples.CAMERA_LON, abs=1e-6)
    assert photo.lat == pytest.approx(samples.CAMERA_LAT, abs=1e-6)
    assert photo.exif["model"] == "Test Phone"
    assert photo.exif["gps"]["map_datum"] == "WGS-84"
    store = blob_store()
    assert store.get(photo_key(sha)) == data
    import io

    thumb = Image.open(io.BytesIO(store.get(thumb_key(sha))))
    assert thumb.format == "JPEG" and max(thumb.size) == 320


def test_a_photo_without_exif_is_stored_without_time_or_place(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.jpeg(exif=False)
    assert upload_all(client, worker_token, data).status_code == 204
    photo = db.session.get(Photo, samples.sha256_hex(data))
    assert (photo.taken_at, photo.lon, photo.lat, photo.exif) == (None, None, None, {})


def test_a_png_is_accepted_by_its_content(client: FlaskClient, worker_token: str) -> None:
    data = samples.png()
    created = create(
        client,
        worker_token,
        data,
        **{"Upload-Metadata": samples.metadata_header(data, "image/png")},
    )
    response = patch(client, worker_token, created.headers["Location"], 0, data)
    assert response.status_code == 204
    assert db.session.get(Photo, samples.sha256_hex(data)).mime == "image/png"


def test_a_text_file_named_jpeg_is_refused_and_its_bytes_dropped(
    client: FlaskClient, worker_token: str
) -> None:
    data = "这不是照片,只是文字。".encode() * 50
    response = upload_all(client, worker_token, data)
    assert response.status_code == 422
    assert response.get_json()["code"] == "not_an_image"
    assert db.session.get(Photo, samples.sha256_hex(data)) is None
    upload = db.session.query(Upload).one()
    assert (upload.status, upload.failure) == (UploadStatus.FAILED, "not_an_image")
    assert list(blob_store().root.glob("staging/*")) == []  # type: ignore[attr-defined]


def test_a_decompression_bomb_png_is_refused_as_too_large_without_decoding(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.png_bomb()
    created = create(
        client,
        worker_token,
        data,
        **{"Upload-Metadata": samples.metadata_header(data, "image/png")},
    )
    response = patch(client, worker_token, created.headers["Location"], 0, data)
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_many_pixels"


def test_the_pixel_limit_is_configurable(app: Any, client: FlaskClient, worker_token: str) -> None:
    app.config["PHOTO_MAX_PIXELS"] = 100 * 100
    response = upload_all(client, worker_token, samples.jpeg(200, 100, exif=False))
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_many_pixels"


def test_an_upload_longer_than_the_limit_is_refused_at_creation(
    client: FlaskClient, worker_token: str
) -> None:
    response = create(client, worker_token, b"x", **{"Upload-Length": str(20 * 1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.headers["Tus-Resumable"] == "1.0.0"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Upload-Metadata": "sha256 bm90LWhleA==,mime aW1hZ2UvanBlZw=="}, 400),
        ({"Upload-Metadata": samples.metadata_header(b"x", "image/gif")}, 415),
        ({"Upload-Metadata": "mime !!!"}, 400),
        ({"Upload-Length": "-5"}, 400),
        ({"Upload-Defer-Length": "1"}, 400),
    ],
)
def test_bad_creation_headers_are_refused(
    client: FlaskClient, worker_token: str, headers: dict[str, str], status: int
) -> None:
    assert create(client, worker_token, b"abc", **headers).status_code == status


def test_an_unsupported_tus_version_gets_412_with_the_versions_we_speak(
    client: FlaskClient, worker_token: str
) -> None:
    response = create(client, worker_token, b"abc", **{"Tus-Resumable": "0.2.2"})
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"


def test_a_wrong_patch_content_type_gets_415(client: FlaskClient, worker_token: str) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    response = patch(client, worker_token, location, 0, data, **{"Content-Type": "image/jpeg"})
    assert response.status_code == 415


def test_a_corrupted_chunk_gets_460_and_leaves_the_offset(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    bad = patch(
        client, worker_token, location, 0, b"X" + data[1:], **{"Upload-Checksum": sha1_header(data)}
    )
    assert bad.status_code == 460
    assert client.head(location, headers=auth(worker_token)).headers["Upload-Offset"] == "0"
    good = patch(client, worker_token, location, 0, data, **{"Upload-Checksum": sha1_header(data)})
    assert good.status_code == 204


def test_an_unsupported_checksum_algorithm_is_a_bad_request(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    response = patch(client, worker_token, location, 0, data, **{"Upload-Checksum": "crc32 AAAA"})
    assert response.status_code == 400


def test_a_stale_offset_gets_409_with_the_real_offset(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    assert patch(client, worker_token, location, 0, data[:1000]).status_code == 204
    stale = patch(client, worker_token, location, 0, data[:1000])
    assert stale.status_code == 409
    assert stale.headers["Upload-Offset"] == "1000"


def test_a_chunk_past_the_length_is_refused(client: FlaskClient, worker_token: str) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    assert patch(client, worker_token, location, 0, data + b"extra").status_code == 413


def test_a_file_whose_sha256_differs_from_its_metadata_is_rejected_and_must_start_again(
    client: FlaskClient, worker_token: str
) -> None:
    data = samples.jpeg()
    created = create(
        client,
        worker_token,
        data,
        **{"Upload-Metadata": samples.metadata_header(data, sha256="0" * 64)},
    )
    location = created.headers["Location"]
    response = patch(client, worker_token, location, 0, data)
    assert response.status_code == 422
    assert response.get_json()["code"] == "sha256_mismatch"
    assert client.head(location, headers=auth(worker_token)).status_code == 410
    assert db.session.get(Photo, "0" * 64) is None


def test_the_same_photo_again_from_its_uploader_is_answered_finished_and_stored_once(
    client: FlaskClient, make_user: Any, token_for: Any
) -> None:
    worker = make_user("worker")
    data = samples.jpeg()
    assert upload_all(client, token_for(worker), data).status_code == 204
    second_phone = token_for(worker)  # the same person's other device: no bytes needed
    again = create(client, second_phone, data)
    assert again.status_code == 201
    assert again.headers["Upload-Offset"] == str(len(data))
    # Stock clients still PATCH their first chunk: they are told the upload is complete.
    first = patch(client, second_phone, again.headers["Location"], 0, data[:1000])
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == str(len(data))
    assert db.session.query(Photo).count() == 1


def test_a_creation_naming_a_stored_photo_the_caller_may_not_read_asks_for_the_bytes(
    client: FlaskClient, worker_token: str, make_user: Any, token_for: Any
) -> None:
    """The attack: knowing a hash (pulls list them), create an upload and send nothing."""
    data = samples.jpeg(seed=31)
    assert upload_all(client, worker_token, data).status_code == 204
    other = token_for(make_user("worker"))
    url = f"/api/v1/photos/{samples.sha256_hex(data)}"
    created = create(client, other, data)
    assert created.status_code == 201
    assert created.headers["Upload-Offset"] == "0"  # no shortcut: send the bytes
    location = created.headers["Location"]
    assert client.head(location, headers=auth(other)).headers["Upload-Offset"] == "0"
    # A stock client PATCHing only a first chunk has sent a first chunk, nothing more.
    partial = patch(client, other, location, 0, data[:1000])
    assert (partial.status_code, partial.headers["Upload-Offset"]) == (204, "1000")
    with client.get(url, headers={"Authorization": f"Bearer {other}"}) as response:
        assert response.status_code == 404
    with client.get(f"{url}/thumb", headers={"Authorization": f"Bearer {other}"}) as response:
        assert response.status_code == 404
    assert db.session.query(Upload).filter(Upload.deduplicated.is_(True)).count() == 0


def test_bytes_of_the_right_length_but_not_the_photo_are_refused_even_when_it_is_stored(
    client: FlaskClient, worker_token: str, make_user: Any, token_for: Any
) -> None:
    data = samples.jpeg(seed=32)
    assert upload_all(client, worker_token, data).status_code == 204
    other = token_for(make_user("worker"))
    location = create(client, other, data).headers["Location"]
    forged = patch(client, other, location, 0, bytes(len(data)))
    assert forged.status_code == 422
    assert forged.get_json()["code"] == "sha256_mismatch"
    url = f"/api/v1/photos/{samples.sha256_hex(data)}"
    with client.get(url, headers={"Authorization": f"Bearer {other}"}) as response:
        assert response.status_code == 404


def test_whoever_sends_the_bytes_of_a_stored_photo_may_read_it_and_it_is_stored_once(
    client: FlaskClient, worker_token: str, make_user: Any, token_for: Any
) -> None:
    """Two people who both hold the very same bytes (a forwarded picture): each sends them."""
    data = samples.jpeg(seed=33)
    assert upload_all(client, worker_token, data).status_code == 204
    other = token_for(make_user("worker"))
    assert upload_all(client, other, data).status_code == 204
    url = f"/api/v1/photos/{samples.sha256_hex(data)}"
    with client.get(url, headers={"Authorization": f"Bearer {other}"}) as response:
        assert response.status_code == 200 and response.data == data
    assert db.session.query(Photo).count() == 1
    assert blob_store().get(photo_key(samples.sha256_hex(data))) == data


def test_the_office_gets_the_shortcut_for_any_stored_photo(
    client: FlaskClient, worker_token: str, make_user: Any, token_for: Any
) -> None:
    data = samples.jpeg(seed=34)
    assert upload_all(client, worker_token, data).status_code == 204
    office = token_for(make_user("dispatcher"))
    assert create(client, office, data).headers["Upload-Offset"] == str(len(data))


def test_termination_drops_the_upload_and_its_bytes(client: FlaskClient, worker_token: str) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    patch(client, worker_token, location, 0, data[:500])
    response = client.delete(location, headers=auth(worker_token))
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert client.head(location, headers=auth(worker_token)).status_code == 410
    assert patch(client, worker_token, location, 500, data[500:]).status_code == 410


def test_an_expired_upload_is_gone(app: Any, client: FlaskClient, worker_token: str) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    upload = db.session.query(Upload).one()
    upload.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    assert client.head(location, headers=auth(worker_token)).status_code == 410
    assert patch(client, worker_token, location, 0, data).status_code == 410


def test_an_unknown_upload_is_404(client: FlaskClient, worker_token: str) -> None:
    response = client.head(f"/api/v1/uploads/{uuid.uuid4()}", headers=auth(worker_token))
    assert response.status_code == 404


def test_uploading_needs_a_token(client: FlaskClient) -> None:
    response = client.post("/api/v1/uploads/", headers={**TUS, "Upload-Length": "3"})
    assert response.status_code == 401
    assert response.headers["Tus-Resumable"] == "1.0.0"


def test_a_session_without_a_device_cannot_upload(client: FlaskClient, make_user: Any) -> None:
    user = make_user("dispatcher")
    login(client, user.username)
    response = client.post(
        "/api/v1/uploads/",
        headers={**TUS, "Upload-Length": "3", "Upload-Metadata": samples.metadata_header(b"abc")},
    )
    # A cookie-borne unsafe request without its CSRF token is refused before anything else.
    assert response.status_code in (400, 403)


def test_another_devices_upload_url_is_not_usable(
    client: FlaskClient, worker_token: str, make_user: Any, token_for: Any
) -> None:
    data = samples.jpeg()
    location = create(client, worker_token, data).headers["Location"]
    stranger = token_for(make_user("worker"))
    assert client.head(location, headers=auth(stranger)).status_code == 404
    assert patch(client, stranger, location, 0, data).status_code == 404
    assert client.delete(location, headers=auth(stranger)).status_code == 404
    assert client.head(location, headers=auth(worker_token)).headers["Upload-Offset"] == "0"


def test_office_staff_get_the_photo_and_thumbnail_with_caching(
    client: FlaskClient, worker_token: str, make_user: Any, token_for: Any
) -> None:
    data = samples.jpeg()
    upload_all(client, worker_token, data)
    sha = samples.sha256_hex(data)
    office = token_for(make_user("dispatcher"))
    headers = {"Authorization": f"Bearer {office}"}
    response = client.get(f"/api/v1/photos/{sha}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data == data
    assert response.headers["ETag"] == f'"{sha}"'
    assert "immutable" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    again = client.get(f"/api/v1/photos/{sha}", headers={**headers, "If-None-Match": f'"{sha}"'})
    assert again.status_code == 304
    part = client.get(f"/api/v1/photos/{sha}", headers={**headers, "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == data[:100]
    thumb = client.get(f"/api/v1/photos/{sha}/thumb", headers=headers)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert len(thumb.data) < len(data)


def test_a_worker_sees_their_own_photos_but_not_others(
    client: FlaskClient, worker_token: str, make_user: Any, token_for: Any
) -> None:
    data = samples.jpeg()
    upload_all(client, worker_token, data)
    sha = samples.sha256_hex(data)
    own = client.get(f"/api/v1/photos/{sha}", headers={"Authorization": f"Bearer {worker_token}"})
    assert own.status_code == 200
    other = token_for(make_user("worker"))
    response = client.get(f"/api/v1/photos/{sha}", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404
    gis = token_for(make_user("gis"))
    response = client.get(f"/api/v1/photos/{sha}", headers={"Authorization": f"Bearer {gis}"})
    assert response.status_code == 404


def test_photos_need_a_signed_in_caller(client: FlaskClient) -> None:
    assert client.get(f"/api/v1/photos/{'a' * 64}").status_code == 401


def test_a_photo_not_yet_uploaded_is_404(
    client: FlaskClient, make_user: Any, token_for: Any
) -> None:
    db.session.add(Photo(sha256="b" * 64, status=PhotoStatus.MISSING))
    db.session.commit()
    office = token_for(make_user("manager"))
    response = client.get(
        f"/api/v1/photos/{'b' * 64}", headers={"Authorization": f"Bearer {office}"}
    )
    assert response.status_code == 404
