"""A street whose every personal field holds a marker string, filed through the real flows.

Each marker is a short unique token (`MKS007Q`: S for sensitive) or, for fields that only
take digits (phones), a unique number; `Seeded.markers` says which field and which class
(server/privacy/classes.py) each one stands for. The flows are the ones the issue found
leaking: a household visit's "转为案件" from the phone (both the app's current wire and the
older one without `visit_id`), residents' online reports with each disclosure, Open311
partners (one withdrawn from public view by the centre), hotline intake, bookings, ratings.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from server.accounts.resets import issue_reset_link
from server.audit.operations import AccessContext
from server.campaigns.models import Campaign, CampaignCell, CampaignTarget
from server.cases.models import Case, Photo, PhotoLink
from server.enums import CaseStatus, Channel, Disclosure
from server.evaluation.operations import issue_rating_link
from server.extensions import db
from server.forms.models import Form, FormAnswer
from server.forms.store import publish as publish_form
from server.forms.store import save_draft as save_form
from server.lifeservices import operations as services
from server.open311.models import Open311Request
from server.open311.operations import create_partner
from server.population.models import Household, Resident
from server.privacy.classes import DataClass
from server.residents.models import PhoneCode
from sync.db import utcnow
from sync.versions import next_version
from tests.server.backoffice_world import IN_G1, IN_G2, World, form_token
from tests.server.conftest import PASSWORD, login
from tests.server.lifeservices_world import meal_point

P, S, C = DataClass.PERSONAL, DataClass.SENSITIVE, DataClass.CONTACT
IN, PUB = DataClass.INTERNAL, DataClass.PUBLIC
_LETTER = {P: "P", S: "S", C: "C", IN: "I", PUB: "O"}
STAMP = re.compile(r'name="form_ts" value="([^"]+)"')


@dataclass
class Seeded:
    #: marker → (class, what field it sits in)
    markers: dict[str, tuple[DataClass, str]] = field(default_factory=dict)
    #: marker → the one path where it may also appear (a reporter's own follow page)
    own: dict[str, str] = field(default_factory=dict)
    #: numbers of cases no public list may name
    private_numbers: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    case_ids: list[uuid.UUID] = field(default_factory=list)
    follow_tokens: list[str] = field(default_factory=list)
    booking_tokens: list[str] = field(default_factory=list)
    rating_codes: list[str] = field(default_factory=list)
    open311_tokens: list[str] = field(default_factory=list)
    reset_tokens: list[str] = field(default_factory=list)
    photo_hashes: list[str] = field(default_factory=list)
    point_codes: list[str] = field(default_factory=list)
    ints: list[int] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    _n: Any = field(default_factory=lambda: itertools.count(1))

    def mark(self, data_class: DataClass, where: str) -> str:
        token = f"MK{_LETTER[data_class]}{next(self._n):03d}Q"
        self.markers[token] = (data_class, where)
        return token

    def phone(self, data_class: DataClass, where: str) -> str:
        token = f"1370{next(self._n):07d}"
        self.markers[token] = (data_class, where)
        return token

    def forbidden(self, readable: frozenset[DataClass]) -> dict[str, tuple[DataClass, str]]:
        return {m: v for m, v in self.markers.items() if v[0] not in readable}


def seed(client: FlaskClient, world: World) -> Seeded:
    """Fill the back-office world (tests/server/backoffice_world.py) with marked records."""
    world.clock.now = utcnow()  # phones' pushes are stamped with the real time
    s = Seeded()
    household, resident = _register(s)
    _phone_visits(s, client, world, household, resident)
    _resident_reports(s, client, world)
    _open311(s, client, world)
    _intake(s, client, world)
    _ratings_and_more(s, world)
    _booking(s, world)
    _campaign(s, client, world, household, resident)
    rows = db.session.execute(select(Case.id, Case.number, Case.disclosure)).all()
    s.case_ids = [r.id for r in rows]
    s.numbers = [r.number for r in rows]
    s.private_numbers = [r.number for r in rows if r.disclosure == Disclosure.PRIVATE]
    return s


def _register(s: Seeded) -> tuple[Household, Resident]:
    version = next_version(db.session)
    room = s.mark(P, "households.room")
    household = Household(
        address=f"新华路329弄5号{room}室",
        road="新华路",
        lane="329",
        building="5",
        room=room,
        cell_code="G1",
        lon=IN_G1[0],
        lat=IN_G1[1],
        notes=s.mark(S, "households.notes"),
        version=version,
    )
    resident = Resident(
        household=household,
        name=s.mark(P, "residents.name"),
        gender="F",
        birth_year=1938,
        phone=s.phone(P, "residents.phone"),
        relation=s.mark(P, "residents.relation"),
        notes=s.mark(S, "residents.notes"),
        version=version,
    )
    left = Resident(  # moved out: kept on the register with why (server/register/)
        household=household,
        name="迁出者",
        gender="M",
        status="moved_out",
        status_reason=s.mark(S, "residents.status_reason"),
        version=version,
    )
    db.session.add_all([household, resident, left])
    db.session.commit()
    s.addresses += [household.address, "新华路329弄5号", room]
    return household, resident


def _campaign(
    s: Seeded, client: FlaskClient, world: World, household: Household, resident: Resident
) -> None:
    """A published campaign on a household and a resident of G1, answered with marked text
    (form answers are sensitive; a target's label holds the door or the person); the same
    form answered on a visit, pushed by the phone."""
    form = Form(code="privacy_walk", title_zh="入户走访")
    db.session.add(form)
    db.session.flush()
    definition = {
        "format": 1,
        "title": {"zh": "入户走访"},
        "questions": [{"name": "note", "type": "text", "label": {"zh": "情况"}}],
    }
    version = save_form(db.session, form, definition)
    publish_form(db.session, version)
    stamp = next_version(db.session)
    campaign = Campaign(
        code="privacy_walk",
        title_zh="入户走访专项",
        form_id=form.id,
        target_kind="resident",
        selection={"cells": ["G1"], "care_tags": [], "list": None},
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2099, 12, 31),
        status="published",
        published_at=utcnow(),
        version=stamp,
    )
    campaign.cells.append(CampaignCell(cell_code="G1"))
    db.session.add(campaign)
    db.session.flush()
    target = CampaignTarget(
        campaign_id=campaign.id,
        kind="resident",
        household_id=household.id,
        resident_id=resident.id,
        road=household.road,
        lane=household.lane,
        building=household.building,
        label=s.mark(P, "campaign_targets.label"),
        cell_code="G1",
        version=stamp,
    )
    db.session.add(target)
    db.session.flush()
    db.session.add(
        FormAnswer(
            id=uuid.uuid4(),
            form_version_id=version.id,
            campaign_id=campaign.id,
            target_id=target.id,
            household_id=household.id,
            resident_id=resident.id,
            cell_code="G1",
            worker_id=world.users["w1"].id,
            values={"note": s.mark(S, "form_answers.values")},
            answered_at=utcnow(),
            version=stamp,
        )
    )
    db.session.commit()
    s.ints += [campaign.id, form.id, version.id]
    # The same form asked on a household visit (a care tag's visit form), as the phone pushes
    # it: the visit and its answer together, the answer naming the resident seen.
    visit_id = str(uuid.uuid4())
    push(
        client,
        "w1",
        [
            {
                "name": "visit.create",
                "args": {
                    "id": visit_id,
                    "household_id": str(household.id),
                    "residents_seen": [str(resident.id)],
                    "situation": s.mark(S, "visits.situation (with a form)"),
                },
            },
            {
                "name": "form.answer",
                "args": {
                    "id": str(uuid.uuid4()),
                    "form_version_id": version.id,
                    "visit_id": visit_id,
                    "household_id": str(household.id),
                    "resident_id": str(resident.id),
                    "values": {"note": s.mark(S, "form_answers.values (visit form)")},
                    "answered_at": utcnow().isoformat(),
                },
            },
        ],
    )


def push(client: FlaskClient, user: str, mutations: list[dict[str, Any]]) -> list[Any]:
    device = str(uuid.uuid4())
    signed_in = client.post(
        "/api/v1/auth/token",
        json={"username": user, "password": PASSWORD, "device_id": device, "device_name": "p"},
    )
    token = signed_in.get_json()["token"]
    now = utcnow().isoformat()
    for seq, m in enumerate(mutations, start=1):
        m.update(seq=seq, op_id=str(uuid.uuid4()), recorded_at_device=now)
    answer = client.post(
        "/api/v1/sync/push",
        json={"device_id": device, "schema_version": 1, "device_now": now, "mutations": mutations},
        headers={"Authorization": f"Bearer {token}"},
    )
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(mutations), results
    return list(results)


def _phone_visits(
    s: Seeded, client: FlaskClient, world: World, household: Household, resident: Resident
) -> None:
    """ "转为案件" as the app sends it now (visit_id) and as older apps did (a patrol report)."""
    where = {"lon": IN_G1[0], "lat": IN_G1[1], "accuracy_m": 8}
    for style in ("visit_id", "older app"):
        visit_id, case_id = str(uuid.uuid4()), str(uuid.uuid4())
        report = {
            "id": case_id,
            "title": f"5-{household.room} 走访发现 {s.mark(S, 'cases.title (visit)')}",
            "description": f"老人腿脚不便 {s.mark(S, 'cases.description (visit)')}",
            "address": household.address,
            "priority": "normal",
            "photos": [],
            **where,
        }
        if style == "visit_id":
            report["visit_id"] = visit_id
        visit = {
            "id": visit_id,
            "household_id": str(household.id),
            "residents_seen": [str(resident.id)],
            "situation": s.mark(S, "visits.situation"),
            "needs": s.mark(S, "visits.needs"),
            "follow_up": s.mark(S, "visits.follow_up"),
            "case_id": case_id,
            **where,
        }
        note = {"id": str(uuid.uuid4()), "case_id": case_id, "text": s.mark(S, "case_events.note")}
        push(
            client,
            "w1",
            [
                {"name": "case.report", "args": report},
                {"name": "visit.create", "args": visit},
                {"name": "case.note", "args": note},
            ],
        )
        # A photo of the visit and of its case (rows, not `photo.attach`: who may link which
        # hash is another test's business).
        sha, version = f"{uuid.uuid4().hex}{uuid.uuid4().hex}", next_version(db.session)
        db.session.add(Photo(sha256=sha, exif={"UserComment": s.mark(P, "photos.exif")}))
        db.session.add_all(
            PhotoLink(photo_sha256=sha, version=version, **{key: uuid.UUID(value)})
            for key, value in (("visit_id", visit_id), ("case_id", case_id))
        )
        s.photo_hashes.append(sha)
        db.session.commit()  # before the next push: SQLite has one writer


def _report_form(client: FlaskClient, world: World, **fields: Any) -> Any:
    stamp = STAMP.search(client.get("/report/").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    world.clock.advance(seconds=30)
    data = {"form_ts": stamp, "client_id": uuid.uuid4().hex, **fields}
    answer = client.post("/report/", data=data, headers={"Accept": "application/json"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _resident_reports(s: Seeded, client: FlaskClient, world: World) -> None:
    """Listed (the default), public, and private ("about my home") online reports."""
    text_class = {"listed": IN, "public": PUB, "private": S}
    place_class = {"listed": IN, "public": IN, "private": P}
    for disclosure in ("listed", "public", "private"):
        told = s.mark(text_class[disclosure], f"cases.description (online, {disclosure})")
        in_text = s.phone(C, f"a phone number inside a {disclosure} description")
        place = s.mark(place_class[disclosure], f"cases.address (online, {disclosure})")
        item = "" if disclosure == "private" else str(world.items["A01-01"].id)
        body = _report_form(
            client,
            world,
            description=f"{told} 请打电话 {in_text}",
            address=f"新华路329弄7号{place}室",
            lon=str(IN_G2[0]),
            lat=str(IN_G2[1]),
            catalogue_item_id=item,
            disclosure=disclosure,
            name=s.mark(C, f"cases.caller_name (online, {disclosure})"),
            phone=s.phone(C, f"cases.caller_phone (online, {disclosure})"),
        )
        token = body["follow_url"].rsplit("/", 1)[1]
        s.follow_tokens.append(token)
        for mine in (told, place):
            s.own[mine] = f"/report/f/{token}"


def _open311(s: Seeded, client: FlaskClient, world: World) -> None:
    """A partner's public request, and one the centre then withdraws from public view."""
    world.items["A05-01"].questions = [
        {"code": "more", "datatype": "text", "required": False, "description_zh": "补充"}
    ]
    _, key = create_partner(db.session, "12345 platform", at=world.clock.now)
    db.session.commit()
    numbers = []
    for withdrawn in (False, True):
        told = s.mark(
            S if withdrawn else PUB, f"cases.description (Open311, withdrawn={withdrawn})"
        )
        media = s.mark(S if withdrawn else PUB, "open311_requests.media_url")
        answer = client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": key,
                "service_code": "A05-01",
                "lat": IN_G1[1],
                "long": IN_G1[0],
                "description": f"{told} 联系 {s.phone(C, 'a phone inside an Open311 text')}",
                "first_name": s.mark(C, "cases.caller_name (Open311)"),
                "last_name": s.mark(C, "cases.caller_name (Open311, last)"),
                "phone": s.phone(C, "cases.caller_phone (Open311)"),
                "account_id": s.mark(C, "open311_requests.account_id"),
                "device_id": s.mark(C, "open311_requests.device_id"),
                "media_url": f"https://example.org/{media}.jpg",
                # Answers join the description: public with it, private with it.
                "attribute[more]": s.mark(S if withdrawn else PUB, "open311_requests.attributes"),
            },
        )
        assert answer.status_code == 201, answer.get_json()
        numbers.append(answer.get_json()[0]["service_request_id"])
    s.open311_tokens += list(db.session.scalars(select(Open311Request.token)))
    login(client, "d1")
    withdrawn_case = db.session.scalar(select(Case).where(Case.number == numbers[1]))
    answer = client.post(
        f"/cases/{withdrawn_case.id}/disclosure",
        data={"disclosure": "private", "csrf_token": form_token(client, "/cases/")},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": form_token(client, "/cases/")})


def _intake(s: Seeded, client: FlaskClient, world: World) -> None:
    """Hotline calls taken by the centre: one listed, one marked private at intake."""
    login(client, "d1")
    for disclosure, cls, place in (("", IN, IN), ("private", S, P)):
        answer = client.post(
            "/cases/new",
            data={
                "csrf_token": form_token(client, "/cases/new"),
                "channel": Channel.HOTLINE.value,
                "disclosure": disclosure,
                "title": s.mark(cls, f"cases.title (hotline {disclosure or 'default'})"),
                "description": s.mark(cls, f"cases.description (hotline {disclosure})"),
                "address": f"番禺路100号{s.mark(place, f'cases.address (hotline {disclosure})')}",
                "lon": str(IN_G2[0]),
                "lat": str(IN_G2[1]),
                "caller_name": s.mark(C, "cases.caller_name (hotline)"),
                "caller_phone": s.phone(C, "cases.caller_phone (hotline)"),
                "channel_ref": s.mark(IN, "cases.channel_ref"),
            },
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": form_token(client, "/cases/")})


def _ratings_and_more(s: Seeded, world: World) -> None:
    """Closed cases with rating links (one used, with a comment); a reset link; a code."""
    from server.cases.workflow import Actor
    from server.evaluation.operations import rate_with_code

    at, valid = world.clock.now, dt.timedelta(days=14)
    closing = list(db.session.scalars(select(Case).order_by(Case.number)))[::2]
    for case in closing:  # every other case: the rest stays open for the map's cards
        case.status, case.closed_at = CaseStatus.CLOSED, at
    db.session.flush()
    for case in closing:
        s.rating_codes.append(
            issue_rating_link(db.session, case, Actor.resident(), at=at, valid=valid)
        )
    used = s.rating_codes.pop()
    rate_with_code(db.session, used, score=2, comment=s.mark(P, "case_ratings.comment"), at=at)
    s.reset_tokens.append(
        issue_reset_link(
            db.session,
            world.users["w2"],
            at=at,
            lifetime=dt.timedelta(hours=24),
            channel="admin",
            context=AccessContext(None),
        )
    )
    db.session.add(
        PhoneCode(
            phone=s.phone(C, "phone_codes.phone"),
            code_sha256="0" * 64,
            created_at=at,
            expires_at=at + dt.timedelta(minutes=10),
        )
    )
    db.session.commit()


def _booking(s: Seeded, world: World) -> None:
    """A booking (name and phone are contacts) that was used and reviewed; the clock moves."""
    at = world.clock.now
    point = meal_point(at + dt.timedelta(hours=1))
    slot = point.slots[0]
    db.session.add(point)
    db.session.flush()
    booking, token = services.book(
        db.session,
        slot.id,
        name=s.mark(C, "bookings.name"),
        phone=s.phone(C, "bookings.phone"),
        at=at,
    )
    services.decide(db.session, booking, world.users["d1"], "confirmed", at=at)
    world.clock.advance(days=2)
    review = services.review(
        db.session,
        booking,
        score=4,
        comment=s.mark(PUB, "service_reviews.comment"),
        at=world.clock.now,
    )
    db.session.flush()
    services.reply(db.session, review.id, world.users["d1"], "谢谢", at=world.clock.now)
    db.session.commit()
    s.booking_tokens.append(token)
    s.point_codes.append(point.code)
    s.ints += [booking.id, review.id, slot.id]
