"""Benchmark a 3 MB photo upload through the real tus endpoint, with a cut at 50 %.

Run ``python bench/bench_upload.py`` (5 rounds, medians) or ``--quick`` (1 round).
Starts gunicorn on 127.0.0.1 with a fresh SQLite database, signs a device in, and measures
in the same run:
  - baseline 1: writing the same bytes to a file (write + fsync), the floor of any upload;
  - baseline 2: one un-chunked PATCH of the whole file (tuspy with one chunk);
  - tus in 256 KiB chunks, uninterrupted;
  - tus in 256 KiB chunks through a proxy that cuts the connection at 50 % of the bytes,
    then resumes: bytes the phone sent again after the cut (target ≤ one chunk) and the
    bytes the server stored (must equal the file size).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

from tests.live import CuttingProxy, LiveServer
from tests.server import photo_samples as samples

CHUNK = 256 * 1024
SIZE = 3 * 1024 * 1024


class CountingStream(io.BytesIO):
    """Counts the bytes tuspy reads to send (each PATCH reads its chunk once)."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def prepare(root: Path) -> tuple[LiveServer, str]:
    from flask_migrate import upgrade

    from server import create_app
    from server.accounts import operations as accounts
    from server.extensions import db

    url = f"sqlite:///{root / 'bench.db'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(root / "app"), "SECRET_KEY": "b"}
    )
    with app.app_context():
        upgrade()
        accounts.create_user(
            db.session, username="bench", password="bench-password-1", role="worker"
        )
        db.session.commit()
        db.engine.dispose()
    server = LiveServer(url, root / "live")
    server.start()
    token = requests.post(
        f"{server.url}/api/v1/auth/token",
        json={
            "username": "bench",
            "password": "bench-password-1",
            "device_id": str(uuid.uuid4()),
            "device_name": "bench",
        },
        timeout=30,
    ).json()["token"]
    return server, token


def upload(
    base: str, token: str, data: bytes, chunk: int, url: str | None = None
) -> tuple[str, int]:
    stream = CountingStream(data)
    client = TusClient(f"{base}/api/v1/uploads/", headers={"Authorization": f"Bearer {token}"})
    uploader = client.uploader(
        file_stream=stream,
        url=url,
        chunk_size=chunk,
        metadata={"sha256": samples.sha256_hex(data), "mime": "image/jpeg"},
        upload_checksum=True,
    )
    try:
        uploader.upload()
    except TusCommunicationError:
        return uploader.url or "", -stream.bytes_read
    return uploader.url, stream.bytes_read


def one_round(server: LiveServer, token: str, seed: int, root: Path) -> dict[str, float]:
    def photo(n: int) -> bytes:
        return samples.jpeg(noise_bytes=SIZE - 4000, seed=seed * 10 + n)

    out: dict[str, float] = {}
    data = photo(0)
    t0 = time.perf_counter()
    with open(root / f"copy-{seed}", "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    out["file_write_s"] = time.perf_counter() - t0

    data = photo(1)
    t0 = time.perf_counter()
    upload(server.url, token, data, chunk=len(data))
    out["single_patch_s"] = time.perf_counter() - t0

    data = photo(2)
    t0 = time.perf_counter()
    upload(server.url, token, data, chunk=CHUNK)
    out["chunked_s"] = time.perf_counter() - t0

    data = photo(3)
    proxy = CuttingProxy(server.port)
    try:
        proxy.cut_at([len(data) // 2])
        t0 = time.perf_counter()
        url, sent_first = upload(proxy.url, token, data, chunk=CHUNK)
        _, sent_after = upload(proxy.url, token, data, chunk=CHUNK, url=url)
        out["cut_resume_s"] = time.perf_counter() - t0
    finally:
        proxy.close()
    out["sent_bytes"] = abs(sent_first) + sent_after
    out["resent_bytes"] = out["sent_bytes"] - len(data)
    out["stored_bytes"] = stored_bytes(server, url)
    out["size"] = len(data)
    return out


def stored_bytes(server: LiveServer, url: str) -> float:
    import sqlalchemy as sa

    engine = sa.create_engine(server.database_url)
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT bytes_written FROM uploads WHERE id = :id"),
            {"id": uuid.UUID(url.rsplit("/", 1)[1]).hex},
        ).scalar_one()
    engine.dispose()
    return float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of five")
    args = parser.parse_args()
    rounds = 1 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server, token = prepare(root)
        try:
            results = [one_round(server, token, seed, root) for seed in range(1, rounds + 1)]
        finally:
            server.stop()
    med = {key: statistics.median(r[key] for r in results) for key in results[0]}
    mb = med["size"] / 1e6
    print(
        f"photo {med['size'] / 1024 / 1024:.2f} MiB, chunks {CHUNK // 1024} KiB, "
        f"{rounds} round(s), medians; gunicorn 2 sync workers, SQLite, disk store"
    )

    def row(label: str, key: str, extra: str = "") -> None:
        print(f"  {label:<28}{med[key] * 1000:8.1f} ms  {mb / med[key]:8.1f} MB/s{extra}")

    row("baseline file write+fsync", "file_write_s")
    row("baseline one PATCH", "single_patch_s")
    ratio = med["single_patch_s"] / med["chunked_s"]
    row("tus 256 KiB chunks", "chunked_s", f"  ({ratio:.2f}x of one PATCH)")
    row("tus chunks, cut at 50 %", "cut_resume_s")
    print(
        f"  re-sent after the cut       {med['resent_bytes']:8.0f} bytes "
        f"({med['resent_bytes'] / CHUNK:.2f} chunk; target <= 1)"
    )
    print(
        f"  stored by the server        {med['stored_bytes']:8.0f} bytes (file {med['size']:.0f})"
    )


if __name__ == "__main__":
    main()
