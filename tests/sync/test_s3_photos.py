"""Photos through a real S3-compatible server: tus upload and download with BLOB_STORE=s3."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from server.extensions import db
from tests.live import LiveServer
from tests.server import photo_samples as samples
from tests.server.test_uploads_api import upload_all
from tests.server.test_uploads_tus import uploader
from tests.sync.conftest import Phone, build_world, s3_app_settings


def _objects(settings: dict[str, str]) -> set[str]:
    client = boto3.client(
        "s3",
        endpoint_url=settings["S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    listing = client.list_objects_v2(Bucket=settings["S3_BUCKET"])
    return {item["Key"] for item in listing.get("Contents", [])}


def test_a_photo_uploaded_by_tus_is_stored_in_s3_and_downloaded(
    make_app: Any, moto_s3_endpoint: str, tmp_path: Path
) -> None:
    settings = s3_app_settings(moto_s3_endpoint)
    app = make_app(**settings, PHOTO_DIR=str(tmp_path / "no-disk-photos"))
    client = app.test_client()
    with app.app_context():
        world = build_world(db.session)
        phone = Phone(client, world.users["wa"])
    photo = samples.jpeg(noise_bytes=300_000, seed=11)
    sha = samples.sha256_hex(photo)
    assert upload_all(client, phone.token, photo, chunk=64 * 1024).status_code == 204
    # The upload's photo is linked by a report, so the worker may read it back.
    phone.add(
        "case.report",
        {
            "id": str(uuid.uuid4()),
            "title": "s3",
            "description": "",
            "address": "",
            "priority": "normal",
            "lon": samples.CAMERA_LON,
            "lat": samples.CAMERA_LAT,
            "accuracy_m": 5,
            "photos": [sha],
        },
    )
    phone.push()
    auth = {"Authorization": f"Bearer {phone.token}"}
    with client.get(f"/api/v1/photos/{sha}", headers=auth) as got:
        assert got.status_code == 200 and got.data == photo
    with client.get(f"/api/v1/photos/{sha}/thumb", headers=auth) as thumb:
        assert thumb.status_code == 200 and thumb.content_type == "image/jpeg"
    keys = _objects(settings)
    assert any(k.endswith(f"photos/{sha[:2]}/{sha}") for k in keys)
    assert any(k.endswith(f"thumbs/{sha[:2]}/{sha}.jpg") for k in keys)
    assert not any("/staging/" in k for k in keys), "staged chunks are removed once joined"
    assert not (tmp_path / "no-disk-photos" / "blobs").exists()


@pytest.mark.slow
def test_two_gunicorn_workers_share_uploads_through_s3(
    database_url: str, moto_s3_endpoint: str, tmp_path: Path, make_app: Any
) -> None:
    """Chunks land on whichever worker answers; only the database and S3 hold the state."""
    settings = s3_app_settings(moto_s3_endpoint)
    app = make_app(**settings)
    with app.app_context():
        world = build_world(db.session)
        phone = Phone(app.test_client(), world.users["wa"])
    server = LiveServer(database_url, tmp_path / "live", workers=2, **settings)
    server.start()
    try:
        photo = samples.jpeg(noise_bytes=1_200_000, seed=12)
        sha = samples.sha256_hex(photo)
        tus = uploader(server.url, phone.token, photo, chunk=256 * 1024)
        tus.upload()
        head = requests.head(
            tus.url,
            headers={"Authorization": f"Bearer {phone.token}", "Tus-Resumable": "1.0.0"},
            timeout=10,
        )
        assert int(head.headers["Upload-Offset"]) == len(photo)
        assert any(k.endswith(f"photos/{sha[:2]}/{sha}") for k in _objects(settings))
        assert not (server.photo_dir / "blobs").exists()
    finally:
        server.stop()
