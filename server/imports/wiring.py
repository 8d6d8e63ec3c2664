"""The import pipeline's context from the running app: keys, today, the district, the actor."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from server import clock
from server.audit.operations import AccessContext
from server.imports.kinds import Context
from server.population.identity import app_vault


def make_context(
    session: Session,
    actor_id: int | None,
    *,
    options: dict[str, Any] | None = None,
    ip: str | None = None,
    request_id: str | None = None,
) -> Context:
    """Everything checking and applying need, read from the app once (views and CLI)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bbox = app.config.get("GRID_DISTRICT_BBOX")
    return Context(
        session=session,
        today=clock.today(),
        vault=app_vault(app),
        access=AccessContext(actor_id, ip, request_id),
        options=dict(options or {}),
        district_bbox=tuple(bbox) if bbox else None,  # type: ignore[arg-type]
        near_m=float(app.config["NEAR_DISTANCE_M"]),
    )
