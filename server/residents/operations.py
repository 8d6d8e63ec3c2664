"""Residents' verbs: file a report (the one intake), check a phone, follow and rate a case."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.operations import AccessContext
from server.cases.models import Case, CaseEvent
from server.cases.operations import Intake, create_case
from server.cases.workflow import Actor
from server.catalogue.models import CatalogueItem
from server.enums import CaseStatus, Channel, Disclosure
from server.evaluation.operations import issue_rating_link
from server.exceptions import InvalidInput, NotFound
from server.privacy import Audience, render_case
from server.residents.models import PhoneCode, ResidentReport
from server.residents.sms import SmsSender

PHONE = re.compile(r"^\+?[0-9]{7,15}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
MAX_DESCRIPTION = 2000
CODE_VALID = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5

#: Timeline events a resident sees, by kind: what happened, never who did it.
PUBLIC_KINDS = (
    "reported",
    "open",
    "cancel",
    "dispatch",
    "start",
    "feedback",
    "close",
    "rework",
    "evaluate",
)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def follow_token(secret: str, client_id: str) -> str:
    """The private follow link's token: derived from the page's submission id and our secret,
    so a resend of the same submission (its answer was lost) gets the same link back."""
    mac = hmac.new(secret.encode(), f"follow:{client_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")


def clean_phone(phone: str) -> str:
    phone = phone.replace(" ", "").replace("-", "")
    if not PHONE.match(phone):
        raise InvalidInput(_l("Not a phone number."), field="phone")
    return phone


@dataclass(frozen=True)
class ResidentIntake:
    client_id: str
    description: str
    phone: str
    catalogue_item_id: int | None = None
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    name: str = ""
    phone_code: str = ""
    #: The resident's choice of who may see it (the form's "who may see this report?").
    disclosure: Disclosure = Disclosure.LISTED


def send_phone_code(session: Session, phone: str, sender: SmsSender, *, at: dt.datetime) -> None:
    """Text a six-digit code to `phone` (the caller limits how often)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        PhoneCode(phone=phone, code_sha256=_sha(code), created_at=at, expires_at=at + CODE_VALID)
    )
    sender.send(phone, f"【新华路街道】您的验证码是 {code},10 分钟内有效。")


def _verify(session: Session, phone: str, code: str, *, at: dt.datetime) -> bool:
    row = session.scalar(
        select(PhoneCode)
        .where(PhoneCode.phone == phone, PhoneCode.used_at.is_(None), PhoneCode.expires_at > at)
        .order_by(PhoneCode.id.desc())
    )
    if row is None or row.attempts >= CODE_ATTEMPTS:
        return False
    row.attempts += 1
    if not hmac.compare_digest(row.code_sha256, _sha(code.strip())):
        return False
    row.used_at = at
    return True


def submit_report(
    session: Session,
    intake: ResidentIntake,
    *,
    at: dt.datetime,
    context: AccessContext,
    prefix: str,
    secret: str,
    photos: Sequence[str] = (),
    sms_configured: bool,
    district_bbox: Sequence[float],
) -> tuple[Case, str, bool]:
    """File a resident's report through the one intake; returns (case, follow token, new).

    A resend of an already filed submission (same `client_id`) returns the same case and link
    and files nothing. With an SMS channel configured the phone must carry a valid code;
    without one it is stored and shown to staff as unverified.
    """
    if not CLIENT_ID.match(intake.client_id):
        raise InvalidInput(_l("The form is incomplete; reload the page."), field="client_id")
    token = follow_token(secret, intake.client_id)
    existing = session.scalar(
        select(ResidentReport).where(ResidentReport.client_id == intake.client_id)
    )
    if existing is not None:
        case = session.get(Case, existing.case_id)
        assert case is not None
        return case, token, False
    description = intake.description.strip()
    if not description:
        raise InvalidInput(_l("Describe the matter."), field="description")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(_l("This text is too long."), field="description")
    phone = clean_phone(intake.phone)
    verified = False
    if sms_configured:
        if not _verify(session, phone, intake.phone_code, at=at):
            raise InvalidInput(_l("The code is wrong or has expired."), field="phone_code")
        verified = True
    if (
        intake.catalogue_item_id is not None
        and session.get(CatalogueItem, intake.catalogue_item_id) is None
    ):
        raise NotFound(_l("No such catalogue item."), field="catalogue_item_id")
    if intake.lon is not None and intake.lat is not None:
        min_lon, min_lat, max_lon, max_lat = district_bbox
        if not (min_lon <= intake.lon <= max_lon and min_lat <= intake.lat <= max_lat):
            raise InvalidInput(_l("This point is outside the area we serve."), field="lat")
    case = create_case(
        session,
        None,
        Intake(
            channel=Channel.ONLINE,
            description=description,
            catalogue_item_id=intake.catalogue_item_id,
            address=intake.address.strip()[:200],
            lon=intake.lon,
            lat=intake.lat,
            caller_name=intake.name.strip()[:60] or None,
            caller_phone=phone,
            disclosure=intake.disclosure,
        ),
        at=at,
        context=context,
        prefix=prefix,
        photos=photos,
    )
    session.add(
        ResidentReport(
            case_id=case.id,
            follow_sha256=_sha(token),
            client_id=intake.client_id,
            phone_verified=verified,
            created_at=at,
        )
    )
    return case, token, True


def report_for_token(session: Session, token: str) -> tuple[Case, ResidentReport]:
    report = session.scalar(
        select(ResidentReport).where(ResidentReport.follow_sha256 == _sha(token))
    )
    case = session.get(Case, report.case_id) if report else None
    if report is None or case is None:
        raise NotFound(_l("This link is not valid."), field="token")
    return case, report


def parse_disclosure(value: str | None) -> Disclosure:
    """The form's choice; nothing chosen is `listed` (kind, state, rough place)."""
    try:
        return Disclosure(value or Disclosure.LISTED)
    except ValueError:
        raise InvalidInput(_l("Choose who may see the report."), field="disclosure") from None


def follow_view(session: Session, case: Case, locale: str) -> dict[str, Any]:
    """The case as the holder of its follow link reads it: its public side, and the words
    and place they gave (the `reported` event's note: later edits by staff are not theirs)."""
    told = session.scalar(
        select(CaseEvent.note)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "reported")
        .order_by(CaseEvent.seq)
        .limit(1)
    )
    return render_case(
        case, Audience.REPORTER, own=True, extra={"reported_text": told or ""}, locale=locale
    )


def public_timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    """The case's steps as the resident sees them: kind, status, time. No people, no notes
    from staff (they may name residents); the resident's own description is shown apart."""
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    )
    return [
        {"kind": e.kind, "to_status": e.to_status, "at": e.at}
        for e in events
        if e.kind in PUBLIC_KINDS
    ]


def rating_code(session: Session, case: Case, *, at: dt.datetime, valid: dt.timedelta) -> str:
    """A one-time code for the existing rating page (/rate/<code>), so the rating counts."""
    if case.status != CaseStatus.CLOSED:
        raise InvalidInput(_l("The case can be rated once it is closed."), field="status")
    return issue_rating_link(session, case, Actor.resident(), at=at, valid=valid)


def phone_verified(session: Session, case_id: object) -> bool | None:
    """For staff pages: True/False for an online report's phone, None for other cases."""
    return session.scalar(
        select(ResidentReport.phone_verified).where(ResidentReport.case_id == case_id)
    )
