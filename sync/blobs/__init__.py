"""Photo bytes behind one small interface: local disk by default, S3-compatible for many machines.

The server picks a backend from configuration with `make_blob_store`; everything else sees
only the `BlobStore` protocol, and every backend passes the same contract tests
(tests/sync/test_blobstore_contract.py).
"""

from __future__ import annotations

from typing import Any

from sync.blobs.base import BlobNotFound, BlobStat, BlobStore, BlobStoreError, check_key
from sync.blobs.disk import DiskBlobStore

__all__ = [
    "BlobNotFound",
    "BlobStat",
    "BlobStore",
    "BlobStoreError",
    "DiskBlobStore",
    "check_key",
    "make_blob_store",
]


def make_blob_store(kind: str, **settings: Any) -> BlobStore:
    """Build the store named `kind` ("disk" or "s3") from keyword settings.

    "disk" needs `root`; "s3" needs `bucket` and takes `prefix`, `endpoint_url`, `region_name`,
    `aws_access_key_id`, `aws_secret_access_key` (boto3 from the `s3` extra).
    Raises BlobStoreError for an unknown kind.

    >>> import tempfile
    >>> make_blob_store("disk", root=tempfile.mkdtemp()).exists("photos/none")
    False
    """
    if kind == "disk":
        return DiskBlobStore(settings["root"])
    if kind == "s3":
        from sync.blobs.s3 import S3BlobStore

        return S3BlobStore(**settings)
    raise BlobStoreError(f"unknown blob store {kind!r}; use 'disk' or 's3'")
