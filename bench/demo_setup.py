"""Shared set-up of the back-office benches: the demo district, migrated, on a fixed clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from server import create_app


def demo_app(url: str, instance: Path, now: dt.datetime) -> Any:
    """The app on `url` (an empty database), migrated, with the demo district loaded and the
    clock stopped at `now`; CSRF off so the benches can post forms through the test client."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench",
            "CLOCK": lambda: now,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
    return app
