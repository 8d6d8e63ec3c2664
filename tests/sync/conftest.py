"""Blob store fixtures: every backend the contract suite runs against."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.blobs import BlobStore, DiskBlobStore


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto) on 127.0.0.1, for the whole session."""
    pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_store(endpoint: str) -> BlobStore:
    from sync.blobs.s3 import S3BlobStore

    bucket = f"wangge-{uuid.uuid4().hex[:12]}"
    store = S3BlobStore(
        bucket,
        prefix="photos-test",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.fixture(params=["disk", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each backend in turn: the same tests must pass on all of them."""
    if request.param == "disk":
        return DiskBlobStore(tmp_path / "blobs")
    return s3_store(request.getfixturevalue("moto_s3_endpoint"))
