"""Shared set-up of the sync benches: a migrated SQLite file with a worker, a cell, a token."""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade

from server import create_app
from server.accounts import operations as accounts
from server.extensions import db


def seeded_database(households_per_cell: int = 3) -> tuple[Path, Any, dict[str, Any]]:
    """Return (folder, app, info) with the test world of tests/sync (worker `wa` on cell G1)."""
    from tests.sync.conftest import build_world

    folder = Path(tempfile.mkdtemp(prefix="wangge-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"}
    )
    with app.app_context():
        upgrade()
        world = build_world(db.session, households_per_cell=households_per_cell)
        token, device = accounts.issue_device_token(
            db.session, world.users["wa"], device_id=uuid.uuid4(), device_name="bench"
        )
        db.session.commit()
        info = {
            "url": url,
            "token": token,
            "device_id": str(device.id),
            "user_id": world.users["wa"].id,
            "households": world.households,
            "world": world,
        }
    return folder, app, info
