"""Parallel bookings of one slot against a real server: never more than its capacity."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from server.extensions import db
from server.lifeservices.models import Booking, ServicePoint, ServiceSlot
from tests.live import LiveServer

CAPACITY, ATTEMPTS = 5, 40


def test_parallel_bookings_never_exceed_capacity(
    app: Any, database_url: str, tmp_path: Path
) -> None:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    point = ServicePoint(
        code="CV-01",
        kind="convenience",
        name_zh="便民服务点",
        name_en="point",
        address="新华路1号",
        lon=121.42,
        lat=31.2,
        services=["小修小补"],
    )
    point.slots.append(
        ServiceSlot(
            service="小修小补",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=CAPACITY,
        )
    )
    db.session.add(point)
    db.session.commit()
    slot_id = point.slots[0].id
    server = LiveServer(
        database_url,
        tmp_path / "live",
        workers=4,
        REPORT_LIMIT_PER_IP_HOUR="1000",
        REPORT_LIMIT_PER_PHONE_DAY="1000",
        REPORT_MIN_FILL_SECONDS="0",
    )
    server.start()
    try:
        html = requests.get(f"{server.url}/report/", timeout=10).text
        stamp = re.search(r'name="form_ts" value="([^"]+)"', html).group(1)

        def attempt(i: int) -> int:
            return requests.post(
                f"{server.url}/services/slots/{slot_id}/book",
                data={"form_ts": stamp, "name": f"居民{i}", "phone": f"1390000{i:04d}"},
                headers={"Accept": "application/json"},
                timeout=30,
            ).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(attempt, range(ATTEMPTS)))
    finally:
        server.stop()
    assert sorted(set(statuses)) == [201, 409], statuses
    assert statuses.count(201) == CAPACITY
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == CAPACITY
    assert db.session.scalar(select(ServiceSlot.booked)) == CAPACITY
