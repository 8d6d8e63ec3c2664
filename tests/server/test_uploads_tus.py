"""The tus endpoint as phones use it: tuspy against a real gunicorn, over a cutting proxy.

These are U1–U7 of the design notes (research/sync-pwa-anchors.md §4.2). Every loop is
bounded; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import uuid
from typing import Any

import pytest
import requests
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

from server.cases.models import Photo
from server.enums import PhotoStatus
from server.extensions import db
from server.photos.models import Upload, UploadStatus
from server.photos.operations import photo_key
from sync.blobs import DiskBlobStore
from tests.live import CuttingProxy, LiveServer
from tests.server import photo_samples as samples

pytestmark = pytest.mark.slow

CHUNK = 512 * 1024
MAX_ATTEMPTS = 30


@pytest.fixture
def device_token(make_user: Any, token_for: Any) -> str:
    return str(token_for(make_user("worker"), device_id=uuid.uuid4()))


@pytest.fixture(scope="module")
def photo_5mb() -> bytes:
    return samples.jpeg(noise_bytes=5 * 1024 * 1024, seed=5)


def uploader(
    base: str,
    token: str,
    data: bytes,
    *,
    url: str | None = None,
    sha256: str | None = None,
    retries: int = 0,
    chunk: int = CHUNK,
) -> Uploader:
    client = TusClient(f"{base}/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
    return client.uploader(
        file_stream=io.BytesIO(data),
        url=url,
        chunk_size=chunk,
        metadata={"sha256": sha256 or samples.sha256_hex(data), "mime": "image/jpeg"},
        upload_checksum=True,
        retries=retries,
        retry_delay=0,
    )


def upload_resuming(base: str, token: str, data: bytes) -> tuple[str, int]:
    """Upload like a phone on a bad link: on any failure, HEAD the same URL and go on."""
    url: str | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        current: Uploader | None = None
        try:
            current = uploader(base, token, data, url=url)
            current.upload()
            assert current.url
            return current.url, attempt
        except TusCommunicationError:
            url = (current.url if current is not None else None) or url
    raise AssertionError(f"not finished after {MAX_ATTEMPTS} attempts")


def upload_row(url: str) -> Upload:
    db.session.rollback()  # see what the server committed
    row = db.session.get(Upload, uuid.UUID(url.rstrip("/").rsplit("/", 1)[1]))
    assert row is not None
    return row


def stored_photo(server: LiveServer, sha256: str) -> bytes:
    return DiskBlobStore(server.photo_dir).get(photo_key(sha256))


@pytest.mark.parametrize("seed", [1, 2])
def test_u1_an_upload_cut_five_times_resumes_and_no_chunk_is_written_twice(
    live_server: LiveServer,
    cutting_proxy: CuttingProxy,
    device_token: str,
    photo_5mb: bytes,
    seed: int,
) -> None:
    cutting_proxy.cut_at(random.Random(seed).sample(range(200, len(photo_5mb)), 5))
    url, attempts = upload_resuming(cutting_proxy.url, device_token, photo_5mb)
    assert cutting_proxy.cuts_done == 5
    assert attempts >= 2
    sha = samples.sha256_hex(photo_5mb)
    assert hashlib.sha256(stored_photo(live_server, sha)).hexdigest() == sha
    row = upload_row(url)
    assert row.status == UploadStatus.FINISHED
    assert row.bytes_written == len(photo_5mb)  # every byte stored exactly once
    assert db.session.get(Photo, sha).status == PhotoStatus.AVAILABLE


def test_u1_a_reply_lost_after_the_chunk_was_stored_is_not_sent_again(
    live_server: LiveServer, cutting_proxy: CuttingProxy, device_token: str
) -> None:
    data = samples.jpeg(noise_bytes=2 * CHUNK, seed=11)
    first = uploader(cutting_proxy.url, device_token, data)
    first.upload(stop_at=CHUNK)  # POST + one PATCH
    first.stop_at = len(data)  # tuspy keeps stop_at: chunks after it would be empty
    cutting_proxy.drop_replies(1)  # the server stores chunk 2; the phone never hears it
    with pytest.raises(TusCommunicationError):
        first.upload_chunk()
    resumed = uploader(cutting_proxy.url, device_token, data, url=first.url)
    assert resumed.offset == 2 * CHUNK  # learnt by HEAD
    resumed.upload()
    assert upload_row(resumed.url).bytes_written == len(data)


def test_u2_a_corrupted_chunk_gets_460_and_the_retry_succeeds(
    live_server: LiveServer, cutting_proxy: CuttingProxy, device_token: str
) -> None:
    data = samples.jpeg(noise_bytes=3 * CHUNK, seed=12)
    cutting_proxy.flip_at(CHUNK + 5000)  # inside the second PATCH's body
    client = uploader(cutting_proxy.url, device_token, data, retries=1)
    client.upload()
    assert 460 in cutting_proxy.statuses
    row = upload_row(client.url)
    assert row.status == UploadStatus.FINISHED
    assert row.bytes_written == len(data)  # the bad chunk was never stored
    assert stored_photo(live_server, samples.sha256_hex(data)) == data


def test_u2_after_460_the_offset_is_unchanged(
    live_server: LiveServer, cutting_proxy: CuttingProxy, device_token: str
) -> None:
    data = samples.jpeg(noise_bytes=2 * CHUNK, seed=13)
    client = uploader(cutting_proxy.url, device_token, data)
    client.upload(stop_at=CHUNK)
    client.stop_at = len(data)
    cutting_proxy.flip_at(3000)
    with pytest.raises(TusCommunicationError) as caught:
        client.upload_chunk()
    assert caught.value.status_code == 460
    assert uploader(live_server.url, device_token, data, url=client.url).offset == CHUNK


def test_u3_a_stale_offset_gets_409_and_the_client_heads_and_resumes(
    live_server: LiveServer, cutting_proxy: CuttingProxy, device_token: str
) -> None:
    data = samples.jpeg(noise_bytes=3 * CHUNK, seed=14)
    first = uploader(cutting_proxy.url, device_token, data, retries=1)
    first.upload(stop_at=CHUNK)
    # A second copy of the app (or a lost reply) moved the offset on behind its back.
    second = uploader(cutting_proxy.url, device_token, data, url=first.url)
    second.upload_chunk()
    first.upload()  # PATCH at the stale offset → 409 → HEAD → resume
    assert 409 in cutting_proxy.statuses
    row = upload_row(first.url)
    assert row.status == UploadStatus.FINISHED
    assert row.bytes_written == len(data)


def test_u4_the_same_photo_from_two_devices_sent_three_times_is_stored_once(
    live_server: LiveServer, make_user: Any, token_for: Any
) -> None:
    """Two people holding the same bytes: each sends them once (the proof of holding them,
    docs/photos.md §Access), then the shortcut; the server keeps one copy."""
    data = samples.jpeg(noise_bytes=CHUNK, seed=15)
    tokens = [token_for(make_user("worker"), device_id=uuid.uuid4()) for _ in range(2)]
    urls = []
    for _ in range(3):
        for token in tokens:
            client = uploader(live_server.url, token, data)
            client.upload()
            urls.append(client.url)
    db.session.rollback()
    rows = [upload_row(url) for url in urls]
    assert all(row.status == UploadStatus.FINISHED for row in rows)
    assert sum(row.bytes_written for row in rows) == 2 * len(data)
    assert [row.deduplicated for row in rows] == [False, False, True, True, True, True]
    assert db.session.query(Photo).count() == 1
    blobs = list((live_server.photo_dir / "blobs" / "photos").rglob("*"))
    assert [p.name for p in blobs if p.is_file()] == [samples.sha256_hex(data)]


def test_u5_bytes_arriving_after_a_report_named_the_photo_make_it_available(
    live_server: LiveServer, device_token: str
) -> None:
    data = samples.jpeg(seed=16)
    sha = samples.sha256_hex(data)
    db.session.add(Photo(sha256=sha, status=PhotoStatus.MISSING))  # photo.attach came first
    db.session.commit()
    uploader(live_server.url, device_token, data).upload()
    db.session.rollback()
    photo = db.session.get(Photo, sha)
    assert photo.status == PhotoStatus.AVAILABLE
    assert photo.lat == pytest.approx(samples.CAMERA_LAT, abs=1e-6)
    assert photo.created_at < dt.datetime.now(dt.UTC)


def test_u6_an_expired_upload_is_gone_and_a_new_one_works(
    live_server: LiveServer, device_token: str
) -> None:
    data = samples.jpeg(noise_bytes=CHUNK, seed=17)
    first = uploader(live_server.url, device_token, data)
    first.upload(stop_at=CHUNK)
    row = upload_row(first.url)
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    head = requests.head(
        first.url,
        headers={"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {device_token}"},
        timeout=10,
    )
    assert head.status_code == 410
    with pytest.raises(TusCommunicationError):
        uploader(live_server.url, device_token, data, url=first.url)
    fresh = uploader(live_server.url, device_token, data)
    fresh.upload()
    assert upload_row(fresh.url).status == UploadStatus.FINISHED


def test_u6_after_a_server_crash_mid_upload_head_reports_the_stored_offset(
    live_server: LiveServer, device_token: str
) -> None:
    data = samples.jpeg(noise_bytes=3 * CHUNK, seed=18)
    first = uploader(live_server.url, device_token, data)
    first.upload(stop_at=2 * CHUNK)
    live_server.restart(hard=True)  # SIGKILL the whole process group, start again
    resumed = uploader(live_server.url, device_token, data, url=first.url)
    assert resumed.offset == 2 * CHUNK
    resumed.upload()
    assert stored_photo(live_server, samples.sha256_hex(data)) == data
    assert upload_row(first.url).bytes_written == len(data)


def test_u7_a_file_whose_sha256_is_not_the_declared_one_is_refused_and_dropped(
    live_server: LiveServer, device_token: str
) -> None:
    data = samples.jpeg(noise_bytes=CHUNK, seed=19)
    wrong = hashlib.sha256(b"another photo").hexdigest()
    client = uploader(live_server.url, device_token, data, sha256=wrong)
    with pytest.raises(TusCommunicationError) as caught:
        client.upload()
    assert caught.value.status_code == 422
    assert b"sha256_mismatch" in caught.value.response_content
    row = upload_row(client.url)
    assert (row.status, row.failure) == (UploadStatus.FAILED, "sha256_mismatch")
    assert list((live_server.photo_dir / "staging").glob("*")) == []  # the partial is gone
    assert db.session.get(Photo, wrong) is None
    # Told to start again: the old URL is gone, a new upload with the right hash works.
    with pytest.raises(TusCommunicationError):
        uploader(live_server.url, device_token, data, url=client.url)
    uploader(live_server.url, device_token, data).upload()
    assert db.session.get(Photo, samples.sha256_hex(data)) is not None


def test_an_upload_url_is_useless_to_another_device(
    live_server: LiveServer, device_token: str, make_user: Any, token_for: Any
) -> None:
    data = samples.jpeg(noise_bytes=CHUNK, seed=20)
    first = uploader(live_server.url, device_token, data)
    first.upload(stop_at=CHUNK)
    stranger = token_for(make_user("worker"), device_id=uuid.uuid4())
    with pytest.raises(TusCommunicationError):
        uploader(live_server.url, stranger, data, url=first.url)
    assert uploader(live_server.url, device_token, data, url=first.url).offset == CHUNK
