"""The life-service directory: points, booking a slot, staff confirming, reviews and replies."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.lifeservices.models import Booking, ServiceReview, ServiceSlot
from tests.server.conftest import login

STAMP = re.compile(r'name="form_ts" value="([^"]+)"')


def book(client: Any, world: Any, point: Any, **fields: Any) -> Any:
    html = client.get("/report/").get_data(as_text=True)  # the same signed form time
    world.clock.advance(seconds=10)
    data = {
        "form_ts": STAMP.search(html).group(1),
        "name": "王阿姨",
        "phone": "13800001111",
        **fields,
    }
    return client.post(f"/services/slots/{point.slots[0].id}/book", data=data)


def test_the_directory_lists_and_finds_points(client: Any, world: Any, point: Any) -> None:
    html = client.get("/services/").get_data(as_text=True)
    assert "番禺居民区老年助餐点" in html and "老年助餐点" in html
    assert "番禺居民区" in client.get("/services/?q=送餐").get_data(as_text=True)
    assert "番禺居民区老年助餐点" not in client.get("/services/?q=理发").get_data(as_text=True)
    assert "番禺居民区老年助餐点" not in client.get("/services/?kind=convenience").get_data(
        as_text=True
    )
    geo = client.get("/services/points.geojson").get_json()
    assert geo["features"][0]["geometry"]["type"] == "Point"
    page = client.get(f"/services/p/{point.code}").get_data(as_text=True)
    assert "021-62001234" in page and "余 3 个名额" in page


def test_booking_staff_confirmation_review_and_reply(client: Any, world: Any, point: Any) -> None:
    response = book(client, world, point)
    assert response.status_code == 303
    link = response.headers["Location"]
    assert "待确认" in client.get(link).get_data(as_text=True)
    login(client, "d1")
    desk = client.get("/bookings/").get_data(as_text=True)
    assert "王阿姨" in desk and "13800001111" in desk
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', desk).group(1)
    booking = db.session.scalar(select(Booking))
    client.post(f"/bookings/{booking.id}/confirmed", data={"csrf_token": csrf})
    db.session.refresh(booking)
    assert booking.status == "confirmed" and booking.decided_by_id == world.users["d1"].id
    client.post("/logout", data={"csrf_token": csrf})
    # before the visit: no review yet
    early = client.post(link, data={"score": "5"})
    assert db.session.scalar(select(ServiceReview.id)) is None and early.status_code == 200
    world.clock.advance(days=2)
    client.post(link, data={"score": "4", "comment": "<i>饭菜</i>可口"})
    client.post(link, data={"score": "1"})  # once per booking
    assert [r.score for r in db.session.scalars(select(ServiceReview))] == [4]
    page = client.get(f"/services/p/{point.code}").get_data(as_text=True)
    assert "★ 4.0" in page and "&lt;i&gt;饭菜&lt;/i&gt;可口" in page


def test_a_cancelled_booking_gives_its_place_back(client: Any, world: Any, point: Any) -> None:
    book(client, world, point)
    booking = db.session.scalar(select(Booking))
    login(client, "d1")
    desk = client.get("/bookings/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', desk).group(1)
    client.post(f"/bookings/{booking.id}/cancelled", data={"csrf_token": csrf})
    assert db.session.scalar(select(ServiceSlot.booked)) == 0


def test_a_full_slot_refuses_more(client: Any, world: Any, point: Any) -> None:
    statuses = [book(client, world, point, phone=f"1380000{i:04d}").status_code for i in range(4)]
    assert statuses == [303, 303, 303, 409]
    assert db.session.scalar(select(ServiceSlot.booked)) == 3


def test_workers_may_not_see_the_bookings_desk(client: Any, world: Any) -> None:
    login(client, "w1")
    assert client.get("/bookings/").status_code == 403
