"""What the administrators' pages change, each change validated first and audited.

Every function raises a WanggeError (InvalidInput, NotFound, Conflict) before changing
anything, and records one audit entry per change in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import operations as accounts
from server.accounts.models import User
from server.audit.models import AuditEntry
from server.audit.operations import AccessContext, entries_for, record
from server.catalogue.models import CatalogueItem
from server.enums import UnitKind
from server.exceptions import InvalidInput, NotFound
from server.grid import operations as grid
from server.grid import people
from server.grid.models import Duty
from server.params import parse_id
from server.units.models import Unit
from sync.versions import next_version

#: Digits with the usual separators: 021-6283 1234, +86 138 0000 0000, 12345 (hotlines).
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{2,30}$")
#: A time limit is at least six minutes and at most a year.
MIN_HOURS, MAX_HOURS = 0.1, 8760.0
LIMIT_FIELDS = ("limit_urgent_hours", "limit_high_hours", "limit_normal_hours")


# --- staff ---------------------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."), field="user_id")
    return user


def _phone(text: str | None, field: str = "phone") -> str | None:
    value = (text or "").strip()
    if not value:
        return None
    if not PHONE_RE.match(value):
        raise InvalidInput(_l("This is not a phone number."), field=field)
    return value


def _unit_id(session: Session, raw: str | None) -> int | None:
    if not raw:
        return None
    unit_id = parse_id(raw)
    if unit_id is None or session.get(Unit, unit_id) is None:
        raise InvalidInput(_l("Choose a unit from the list."), field="unit_id")
    return unit_id


def create_staff(
    session: Session,
    context: AccessContext,
    *,
    username: str,
    display_name: str,
    role: str,
    phone: str | None = None,
    email: str | None = None,
    unit_id: str | None = None,
    password: str | None = None,
) -> User:
    """A new account. Without a password it has none until its owner follows a reset link."""
    name = (display_name or "").strip()
    if not name:
        raise InvalidInput(_l("Enter the person's name."), field="display_name")
    if len(name) > 100:
        raise InvalidInput(_l("A name is at most 100 characters."), field="display_name")
    number = _phone(phone)
    unit = _unit_id(session, unit_id)
    user = accounts.create_user(
        session,
        username=username,
        password=password or None,
        role=role,
        display_name=name,
        phone=number,
        email=email,
    )
    user.unit_id = unit
    session.flush()
    record(
        session,
        context,
        action="create",
        subject_type="user",
        subject_id=user.id,
        fields=["username", "display_name", "role", "phone", "email", "unit_id"],
        detail={"role": str(user.role), "with_password": bool(password)},
    )
    return user


def update_staff(
    session: Session,
    context: AccessContext,
    user_id: int,
    *,
    display_name: str,
    role: str,
    phone: str | None,
    email: str | None,
    unit_id: str | None,
) -> User:
    """Change a person's name, role, phone, e-mail and unit (an admin keeps their own role)."""
    user = get_user(session, user_id)
    name = (display_name or "").strip()
    if not name:
        raise InvalidInput(_l("Enter the person's name."), field="display_name")
    if len(name) > 100:
        raise InvalidInput(_l("A name is at most 100 characters."), field="display_name")
    new_role = accounts.parse_role(role)
    if user.id == context.actor_id and new_role != user.role:
        raise InvalidInput(_l("You cannot change your own role."), field="role")
    values = {
        "display_name": name,
        "role": new_role,
        "phone": _phone(phone),
        "email": accounts.validate_email(email),
        "unit_id": _unit_id(session, unit_id),
    }
    changes = {
        key: [str(old) if key == "role" else old, str(new) if key == "role" else new]
        for key, new in values.items()
        if (old := getattr(user, key)) != new
    }
    if not changes:
        return user
    for key in changes:
        setattr(user, key, values[key])
    if "role" in changes:
        user.session_epoch += 1  # sessions signed in under the old role end
    record(
        session,
        context,
        action="update",
        subject_type="user",
        subject_id=user.id,
        fields=sorted(changes),
        detail={"changes": changes},
    )
    return user


def set_staff_active(session: Session, context: AccessContext, user_id: int, active: bool) -> User:
    """Disable (ending sessions, tokens and reset links) or re-enable an account."""
    user = get_user(session, user_id)
    if not active and user.id == context.actor_id:
        raise InvalidInput(_l("You cannot disable your own account."), field="user_id")
    if user.is_active == active:
        return user
    accounts.set_active(session, user.username, active)
    record(
        session,
        context,
        action="enable" if active else "disable",
        subject_type="user",
        subject_id=user.id,
        fields=["is_active"],
    )
    return user


def assign_duty(
    session: Session,
    context: AccessContext,
    user_id: int,
    *,
    cell_code: str,
    role: str,
    deputy: bool,
    starts_on: dt.date,
    ends_on: dt.date | None,
) -> Duty:
    """Give the person a duty for a cell picked from the published grid."""
    user = get_user(session, user_id)
    if not cell_code:
        raise InvalidInput(_l("Pick a cell from the tree or the search."), field="cell_code")
    if not user.is_active:
        raise InvalidInput(_l("This account is disabled; enable it first."), field="user_id")
    try:
        people.cell_path(session, cell_code)
    except NotFound:
        raise InvalidInput(_l("Choose a cell of the published grid."), field="cell_code") from None
    actor = session.get(User, context.actor_id) if context.actor_id else None
    duty = grid.assign_duty(
        session,
        actor,
        cell_code=cell_code,
        username=user.username,
        role=role,
        deputy=deputy,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    record(
        session,
        context,
        action="duty_assigned",
        subject_type="user",
        subject_id=user.id,
        detail={
            "duty_id": duty.id,
            "cell_code": duty.cell_code,
            "role": str(duty.role),
            "rank": str(duty.rank),
            "starts_on": duty.starts_on.isoformat(),
            "ends_on": duty.ends_on.isoformat() if duty.ends_on else None,
        },
    )
    return duty


def end_duty(
    session: Session, context: AccessContext, user_id: int, duty_id: int, *, today: dt.date
) -> None:
    """End one of the person's duties now (a duty not yet begun is removed)."""
    user = get_user(session, user_id)
    duty = session.get(Duty, duty_id)
    if duty is None or duty.user_id != user.id:
        raise NotFound(_l("No such duty."), field="duty_id")
    cell = duty.cell_code
    actor = session.get(User, context.actor_id) if context.actor_id else None
    ended = grid.end_duty(session, actor, duty_id, last_day=None, today=today)
    record(
        session,
        context,
        action="duty_ended",
        subject_type="user",
        subject_id=user.id,
        detail={
            "duty_id": duty_id,
            "cell_code": cell,
            "ends_on": ended.ends_on.isoformat() if ended and ended.ends_on else None,
        },
    )


# --- units ---------------------------------------------------------------------------------


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_l("No such unit."), field="unit_id")
    return unit


def handled_items(session: Session, unit_id: int) -> list[CatalogueItem]:
    """The catalogue items that go to this unit by default."""
    return list(
        session.scalars(
            select(CatalogueItem)
            .where(CatalogueItem.default_unit_id == unit_id)
            .order_by(CatalogueItem.code)
        )
    )


def _changes(row: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} of the values that differ (as JSON-friendly values)."""

    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, UnitKind) else value

    return {
        key: [plain(getattr(row, key)), plain(value)]
        for key, value in values.items()
        if getattr(row, key) != value
    }


@dataclass(frozen=True)
class UnitForm:
    name_zh: str
    kind: str
    phone: str | None
    address: str | None
    cell_code: str | None
    is_active: bool
    item_ids: list[str]


def update_unit(session: Session, context: AccessContext, unit_id: int, form: UnitForm) -> Unit:
    """Change a unit's details and which catalogue items it handles (their default unit)."""
    unit = get_unit(session, unit_id)
    name = form.name_zh.strip()
    if not name:
        raise InvalidInput(_l("Enter the unit's name."), field="name_zh")
    if len(name) > 100:
        raise InvalidInput(_l("A name is at most 100 characters."), field="name_zh")
    try:
        kind = UnitKind(form.kind)
    except ValueError:
        raise InvalidInput(_l("Choose a kind from the list."), field="kind") from None
    address = (form.address or "").strip() or None
    if address and len(address) > 200:
        raise InvalidInput(_l("An address is at most 200 characters."), field="address")
    cell = (form.cell_code or "").strip() or None
    if cell:
        try:
            people.cell_path(session, cell)
        except NotFound:
            raise InvalidInput(
                _l("Choose a cell of the published grid."), field="cell_code"
            ) from None
    wanted = _item_ids(session, form.item_ids)
    values = {
        "name_zh": name,
        "kind": kind,
        "phone": _phone(form.phone),
        "address": address,
        "cell_code": cell,
        "is_active": form.is_active,
    }
    changes = _changes(unit, values)
    for key in changes:
        setattr(unit, key, values[key])
    current = {i.id for i in handled_items(session, unit.id)}
    added, removed = sorted(wanted - current), sorted(current - wanted)
    for item_id in added:
        _set_item(session, context, session.get(CatalogueItem, item_id), "default_unit_id", unit.id)
    for item_id in removed:
        _set_item(session, context, session.get(CatalogueItem, item_id), "default_unit_id", None)
    if changes or added or removed:
        detail: dict[str, Any] = {"changes": changes}
        if added or removed:
            codes = dict(session.execute(select(CatalogueItem.id, CatalogueItem.code)).all())
            detail["items_added"] = [codes[i] for i in added]
            detail["items_removed"] = [codes[i] for i in removed]
        record(
            session,
            context,
            action="update",
            subject_type="unit",
            subject_id=unit.id,
            fields=sorted(changes) + (["catalogue_items"] if added or removed else []),
            detail=detail,
        )
    session.flush()
    return unit


def _item_ids(session: Session, raw: list[str]) -> set[int]:
    parsed = {parse_id(v) for v in raw}
    ids = {i for i in parsed if i is not None}
    if len(ids) != len(parsed):  # one could not be read as an id
        raise InvalidInput(_l("Choose catalogue items from the list."), field="items")
    known = set(session.scalars(select(CatalogueItem.id).where(CatalogueItem.id.in_(ids))))
    if ids - known:
        raise InvalidInput(_l("Choose catalogue items from the list."), field="items")
    return ids


def _set_item(
    session: Session, context: AccessContext, item: CatalogueItem | None, key: str, value: Any
) -> None:
    """One field of an item, with its history entry (a unit's page changes default units)."""
    if item is None:
        return
    changes = _changes(item, {key: value})
    if not changes:
        return
    setattr(item, key, value)
    item.version = next_version(session)  # the phones pull the changed item
    record(
        session,
        context,
        action="update",
        subject_type="catalogue_item",
        subject_id=item.id,
        fields=[key],
        detail={"changes": changes},
    )


# --- catalogue -----------------------------------------------------------------------------


def get_item(session: Session, item_id: int) -> CatalogueItem:
    item = session.get(CatalogueItem, item_id)
    if item is None:
        raise NotFound(_l("No such catalogue item."), field="item_id")
    return item


def _hours(raw: str | None, field: str) -> float:
    text = (raw or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(_l("Enter a number of hours."), field=field) from None
    if not math.isfinite(value) or not MIN_HOURS <= value <= MAX_HOURS:
        raise InvalidInput(
            _l("A time limit is between %(lo)s and %(hi)s hours.", lo=MIN_HOURS, hi=int(MAX_HOURS)),
            field=field,
        )
    return round(value, 2)


def update_item(
    session: Session,
    context: AccessContext,
    item_id: int,
    *,
    limits: dict[str, str],
    default_unit_id: str | None,
    is_active: bool,
) -> CatalogueItem:
    """Change an item's time limits (urgent ≤ high ≤ normal), default unit and active flag."""
    item = get_item(session, item_id)
    hours = {key: _hours(limits.get(key), key) for key in LIMIT_FIELDS}
    urgent, high, normal = (hours[k] for k in LIMIT_FIELDS)
    if not urgent <= high <= normal:
        raise InvalidInput(
            _l("Urgent may not take longer than high, nor high longer than normal."),
            field="limit_high_hours" if urgent <= high else "limit_urgent_hours",
        )
    unit = _unit_id(session, default_unit_id)
    if unit is not None and not get_unit(session, unit).is_active:
        raise InvalidInput(_l("This unit is disabled; choose an active one."), field="unit_id")
    values = {**hours, "default_unit_id": unit, "is_active": is_active}
    changes = _changes(item, values)
    if not changes:
        return item
    for key, (_, new) in changes.items():
        setattr(item, key, new)
    item.version = next_version(session)
    record(
        session,
        context,
        action="update",
        subject_type="catalogue_item",
        subject_id=item.id,
        fields=sorted(changes),
        detail={"changes": changes},
    )
    session.flush()
    return item


def history(session: Session, subject_type: str, subject_id: int) -> list[AuditEntry]:
    """The audited changes of one item or unit, newest first."""
    return entries_for(session, subject_type=subject_type, subject_id=subject_id, limit=100)
