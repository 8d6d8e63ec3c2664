"""Life-service verbs: book a slot (capacity-safe), confirm or cancel, review, reply."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.enums import Role
from server.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from server.lifeservices import hours
from server.lifeservices.models import Booking, ServiceReview, ServiceSlot
from server.residents.operations import clean_phone
from server.timezones import SHANGHAI

STAFF = frozenset({Role.DISPATCHER, Role.ADMIN})


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def book(
    session: Session,
    slot_id: int,
    *,
    name: str,
    phone: str,
    at: dt.datetime,
    zone: ZoneInfo = SHANGHAI,
) -> tuple[Booking, str]:
    """Take one place in a slot; returns the booking and its private link's token.

    One conditional UPDATE claims the place, so parallel bookings never exceed capacity
    (tests/server/test_lifeservices_concurrency.py runs them against PostgreSQL).
    """
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise InvalidInput(_l("Give your name."), field="name")
    phone = clean_phone(phone)
    slot = session.get(ServiceSlot, slot_id)
    if slot is None or not slot.point.is_active:
        raise NotFound(_l("No such time slot."), field="slot_id")
    if slot.starts_at <= at:
        raise InvalidInput(_l("This time slot has passed."), field="slot_id")
    opening = hours.parse(slot.point.hours)
    if opening is not None and not opening.open_on(slot.starts_at.astimezone(zone)):
        raise InvalidInput(_l("The point is closed on that day."), field="slot_id")
    claimed = session.execute(
        update(ServiceSlot)
        .where(ServiceSlot.id == slot_id, ServiceSlot.booked < ServiceSlot.capacity)
        .values(booked=ServiceSlot.booked + 1)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_l("This time slot is full."), code="slot_full", field="slot_id")
    token = secrets.token_urlsafe(24)
    booking = Booking(
        slot_id=slot_id, token_sha256=_sha(token), name=name, phone=phone, created_at=at
    )
    session.add(booking)
    return booking, token


def booking_for_token(session: Session, token: str) -> Booking:
    from sqlalchemy import select

    booking = session.scalar(select(Booking).where(Booking.token_sha256 == _sha(token)))
    if booking is None:
        raise NotFound(_l("This link is not valid."), field="token")
    return booking


def decide(
    session: Session, booking: Booking, user: User, status: str, *, at: dt.datetime
) -> Booking:
    """Staff confirm or cancel a booking; cancelling gives the place back."""
    if user.role not in STAFF:
        raise PermissionDenied(_l("Your role may not take this step."))
    if status not in ("confirmed", "cancelled") or booking.status == "cancelled":
        raise Conflict(_l("This booking cannot be changed any more."), field="status")
    if status == "cancelled":
        session.execute(
            update(ServiceSlot)
            .where(ServiceSlot.id == booking.slot_id, ServiceSlot.booked > 0)
            .values(booked=ServiceSlot.booked - 1)
        )
    booking.status, booking.decided_by_id, booking.decided_at = status, user.id, at
    return booking


def review(
    session: Session, booking: Booking, *, score: int, comment: str, at: dt.datetime
) -> ServiceReview:
    """The resident rates a used service once: a confirmed booking whose slot has ended."""
    if booking.status != "confirmed" or booking.slot.ends_at > at:
        raise InvalidInput(
            _l("You can review a service after your confirmed visit."), field="score"
        )
    if not 1 <= score <= 5:
        raise InvalidInput(_l("A rating is 1 to 5."), field="score")
    if len(comment) > 1000:
        raise InvalidInput(_l("This text is too long."), field="comment")
    from sqlalchemy import select

    if session.scalar(select(ServiceReview.id).where(ServiceReview.booking_id == booking.id)):
        raise Conflict(_l("You have reviewed this visit already."), code="already_reviewed")
    row = ServiceReview(
        booking_id=booking.id,
        point_id=booking.slot.point_id,
        score=score,
        comment=comment.strip(),
        created_at=at,
    )
    session.add(row)
    return row


def reply(
    session: Session, review_id: int, user: User, text: str, *, at: dt.datetime
) -> ServiceReview:
    if user.role not in STAFF:
        raise PermissionDenied(_l("Your role may not take this step."))
    row = session.get(ServiceReview, review_id)
    if row is None:
        raise NotFound(_l("No such review."))
    text = text.strip()
    if not 1 <= len(text) <= 1000:
        raise InvalidInput(_l("Write a reply of up to 1000 characters."), field="reply")
    row.reply, row.reply_by_id, row.reply_at = text, user.id, at
    return row
