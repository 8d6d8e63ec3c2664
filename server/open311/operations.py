"""Open311 verbs: issue and revoke partner keys, check a key, file a request as a case."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.operations import AccessContext
from server.cases import lookups
from server.cases.models import Case
from server.cases.operations import Intake, create_case
from server.catalogue.models import CatalogueItem
from server.enums import Channel
from server.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from server.open311.inputs import NewRequest, check_answers
from server.open311.models import ApiPartner, Open311Request

KEY_PREFIX = "w311_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_partner(session: Session, name: str, *, at: dt.datetime) -> tuple[ApiPartner, str]:
    """A new partner system and its key; the key is returned once and never stored."""
    name = name.strip()
    if not 2 <= len(name) <= 100:
        raise InvalidInput(_l("A partner name is 2 to 100 characters."), field="name")
    if session.scalar(select(ApiPartner.id).where(ApiPartner.name == name)) is not None:
        raise Conflict(_l("A partner of this name exists."), field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    partner = ApiPartner(name=name, key_sha256=_digest(key), key_prefix=key[:12], created_at=at)
    session.add(partner)
    return partner, key


def revoke_partner(session: Session, name: str, *, at: dt.datetime) -> ApiPartner:
    partner = session.scalar(select(ApiPartner).where(ApiPartner.name == name.strip()))
    if partner is None:
        raise NotFound(_l("No such partner."), field="name")
    partner.revoked_at = partner.revoked_at or at
    return partner


def authenticate(session: Session, api_key: str, *, at: dt.datetime) -> ApiPartner:
    """The live partner holding `api_key`; PermissionDenied for missing, unknown or revoked."""
    partner = (
        session.scalar(select(ApiPartner).where(ApiPartner.key_sha256 == _digest(api_key)))
        if api_key
        else None
    )
    if partner is None or partner.revoked_at is not None:
        raise PermissionDenied(_l("A valid api_key is required."), field="api_key")
    partner.last_used_at = at
    return partner


def active_item(session: Session, code: str) -> CatalogueItem:
    item = session.scalar(
        select(CatalogueItem).where(CatalogueItem.code == code, CatalogueItem.is_active.is_(True))
    )
    if item is None:
        raise NotFound(_l("No such service_code."), field="service_code")
    return item


def _answer_lines(item: CatalogueItem, answers: dict[str, object]) -> str:
    """The answers as lines staff can read on the case ("楼号、楼层或具体位置: 3号楼")."""
    lines = []
    for question in item.questions:
        if question["code"] in answers:
            value = answers[question["code"]]
            names = {v["key"]: v.get("name_zh", v["key"]) for v in question.get("values", [])}
            shown = (
                "、".join(names.get(v, v) for v in value)
                if isinstance(value, list)
                else names.get(str(value), str(value))
            )
            lines.append(f"{question.get('description_zh', question['code'])}:{shown}")
    return "\n".join(lines)


def submit_request(
    session: Session,
    partner: ApiPartner,
    new: NewRequest,
    *,
    at: dt.datetime,
    context: AccessContext,
    prefix: str,
    district_bbox: Sequence[float],
) -> tuple[Case, Open311Request]:
    """File a partner's request through the one intake: located, assigned, dispatchable.

    An `address_string` is matched against the known buildings; with no match the case is
    filed unlocated (the centre places it, as for a phoned-in matter).
    """
    item = active_item(session, new.service_code)
    answers = check_answers(list(item.questions), new.answers)
    lon, lat = new.lon, new.lat
    if lon is not None and lat is not None:
        min_lon, min_lat, max_lon, max_lat = district_bbox
        if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
            raise InvalidInput(_l("This point is outside the area we serve."), field="lat")
    elif new.address_string:
        found = lookups.places(session, new.address_string, limit=1)
        if found:
            lon, lat = found[0]["lon"], found[0]["lat"]
    description = "\n\n".join(p for p in (new.description, _answer_lines(item, answers)) if p)
    case = create_case(
        session,
        None,
        Intake(
            channel=Channel.OPEN311,
            description=description or item.name_zh,
            catalogue_item_id=item.id,
            address=new.address_string,
            lon=lon,
            lat=lat,
            caller_name=new.caller_name or None,
            caller_phone=new.caller_phone or None,
            channel_ref=partner.name[:64],
        ),
        at=at,
        context=context,
        prefix=prefix,
    )
    submission = Open311Request(
        case_id=case.id,
        partner_id=partner.id,
        token=secrets.token_hex(16),
        attributes=answers,
        media_url=new.media_url or None,
        account_id=new.account_id or None,
        device_id=new.device_id or None,
        created_at=at,
    )
    session.add(submission)
    return case, submission
