"""Access to a photo comes from authorization, never from knowing its hash (issue 12 §1).

The attacks are played as they were found: a worker who knows another cell's photo hash
(pulls list them) creates a tus upload naming it and sends no bytes, or pushes a
`case.report` / `photo.attach` naming it. The legitimate paths stay open: a report pushed
before its bytes (the app's order), another phone of the same person, two people holding
the same bytes, the office sharing a photo, a worker whose case went to someone else.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from server.cases import queries
from server.cases.models import PhotoLink
from server.enums import PhotoProof
from server.extensions import db
from server.photos.models import Upload, UploadStatus
from tests.server import photo_samples as samples
from tests.server.test_uploads_api import create
from tests.sync.conftest import INSIDE_G1, INSIDE_G2, Phone, make_case, office_assign, visit_args
from tests.sync.test_photo_arrival import send


def reads(phone: Phone, sha: str) -> tuple[int, int]:
    """The statuses of the photo and of its thumbnail for this phone's user."""
    found = []
    for suffix in ("", "/thumb"):
        with phone.client.get(f"/api/v1/photos/{sha}{suffix}", headers=phone.headers) as answer:
            found.append(answer.status_code)
    return found[0], found[1]


def report(phone: Phone, photos: list[str], where: tuple[float, float] = INSIDE_G1) -> str:
    case_id = str(uuid.uuid4())
    phone.add(
        "case.report",
        {
            "id": case_id,
            "description": "井盖缺失",
            "lon": where[0],
            "lat": where[1],
            "photos": photos,
        },
    )
    result = phone.push()["results"][-1]
    assert result["status"] == "applied", result
    return case_id


def links_of(sha: str) -> list[PhotoLink]:
    db.session.expire_all()
    return list(db.session.scalars(select(PhotoLink).where(PhotoLink.photo_sha256 == sha)))


@pytest.fixture
def g1_photo(phone: Any) -> tuple[bytes, str, str]:
    """A photo of a G1 case, reported and sent by `wa` the way the app does it."""
    wa = phone("wa")
    data = samples.jpeg(seed=41)
    sha = samples.sha256_hex(data)
    case_id = report(wa, [sha])
    send(wa, data)
    assert reads(wa, sha) == (200, 200)
    return data, sha, case_id


def _name_by_hash(wb: Phone, world: Any, how: str, sha: str) -> str:
    """Push a mutation that names `sha` as `how`; return the case or visit it went to."""
    if how == "case.report":
        return report(wb, [sha], where=INSIDE_G2)
    if how == "photo.attach to a case":
        case_id = str(make_case(db.session, world, cell="G2", assignee="wb"))
        wb.add("photo.attach", {"sha256": sha, "case_id": case_id, "purpose": "report"})
    else:
        visit = visit_args(world.households["G2"][0])
        wb.add("visit.create", visit)
        wb.add("photo.attach", {"sha256": sha, "visit_id": visit["id"]})
        case_id = visit["id"]
    result = wb.push()["results"][-1]
    assert result["status"] == "applied", result
    assert result["result"]["photo_status"] == "missing"  # for wb the bytes are still due
    return case_id


@pytest.mark.parametrize(
    "how", ["case.report", "photo.attach to a case", "photo.attach to a visit"]
)
def test_a_push_naming_another_cells_photo_by_its_hash_grants_no_access(
    phone: Any, world: Any, g1_photo: tuple[bytes, str, str], how: str
) -> None:
    _, sha, _ = g1_photo
    wb = phone("wb")  # grid worker of G2
    assert reads(wb, sha) == (404, 404)
    target = _name_by_hash(wb, world, how, sha)
    assert reads(wb, sha) == (404, 404)
    assert wb.pull()[-1]["missing_photos"] == [sha]  # the app is asked for its own bytes
    pending = [link for link in links_of(sha) if link.added_by_id == world.users["wb"].id]
    assert [link.proof for link in pending] == [None]
    if how != "photo.attach to a visit":  # the office does not see it on wb's case either
        assert queries.photos_of(db.session, [uuid.UUID(target)]) == []


def test_a_tus_creation_without_bytes_and_a_report_together_grant_no_access(
    phone: Any, world: Any, g1_photo: tuple[bytes, str, str]
) -> None:
    data, sha, _ = g1_photo
    wb = phone("wb")
    created = create(wb.client, wb.token, data)  # names the hash, then sends nothing
    assert created.status_code == 201 and created.headers["Upload-Offset"] == "0"
    report(wb, [sha], where=INSIDE_G2)
    assert reads(wb, sha) == (404, 404)
    db.session.expire_all()
    mine = db.session.scalars(select(Upload).where(Upload.user_id == world.users["wb"].id))
    assert [(u.status, u.deduplicated) for u in mine] == [(UploadStatus.OPEN, False)]


def test_a_pending_link_grants_nothing_to_whoever_is_assigned_the_case(
    phone: Any, world: Any, g1_photo: tuple[bytes, str, str]
) -> None:
    _, sha, _ = g1_photo
    case_id = report(phone("wb"), [sha], where=INSIDE_G2)
    office_assign(db.session, world, uuid.UUID(case_id), "wc")
    assert reads(phone("wc"), sha) == (404, 404)


def test_the_attacker_who_then_sends_the_real_bytes_has_proved_they_hold_the_photo(
    phone: Any, world: Any, g1_photo: tuple[bytes, str, str]
) -> None:
    """Possession is the rule: whoever sends bytes with this hash has the photo anyway."""
    data, sha, _ = g1_photo
    wb = phone("wb")
    report(wb, [sha], where=INSIDE_G2)
    send(wb, data)
    assert reads(wb, sha) == (200, 200)
    assert wb.pull()[-1]["missing_photos"] == []


def test_a_report_pushed_before_its_bytes_is_readable_once_they_arrive(
    phone: Any, world: Any
) -> None:
    """The app's own order (push, then upload): the offline report never fails."""
    wa, office = phone("wa"), phone("office")
    data = samples.jpeg(seed=42)
    sha = samples.sha256_hex(data)
    case_id = report(wa, [sha])
    assert wa.pull()[-1]["missing_photos"] == [sha]
    assert reads(wa, sha) == (404, 404)  # no bytes yet
    send(wa, data)
    assert wa.pull()[-1]["missing_photos"] == []
    assert reads(wa, sha) == (200, 200) and reads(office, sha) == (200, 200)
    assignee = next(name for name, user in world.users.items() if user.id == _assignee_id(case_id))
    assert reads(phone(assignee), sha) == (200, 200)
    assert [link.proof for link in links_of(sha)] == [PhotoProof.UPLOAD]
    assert [p.photo_sha256 for p in queries.photos_of(db.session, [uuid.UUID(case_id)])] == [sha]


def _assignee_id(case_id: str) -> int:
    from server.cases.models import Case

    db.session.expire_all()
    case = db.session.get(Case, uuid.UUID(case_id))
    assert case is not None and case.assignee_id is not None
    return case.assignee_id


@pytest.mark.parametrize("bytes_first", [True, False])
def test_a_photo_sent_from_one_phone_links_from_the_same_persons_other_phone(
    phone: Any, world: Any, bytes_first: bool
) -> None:
    first, second = phone("wa"), phone("wa")
    data = samples.jpeg(seed=43)
    sha = samples.sha256_hex(data)
    if bytes_first:
        send(first, data)
    visit = visit_args(world.households["G1"][0])
    second.add("visit.create", visit)
    second.add("photo.attach", {"sha256": sha, "visit_id": visit["id"]})
    status = second.push()["results"][-1]["result"]["photo_status"]
    assert status == ("available" if bytes_first else "missing")
    if not bytes_first:
        assert second.pull()[-1]["missing_photos"] == [sha]
        send(first, data)  # the other phone still holds the bytes
    assert second.pull()[-1]["missing_photos"] == []
    assert reads(second, sha) == (200, 200)
    assert [link.proof for link in links_of(sha)] == [PhotoProof.UPLOAD]


def test_the_office_may_share_a_photo_and_the_assignee_then_reads_it(
    phone: Any, world: Any, g1_photo: tuple[bytes, str, str]
) -> None:
    _, sha, _ = g1_photo
    case_id = str(make_case(db.session, world, cell="G2", assignee="wb"))
    office = phone("office")
    office.add("photo.attach", {"sha256": sha, "case_id": case_id, "purpose": "check"})
    assert office.push()["results"][-1]["result"]["photo_status"] == "available"
    assert reads(phone("wb"), sha) == (200, 200)


def test_a_worker_whose_case_went_to_someone_else_keeps_only_their_own_photos(
    phone: Any, world: Any, g1_photo: tuple[bytes, str, str]
) -> None:
    """Reading through a case lasts as long as the case is theirs; their own bytes stay."""
    _, sha, case_id = g1_photo
    office_assign(db.session, world, uuid.UUID(case_id), "wc")
    wc = phone("wc")
    assert reads(wc, sha) == (200, 200)
    own = samples.jpeg(seed=44)
    own_sha = samples.sha256_hex(own)
    visit = visit_args(world.households["G1"][0])
    wc.add("visit.create", visit)  # wc files the reporter's photo with a visit, and one of theirs
    wc.add("photo.attach", {"sha256": sha, "visit_id": visit["id"]})
    wc.add("photo.attach", {"sha256": own_sha, "visit_id": visit["id"]})
    results = wc.push()["results"]
    assert results[1]["result"]["photo_status"] == "available"  # they could read it: counts
    send(wc, own)
    office_assign(db.session, world, uuid.UUID(case_id), "wb")
    assert reads(wc, sha) == (404, 404)  # the link they made does not keep it for them
    assert reads(wc, own_sha) == (200, 200)
    assert reads(phone("wb"), sha) == (200, 200)
    assert wc.pull()[-1]["missing_photos"] == []


def test_a_link_that_missed_its_proof_in_a_race_is_proven_by_the_apps_next_upload(
    phone: Any, world: Any
) -> None:
    """A link pushed while its bytes were finishing may miss the update that proves it: the
    pull lists it as missing, the app sends it again, and that creation proves it."""
    wa = phone("wa")
    data = samples.jpeg(seed=45)
    sha = samples.sha256_hex(data)
    send(wa, data)
    visit = visit_args(world.households["G1"][0])
    wa.add("visit.create", visit)
    wa.add("photo.attach", {"sha256": sha, "visit_id": visit["id"]})
    wa.push()
    (link,) = links_of(sha)
    link.proof = None  # as if the push's check ran before the upload committed
    db.session.commit()
    assert wa.pull()[-1]["missing_photos"] == [sha]
    again = create(wa.client, wa.token, data)
    assert again.headers["Upload-Offset"] == str(len(data))  # wa may read it: no bytes needed
    assert wa.pull()[-1]["missing_photos"] == []
    assert [link.proof for link in links_of(sha)] == [PhotoProof.UPLOAD]
