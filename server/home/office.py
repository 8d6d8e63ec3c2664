"""The office roles' to-do lists: GIS (drafts, coverage gaps) and admin (users, phones, imports)."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.accounts.models import Device, User
from server.enums import GridStatus, Role
from server.grid.models import Duty, GridVersion
from server.home.todo import FIRST, Figure, Item, Task, Todo, no_worker
from server.imports.models import ImportRun
from server.imports.pages import KIND_LABELS, unplaced
from server.labels import label
from server.layers.models import BaseLayer


def gis(session: Session, user: User, *, now: dt.datetime, today: dt.date) -> Todo:
    """Grid and base-layer drafts waiting, cells without a worker, households to place."""
    grids = list(
        session.scalars(
            select(GridVersion)
            .where(GridVersion.status == GridStatus.DRAFT)
            .order_by(GridVersion.id.desc())
        )
    )
    layers = list(
        session.scalars(
            select(BaseLayer)
            .where(BaseLayer.status == GridStatus.DRAFT)
            .order_by(BaseLayer.id.desc())
        )
    )
    return Todo(
        Role.GIS,
        [
            Task(
                "grid_drafts",
                _l("Grid drafts waiting"),
                len(grids),
                "grid.versions",
                {},
                [
                    Item(g.name, "grid.version", {"version_id": g.id}, when=g.created_at, name=True)
                    for g in grids[:FIRST]
                ],
            ),
            Task(
                "layer_drafts",
                _l("Base-layer drafts waiting"),
                len(layers),
                "layers.index",
                {},
                [
                    Item(
                        layer.name,
                        "layers.layer",
                        {"layer_id": layer.id},
                        when=layer.created_at,
                        name=True,
                    )
                    for layer in layers[:FIRST]
                ],
            ),
            no_worker(session, today=today),
            Task(
                "unplaced_households",
                _l("Households whose address matched no door"),
                unplaced(session),
                "addresses.check",
            ),
        ],
    )


#: A phone not heard from for this long is listed for the admin (lost, broken or left behind).
SILENT_AFTER = dt.timedelta(days=30)
#: Imports listed: refused ones of this recent past, and dry runs still waiting to be applied.
IMPORTS_WITHIN = dt.timedelta(days=30)


def admin(session: Session, user: User, *, now: dt.datetime, today: dt.date) -> Todo:
    """Accounts never used, workers without a cell, silent phones, imports refused or waiting."""
    never = list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.last_login_at.is_(None))
            .order_by(User.created_at.desc())
        )
    )
    on_duty = select(Duty.user_id).where(
        Duty.starts_on <= today, or_(Duty.ends_on.is_(None), Duty.ends_on >= today)
    )
    idle = list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role == Role.WORKER, User.id.not_in(on_duty))
            .order_by(User.username)
        )
    )
    silent = session.execute(
        select(Device.name, Device.last_seen_at, User.id, User.display_name)
        .join(User, User.id == Device.user_id)
        .where(
            Device.revoked_at.is_(None),
            or_(Device.last_seen_at.is_(None), Device.last_seen_at < now - SILENT_AFTER),
        )
        .order_by(Device.last_seen_at.is_(None), Device.last_seen_at)
    ).all()
    refused = list(
        session.scalars(
            select(ImportRun)
            .where(ImportRun.state == "refused", ImportRun.created_at >= now - IMPORTS_WITHIN)
            .order_by(ImportRun.created_at.desc())
        )
    )
    waiting = list(
        session.scalars(
            select(ImportRun)
            .where(ImportRun.state == "checked")
            .order_by(ImportRun.created_at.desc())
        )
    )
    active = session.scalar(select(func.count()).select_from(User).where(User.is_active.is_(True)))
    phones = session.scalar(
        select(func.count()).select_from(Device).where(Device.revoked_at.is_(None))
    )

    def person(u: User) -> Item:
        # The name and role, not the user name: the person page has the rest.
        return Item(
            u.display_name, "admin.person", {"user_id": u.id}, note=label(str(u.role)), name=True
        )

    def run(r: ImportRun) -> Item:
        return Item(
            r.filename or str(KIND_LABELS.get(r.kind, r.kind)),
            "imports.run",
            {"run_id": r.id},
            when=r.created_at,
            note=str(KIND_LABELS.get(r.kind, "")),
            name=bool(r.filename),
        )

    return Todo(
        Role.ADMIN,
        [
            Task(
                "never_signed_in",
                _l("Accounts never signed in"),
                len(never),
                "admin.staff",
                {},
                [person(u) for u in never[:FIRST]],
            ),
            Task(
                "workers_without_cell",
                _l("Grid workers with no cell today"),
                len(idle),
                "admin.staff",
                {"role": Role.WORKER.value},
                [person(u) for u in idle[:FIRST]],
            ),
            Task(
                "silent_phones",
                _l("Phones not heard from for 30 days"),
                len(silent),
                "admin.staff",
                {},
                [
                    Item(f"{name} · {who}", "admin.person", {"user_id": uid}, when=seen)
                    for name, seen, uid, who in silent[:FIRST]
                ],
            ),
            Task(
                "imports_refused",
                _l("Imports refused (last 30 days)"),
                len(refused),
                "imports.index",
                {},
                [run(r) for r in refused[:FIRST]],
            ),
            Task(
                "imports_waiting",
                _l("Checked imports waiting to be applied"),
                len(waiting),
                "imports.index",
                {},
                [run(r) for r in waiting[:FIRST]],
            ),
        ],
        [
            Figure(_l("Active accounts"), str(active or 0)),
            Figure(_l("Phones in use"), str(phones or 0)),
        ],
    )
