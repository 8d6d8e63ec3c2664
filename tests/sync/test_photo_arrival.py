"""`missing_photos` in a pull is exact, with the bytes coming through the real tus endpoint.

A photo turning available bumps no version: the list is read afresh from the pull's snapshot
on every page, so an incremental pull (cursor unchanged) already drops the hash.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.cases.models import Photo, PhotoLink
from server.enums import PhotoStatus
from server.extensions import db
from tests.server import photo_samples as samples
from tests.server.test_uploads_api import create, patch, sha1_header
from tests.sync.conftest import INSIDE_G1, Phone, visit_args


def send(phone: Phone, data: bytes, *, upto: int | None = None, location: str | None = None) -> str:
    """Upload `data` (or its first `upto` bytes) with tus as this phone; return the location."""
    if location is None:
        created = create(phone.client, phone.token, data)
        assert created.status_code == 201, created.get_json()
        location = created.headers["Location"]
    head = phone.client.head(location, headers={"Tus-Resumable": "1.0.0", **phone.headers})
    offset = int(head.headers["Upload-Offset"])
    end = len(data) if upto is None else upto
    for start in range(offset, end, 40_000):
        part = data[start : min(start + 40_000, end)]
        response = patch(
            phone.client,
            phone.token,
            location,
            start,
            part,
            **{"Upload-Checksum": sha1_header(part)},
        )
        assert response.status_code == 204, response.get_json()
    return location


def test_missing_photos_drops_each_hash_as_soon_as_its_bytes_arrive(phone, world):
    a = phone("wa")
    first, second = samples.jpeg(seed=1), samples.jpeg(seed=2)
    sha1, sha2 = samples.sha256_hex(first), samples.sha256_hex(second)
    case_id = str(uuid.uuid4())
    lon, lat = INSIDE_G1
    a.add(
        "case.report",
        {"id": case_id, "description": "井盖缺失", "lon": lon, "lat": lat, "photos": [sha1, sha2]},
    )
    a.push()
    assert a.pull()[-1]["missing_photos"] == sorted([sha1, sha2])
    version = a.pull()[-1]["server_version"]

    send(a, first)
    body = a.pull()[-1]  # incremental: the cursor is not reset
    assert body["missing_photos"] == [sha2]
    assert body["changes"] == [] and body["server_version"] == version  # no clock bump needed

    location = send(a, second, upto=len(second) // 2)  # cut half-way: still missing
    assert a.pull()[-1]["missing_photos"] == [sha2]
    send(a, second, location=location)
    assert a.pull()[-1]["missing_photos"] == []
    assert set(a.table("cases")[case_id]["photos"]) == {sha1, sha2}
    db.session.expire_all()
    assert {p.status for p in db.session.scalars(select(Photo))} == {PhotoStatus.AVAILABLE}


def test_an_attach_before_the_bytes_and_the_bytes_later_converge(phone, world):
    a, c = phone("wa"), phone("wc")
    data = samples.jpeg(seed=3)
    sha = samples.sha256_hex(data)
    visit = visit_args(world.households["G1"][0])
    sent = [
        a.add("visit.create", visit),
        a.add("photo.attach", {"sha256": sha, "visit_id": visit["id"]}),
    ]
    assert a.push()["results"][1]["result"]["photo_status"] == "missing"
    assert a.pull()[-1]["missing_photos"] == [sha]
    assert c.pull()[-1]["missing_photos"] == []  # only the device that attached it is asked

    send(a, data)
    assert a.pull()[-1]["missing_photos"] == []
    # The attach replayed (a lost reply), the same photo from another phone: one photo.
    replay = a.push_raw(sent).get_json()["results"]
    assert [r["status"] for r in replay] == ["duplicate", "duplicate"]
    own = visit_args(world.households["G1"][1])
    c.add("visit.create", own)
    c.add("photo.attach", {"sha256": sha, "visit_id": own["id"]})
    # Stored already, but c never sent these bytes: c's link waits for c's own copy.
    assert c.push()["results"][1]["result"]["photo_status"] == "missing"
    assert c.pull()[-1]["missing_photos"] == [sha]
    send(c, data)
    assert c.pull()[-1]["missing_photos"] == []
    db.session.expire_all()
    photo = db.session.get(Photo, sha)
    assert photo.status == PhotoStatus.AVAILABLE and photo.size_bytes == len(data)
    links = db.session.scalars(select(PhotoLink).where(PhotoLink.photo_sha256 == sha)).all()
    assert sorted(str(link.device_id) for link in links) == sorted(
        [str(a.device_id), str(c.device_id)]
    )


def test_bytes_that_came_first_make_a_later_attach_available_at_once(phone, world):
    a = phone("wa")
    data = samples.jpeg(seed=4)
    sha = samples.sha256_hex(data)
    send(a, data)
    visit = visit_args(world.households["G1"][0])
    a.add("visit.create", visit)
    a.add("photo.attach", {"sha256": sha, "visit_id": visit["id"]})
    assert a.push()["results"][1]["result"]["photo_status"] == "available"
    assert a.pull()[-1]["missing_photos"] == []
