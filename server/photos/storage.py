"""The app's blob store, built once per app from configuration (BLOB_STORE and its settings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from sync.blobs import BlobStore, make_blob_store

_EXTENSION_KEY = "wangge.blob_store"


def settings_from_config(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The backend name and its keyword settings, from the app's configuration."""
    kind = str(config.get("BLOB_STORE") or "disk")
    if kind != "s3":
        return kind, {"root": config["PHOTO_DIR"]}
    return kind, {
        "bucket": config["S3_BUCKET"],
        "prefix": config.get("S3_PREFIX") or "",
        "endpoint_url": config.get("S3_ENDPOINT_URL"),
        "region_name": config.get("S3_REGION"),
        "aws_access_key_id": config.get("S3_ACCESS_KEY_ID"),
        "aws_secret_access_key": config.get("S3_SECRET_ACCESS_KEY"),
    }


def blob_store(app: Flask | None = None) -> BlobStore:
    """The store of `app` (default: the current app), made on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    store: BlobStore | None = app.extensions.get(_EXTENSION_KEY)
    if store is None:
        kind, settings = settings_from_config(app.config)
        store = make_blob_store(kind, **settings)
        app.extensions[_EXTENSION_KEY] = store
    return store
