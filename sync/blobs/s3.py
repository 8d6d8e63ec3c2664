"""The S3-compatible blob store (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode), via boto3."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from sync.blobs.base import (
    BlobNotFound,
    BlobStat,
    BlobStoreError,
    check_key,
    check_key_prefix,
    check_upload_id,
)

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


class S3BlobStore:
    """Blobs as objects `prefix + blobs/ + key` in one bucket; each staged chunk is an object.

    Chunks are stored as `prefix + staging/<upload id>/<offset, 15 digits>` rather than as an
    S3 multipart upload because multipart parts must be at least 5 MiB (except the last) and
    phones send 256 KiB chunks. Reading the staged bytes walks the chunks from offset 0, each
    found at the offset where the previous one ended, so a chunk left by a crashed request at
    an offset that was later rewritten is never on the path.
    """

    def __init__(
        self, bucket: str, prefix: str = "", client: Any = None, **client_settings: Any
    ) -> None:
        if client is None:
            try:
                import boto3
            except ImportError as error:  # pragma: no cover - depends on the install
                raise BlobStoreError(
                    "the S3 store needs boto3: pip install 'wangge[s3]'"
                ) from error
            settings = {k: v for k, v in client_settings.items() if v not in (None, "")}
            client = boto3.client("s3", **settings)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _name(self, key: str) -> str:
        return f"{self.prefix}blobs/{check_key(key)}"

    def _stage_prefix(self, upload_id: str) -> str:
        return f"{self.prefix}staging/{check_upload_id(upload_id)}/"

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        body = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
        # upload_fileobj switches to multipart for large bodies; S3 makes the object
        # visible only when the whole upload completes, so readers never see half a blob.
        self.client.upload_fileobj(body, self.bucket, self._name(key))

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as error:
            raise self._translate(error, key) from error
        return bytes(response["Body"].read())

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            self.stat(key)
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._name(key), Range=f"bytes={start}-{start + length - 1}"
            )
        except Exception as error:
            if _error_code(error) == "InvalidRange":  # start at or past the end
                self.stat(key)
                return b""
            raise self._translate(error, key) from error
        return bytes(response["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except BlobNotFound:
            return False
        return True

    def stat(self, key: str) -> BlobStat:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as error:
            raise self._translate(error, key) from error
        return BlobStat(key=key, size_bytes=int(head["ContentLength"]))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except Exception as error:
            raise self._translate(error, key) from error
        # botocore's StreamingBody: read(n) pulls from the socket, nothing is buffered whole.
        body: BinaryIO = response["Body"]
        return body

    def list_blobs(self, prefix: str = "") -> Iterator[BlobStat]:
        blobs = f"{self.prefix}blobs/"
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=blobs + check_key_prefix(prefix))
        for page in pages:  # S3 lists keys in UTF-8 byte order, i.e. sorted
            for item in page.get("Contents", []):
                yield BlobStat(key=item["Key"][len(blobs) :], size_bytes=int(item["Size"]))

    def stage_write(self, upload_id: str, offset: int, data: bytes) -> None:
        name = f"{self._stage_prefix(upload_id)}{offset:015d}"
        self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data))

    def _staged_chunks(self, upload_id: str) -> dict[int, int]:
        """Map offset → size of every staged chunk object."""
        prefix = self._stage_prefix(upload_id)
        chunks: dict[int, int] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                tail = item["Key"][len(prefix) :]
                if tail.isdigit():
                    chunks[int(tail)] = int(item["Size"])
        return chunks

    def stage_read(self, upload_id: str, length: int) -> Iterator[bytes]:
        chunks = self._staged_chunks(upload_id)
        path, offset = [], 0
        while offset < length:
            size = chunks.get(offset)
            if not size:
                raise BlobNotFound(upload_id)
            path.append(offset)
            offset += size
        return self._read_chunks(upload_id, path, length)

    def _read_chunks(self, upload_id: str, path: list[int], length: int) -> Iterator[bytes]:
        prefix, remaining = self._stage_prefix(upload_id), length
        for offset in path:
            response = self.client.get_object(Bucket=self.bucket, Key=f"{prefix}{offset:015d}")
            block = bytes(response["Body"].read())[:remaining]
            remaining -= len(block)
            yield block

    def stage_discard(self, upload_id: str) -> None:
        prefix = self._stage_prefix(upload_id)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    @staticmethod
    def _translate(error: Exception, key: str) -> Exception:
        return BlobNotFound(key) if _error_code(error) in _NOT_FOUND else error


def _error_code(error: Exception) -> str:
    """botocore's ClientError carries the S3 error code in `response`; others have none."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
