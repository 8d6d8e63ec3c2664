"""Every migration steps down and up again with the demo district and phone data in the tables."""

from __future__ import annotations

import uuid
from typing import Any

from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, func, inspect, select, text

from server.demo.loader import load_demo
from server.demo.staff import DEMO_PASSWORD
from server.extensions import db
from sync.db import utcnow
from tests.server import photo_samples as samples
from tests.server.test_uploads_api import upload_all


def _revisions(app: Flask) -> list[str]:
    """The chain from the first revision to head, in upgrade order."""
    ext = app.extensions["migrate"]  # Flask-Migrate keeps (migrate, directory) here
    config = ext.migrate.get_config(directory=ext.directory)
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def _counts() -> dict[str, int]:
    """Rows per table as the database has them now (reflected: the models may be ahead)."""
    db.session.remove()
    reflected = MetaData()
    reflected.reflect(bind=db.engine)
    with db.engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(table))
            for name, table in reflected.tables.items()
            # Bookkeeping of the migrations themselves: rewritten at every step (one row per
            # revision passed through, server/ops/schema.py), not data a step may lose.
            if name not in ("alembic_version", "schema_lineage")
        }


def _current_revision() -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def _populate(app: Flask) -> None:
    """The demo district, a device, a pushed visit and report, and an uploaded photo."""
    load_demo(db.session)
    db.session.commit()
    client = app.test_client()
    device_id = str(uuid.uuid4())
    signed_in = client.post(
        "/api/v1/auth/token",
        json={
            "username": "zhou.jie",
            "password": DEMO_PASSWORD,
            "device_id": device_id,
            "device_name": "chain phone",
        },
    )
    assert signed_in.status_code == 201, signed_in.get_json()
    token = signed_in.get_json()["token"]
    photo = samples.jpeg(seed=7)
    auth = {"Authorization": f"Bearer {token}"}
    pulled = client.get("/api/v1/sync/pull", query_string={"limit": 2000}, headers=auth)
    household = next(c["id"] for c in pulled.get_json()["changes"] if c["table"] == "households")
    now = utcnow().isoformat()
    mutations: list[dict[str, Any]] = [
        {
            "name": "visit.create",
            "args": {"id": str(uuid.uuid4()), "household_id": str(household), "visited_at": now},
        },
        {
            "name": "case.report",
            "args": {
                "id": str(uuid.uuid4()),
                "title": "chain test",
                "description": "a report made before the migration walk",
                "address": "新华路 1 号",
                "priority": "normal",
                "lon": samples.CAMERA_LON,
                "lat": samples.CAMERA_LAT,
                "accuracy_m": 5,
                "photos": [samples.sha256_hex(photo)],
            },
        },
    ]
    for seq, mutation in enumerate(mutations, start=1):
        mutation.update(seq=seq, op_id=str(uuid.uuid4()), recorded_at_device=now)
    pushed = client.post(
        "/api/v1/sync/push",
        json={
            "device_id": device_id,
            "schema_version": 1,
            "device_now": now,
            "mutations": mutations,
        },
        headers=auth,
    )
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied", "applied"]
    assert upload_all(client, token, photo).status_code == 204


def old_user(username: str, at: Any) -> dict[str, Any]:
    """A `users` row in the first revision's columns (raw, for rows written before a step)."""
    return {
        "username": username,
        "display_name": username,
        "role": "worker",
        "password_hash": "x",
        "is_active": True,
        "created_at": at,
        "session_epoch": 0,
    }


def old_case(key: Any, number: str, channel: str, at: Any) -> dict[str, Any]:
    """A `cases` row in the first revision's columns."""
    return {
        "id": key,
        "number": number,
        "channel": channel,
        "priority": "normal",
        "status": "reported",
        "title": "t",
        "description": "d",
        "address": "a",
        "placement": "unlocated",
        "reported_at": at,
        "rework_count": 0,
        "postponed": False,
        "version": 1,
        "field_versions": {},
    }


def _seed_first_revision() -> None:
    """Rows in the first revision's own schema (today's models are ahead of it), including a
    case with a timeline: later revisions rebuild `cases` while events point at it."""
    import sqlalchemy as sa

    engine = db.engine
    meta = sa.MetaData()
    meta.reflect(bind=engine, only=["users", "cases", "case_events"])
    native_uuid = engine.dialect.name == "postgresql"
    case_id = uuid.uuid4()
    key = case_id if native_uuid else case_id.hex
    at = utcnow().replace(tzinfo=None) if not native_uuid else utcnow()
    with engine.begin() as conn:
        conn.execute(meta.tables["users"].insert().values(old_user("chain", at)))
        conn.execute(
            meta.tables["cases"].insert().values(old_case(key, "XH-CHAIN-1", "hotline", at))
        )
        event_id = uuid.uuid4()
        conn.execute(
            meta.tables["case_events"]
            .insert()
            .values(
                id=event_id if native_uuid else event_id.hex,
                case_id=key,
                seq=1,
                kind="reported",
                at=at,
                note="",
                data={},
                after_close=False,
                version=1,
            )
        )


def test_each_migration_downgrades_and_upgrades_with_data_and_keeps_it(app):
    _populate(app)
    chain = _revisions(app)
    assert _current_revision() == chain[-1]
    before = _counts()
    for table in ("users", "households", "cases", "visits", "sync_mutations", "uploads", "photos"):
        assert before[table] > 0, table

    # Down one revision at a time to base: every table the schema keeps keeps its rows.
    for target in [*reversed(chain[:-1]), "base"]:
        downgrade(revision=target)
        now = _counts()
        assert now == {name: before[name] for name in now}, f"rows changed at {target}"
        assert _current_revision() == (None if target == "base" else target)
    assert _counts() == {}

    # Up again one at a time, then the demo once more: the full chain upgrades with data in it.
    for target in chain:
        upgrade(revision=target)
        assert _current_revision() == target
        if target == chain[0]:
            _seed_first_revision()
            seeded = _counts()
        now = _counts()
        assert {name: now[name] for name in seeded} == seeded, f"rows changed at {target}"
    assert set(_counts()) == set(before)


def test_the_chain_is_linear_and_every_step_has_a_downgrade(app):
    ext = app.extensions["migrate"]  # Flask-Migrate keeps (migrate, directory) here
    config = ext.migrate.get_config(directory=ext.directory)
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert revision.module.downgrade.__code__.co_code != (lambda: None).__code__.co_code
    assert inspect(db.engine).has_table("alembic_version")
