"""The blob store contract: every backend (disk, S3 via a real moto server) behaves the same."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from sync.blobs import BlobNotFound, BlobStore, BlobStoreError, make_blob_store


def test_a_put_blob_reads_back_whole_and_by_range(blob_store: BlobStore) -> None:
    data = os.urandom(100_000)
    blob_store.put("photos/ab/abc", data)
    assert blob_store.get("photos/ab/abc") == data
    assert blob_store.read_range("photos/ab/abc", 10, 20) == data[10:30]
    assert blob_store.read_range("photos/ab/abc", 99_990, 100) == data[99_990:]
    assert blob_store.read_range("photos/ab/abc", 100_000, 10) == b""
    assert blob_store.stat("photos/ab/abc").size_bytes == 100_000
    assert blob_store.exists("photos/ab/abc")


def test_a_file_object_can_be_stored(blob_store: BlobStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    blob_store.put("photos/big", io.BytesIO(data))
    assert hashlib.sha256(blob_store.get("photos/big")).digest() == hashlib.sha256(data).digest()


def test_putting_again_replaces_the_blob(blob_store: BlobStore) -> None:
    blob_store.put("k", b"one")
    blob_store.put("k", b"two!")
    assert blob_store.get("k") == b"two!"


def test_a_missing_key_raises_not_found_everywhere_but_exists_and_delete(
    blob_store: BlobStore,
) -> None:
    assert not blob_store.exists("photos/none")
    for call in (
        lambda: blob_store.get("photos/none"),
        lambda: blob_store.stat("photos/none"),
        lambda: blob_store.read_range("photos/none", 0, 5),
    ):
        with pytest.raises(BlobNotFound):
            call()
    blob_store.delete("photos/none")  # no error


def test_a_deleted_blob_is_gone(blob_store: BlobStore) -> None:
    blob_store.put("gone", b"x")
    blob_store.delete("gone")
    assert not blob_store.exists("gone")


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a/../b", "", "a b", ".hidden", "a\\b"])
def test_keys_that_could_escape_or_mean_different_things_are_refused(
    blob_store: BlobStore, key: str
) -> None:
    with pytest.raises(BlobStoreError):
        blob_store.put(key, b"x")


def test_staged_chunks_read_back_in_order(blob_store: BlobStore) -> None:
    data = os.urandom(50_000)
    for start in range(0, 50_000, 16_384):
        blob_store.stage_write("up1", start, data[start : start + 16_384])
    assert b"".join(blob_store.stage_read("up1", 50_000)) == data
    assert b"".join(blob_store.stage_read("up1", 20_000)) == data[:20_000]


def test_a_rewrite_at_an_earlier_offset_wins_over_what_a_crash_left(blob_store: BlobStore) -> None:
    # A request wrote 0..300 but the server died before recording it; the client resends
    # from 0 in smaller chunks. Only the recorded path counts.
    blob_store.stage_write("up2", 0, b"a" * 300)
    blob_store.stage_write("up2", 300, b"z" * 50)
    blob_store.stage_write("up2", 0, b"b" * 100)
    blob_store.stage_write("up2", 100, b"c" * 100)
    assert b"".join(blob_store.stage_read("up2", 200)) == b"b" * 100 + b"c" * 100


def test_reading_more_than_was_staged_raises_not_found(blob_store: BlobStore) -> None:
    blob_store.stage_write("up3", 0, b"abc")
    with pytest.raises(BlobNotFound):
        b"".join(blob_store.stage_read("up3", 4))
    with pytest.raises(BlobNotFound):
        b"".join(blob_store.stage_read("never", 1))


def test_discarded_staging_is_gone_and_discarding_twice_is_fine(blob_store: BlobStore) -> None:
    blob_store.stage_write("up4", 0, b"abc")
    blob_store.stage_discard("up4")
    blob_store.stage_discard("up4")
    with pytest.raises(BlobNotFound):
        b"".join(blob_store.stage_read("up4", 3))


def test_staging_is_not_visible_as_blobs(blob_store: BlobStore) -> None:
    blob_store.stage_write("up5", 0, b"abc")
    assert not blob_store.exists("staging/up5")
    assert not blob_store.exists("up5")


def test_an_unknown_backend_name_is_refused() -> None:
    with pytest.raises(BlobStoreError, match="unknown blob store"):
        make_blob_store("ftp")


def test_a_blob_key_that_looks_like_staging_does_not_touch_staged_bytes(
    blob_store: BlobStore,
) -> None:
    blob_store.stage_write("up6", 0, b"abc")
    blob_store.put("staging/up6/000000000000000", b"other")
    blob_store.delete("staging/up6/000000000000000")
    assert b"".join(blob_store.stage_read("up6", 3)) == b"abc"


def test_a_blob_opened_as_a_stream_reads_back_in_blocks(blob_store: BlobStore) -> None:
    data = os.urandom(2 * 1024 * 1024 + 3)
    blob_store.put("photos/ab/stream", data)
    blocks = []
    with blob_store.open("photos/ab/stream") as stream:
        while block := stream.read(256 * 1024):
            blocks.append(block)
    assert b"".join(blocks) == data
    with pytest.raises(BlobNotFound):
        blob_store.open("photos/none")


def test_list_blobs_gives_stored_blobs_in_key_order_with_sizes_and_no_staging(
    blob_store: BlobStore,
) -> None:
    for key, size in (("thumbs/ab/t.jpg", 2), ("photos/cd/y", 3), ("photos/ab/x", 1)):
        blob_store.put(key, b"x" * size)
    blob_store.stage_write("upload1", 0, b"staged")
    listed = [(s.key, s.size_bytes) for s in blob_store.list_blobs()]
    assert listed == [("photos/ab/x", 1), ("photos/cd/y", 3), ("thumbs/ab/t.jpg", 2)]
    assert [s.key for s in blob_store.list_blobs("thumbs/")] == ["thumbs/ab/t.jpg"]
    assert list(blob_store.list_blobs("nothing/")) == []
    with pytest.raises(BlobStoreError):
        list(blob_store.list_blobs("../"))
