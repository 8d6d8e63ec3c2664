"""A resident's day without friction (issue 15 items 12–13): the follow link kept and texted,
unreadable photos named, affairs first, slots on opening days, a quick retry accepted."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from server.cases.models import Case
from server.extensions import db
from server.lifeservices import hours
from server.lifeservices.models import Booking, ServiceSlot
from server.residents.sms import LoggingSender, redact
from tests.server.backoffice_world import T0
from tests.server.test_residents import STAMP, Texts, form, send

ENGLISH_WORD = re.compile(r"\b[A-Za-z]{4,}\b")
#: Words allowed on a Chinese page: the language switch, format and brand names, the licence.
ALLOWED = {"English", "JPEG", "WebP", "OpenStreetMap", "ODbL", "AGPL", "ljdf"}  # ljdf: pinyin


def visible_text(html: str) -> str:
    """The page's words a reader sees: tags, scripts, styles and attributes left out."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"https?://\S+|\d+\.\d+\.\d+\S*", " ", text)  # links, the version


def test_after_sending_the_page_says_plainly_to_keep_the_link(client: Any, world: Any) -> None:
    page = send(client, form(client, world), json=False)
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    follow = re.search(r'id="follow-link" href="([^"]+)"', html).group(1)
    assert "请保存这个链接" in html and "唯一凭证" in html
    assert 'id="copy-link"' in html and 'id="save-link"' in html and follow in html
    assert "短信" not in html  # no channel configured: no promise of a text message
    # the JSON answer (the page's script) leads to the follow page, which says the same
    body = send(client, form(client, world)).get_json()
    assert body["texted"] is False
    fresh = client.get(body["follow_url"] + "?new=1").get_data(as_text=True)
    assert "请保存这个链接" in fresh and 'id="copy-link"' in fresh
    assert "请保存这个链接" not in client.get(body["follow_url"]).get_data(as_text=True)


def test_with_a_channel_the_link_is_texted_once(make_app: Any, world: Any) -> None:
    texts = Texts()
    client = make_app(SMS_SENDER=texts, CLOCK=world.clock).test_client()
    client.post("/report/phone-code", data={"phone": "13912345678"})
    code = re.search(r"(\d{6})", texts.sent[0][1]).group(1)
    data = form(client, world, phone_code=code)
    html = send(client, data, json=False).get_data(as_text=True)
    phone, text = texts.sent[1]
    follow = re.search(r'id="follow-link" href="([^"]+)"', html).group(1)
    assert phone == "13912345678" and follow in text and "查看进度" in text
    assert "链接也已通过短信发送" in html
    assert send(client, data).get_json()["texted"] is False  # a resend texts nothing more
    assert len(texts.sent) == 2


def test_the_follow_token_never_reaches_the_logs(
    client: Any, world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    follow = send(client, form(client, world)).get_json()["follow_url"]
    token = follow.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO):
        client.get(f"/report/f/{token}")
        LoggingSender().send("13912345678", f"查看进度:{follow}")
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'path', '')}" for r in caplog.records)
    assert "/report/f/…" in logged and token not in logged
    assert redact(f"/services/b/{token}") == "/services/b/…"


def test_an_unreadable_photo_is_named_and_the_form_comes_back_whole(
    client: Any, world: Any
) -> None:
    data = form(client, world, description="路灯不亮了,晚上很黑")
    data["photos"] = (__import__("io").BytesIO(b"HEIC bytes we cannot read"), "IMG_0042.HEIC")
    page = send(client, data, json=False)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "IMG_0042.HEIC" in html and "无法读取" in html and "JPEG、PNG 或 WebP" in html
    assert "路灯不亮了,晚上很黑" in html and 'value="13912345678"' in html
    assert db.session.scalar(select(func.count(Case.id))) == 0
    data["photos"] = (__import__("io").BytesIO(b"\x00" * 10), "scan.png")
    body = send(client, data).get_json()
    assert body["code"] == "photo_unreadable" and body["field"] == "photos"
    assert "scan.png" in body["detail"]


def test_a_too_quick_submit_is_told_to_wait_and_keeps_its_stamp(client: Any, world: Any) -> None:
    html = client.get("/report/").get_data(as_text=True)
    data = {**form(client, world), "form_ts": STAMP.search(html).group(1)}
    world.clock.advance(seconds=-30)  # undo form()'s wait: sent at once
    page = send(client, data, json=False)
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "表单无法受理" not in text
    assert "请等 3 秒后再按一次" in text
    assert STAMP.search(text).group(1) == data["form_ts"]  # the first stamp, kept
    world.clock.advance(seconds=3)
    assert send(client, data).status_code == 201


def test_affairs_come_first_in_groups_with_the_search_kept(client: Any, world: Any) -> None:
    html = client.get("/report/").get_data(as_text=True)
    labels = re.findall(r'<optgroup label="([^"]+)" data-category', html)
    assert labels and all(label.startswith("反映问题 · ") for label in labels)
    pick = re.search(r'<select id="category-pick">(.*?)</select>', html, re.S).group(1)
    assert '<optgroup label="反映问题">' in pick and 'value="A01"' in pick
    assert 'id="item-search"' in html and 'data-initials="shljdj"' in html


def test_public_pages_speak_chinese_with_chinese_dates(client: Any, world: Any, point: Any) -> None:
    body = send(client, form(client, world)).get_json()
    follow = client.get(body["follow_url"] + "?new=1").get_data(as_text=True)
    assert re.search(r"2026年11月26日周四 10:00", follow), "reported at, Shanghai time"
    for html in (
        follow,
        client.get("/report/").get_data(as_text=True),
        client.get(f"/services/p/{point.code}").get_data(as_text=True),
    ):
        words = set(ENGLISH_WORD.findall(visible_text(html))) - ALLOWED
        assert not words, words
        assert "None" not in visible_text(html)


def test_opening_hours_are_read_from_the_points_text() -> None:
    weekdays = hours.parse("周一至周五 9:00–16:00")
    assert weekdays is not None and weekdays.days == frozenset(range(5))
    assert weekdays.ranges == ((dt.time(9), dt.time(16)),)
    meals = hours.parse("每日 11:00–13:00、17:00–18:30")
    assert meals is not None and len(meals.days) == 7 and len(meals.ranges) == 2
    assert hours.parse("周六至周一 10:00–12:00").days == frozenset({5, 6, 0})  # type: ignore[union-attr]
    assert hours.parse("周二、周四 9:00-11:00").days == frozenset({1, 3})  # type: ignore[union-attr]
    assert hours.parse("请电话预约") is None


def test_slots_are_offered_only_on_opening_days(client: Any, world: Any, point: Any) -> None:
    point.hours = "周一至周五 9:00–16:00"
    saturday = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)  # 09:00 Saturday in Shanghai
    closed = ServiceSlot(
        service="老年助餐", starts_at=saturday, ends_at=saturday + dt.timedelta(hours=2), capacity=3
    )
    point.slots.append(closed)
    db.session.commit()
    html = client.get(f"/services/p/{point.code}").get_data(as_text=True)
    assert f'id="slot-{point.slots[0].id}"' in html and "11月27日周五" in html
    assert f'id="slot-{closed.id}"' not in html and "周六" not in html
    stamp = STAMP.search(html).group(1)
    world.clock.advance(seconds=10)
    refused = client.post(
        f"/services/slots/{closed.id}/book",
        data={"form_ts": stamp, "name": "王阿姨", "phone": "13800001111"},
    )
    assert refused.status_code == 422 and "不开放" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_a_quick_booking_retry_gets_its_form_back_with_a_helpful_word(
    client: Any, world: Any, point: Any
) -> None:
    html = client.get(f"/services/p/{point.code}").get_data(as_text=True)
    slot = point.slots[0].id
    data = {"form_ts": STAMP.search(html).group(1), "name": "王阿姨", "phone": "138-abc"}
    world.clock.advance(seconds=1)
    quick = client.post(f"/services/slots/{slot}/book", data=data)
    text = quick.get_data(as_text=True)
    assert quick.status_code == 422 and "表单无法受理" not in text and "请等 2 秒" in text
    assert f'<li id="slot-{slot}">' in text and "<details open>" in text
    assert 'value="王阿姨"' in text  # the name is kept
    world.clock.advance(seconds=5)
    wrong = client.post(f"/services/slots/{slot}/book", data=data)
    assert wrong.status_code == 422 and 'value="王阿姨"' in wrong.get_data(as_text=True)
    data["phone"] = "13800001111"
    assert client.post(f"/services/slots/{slot}/book", data=data).status_code == 303
    assert db.session.scalar(select(Booking.created_at)).replace(tzinfo=dt.UTC) > T0


def test_gunicorn_access_lines_mask_private_links() -> None:
    from server.ops.logs import GunicornAccessFormatter

    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(U)s", None, None)
    record.args = {"U": "/report/f/SecretToken_123", "s": 200, "m": "GET"}
    line = GunicornAccessFormatter().format(record)
    assert "SecretToken_123" not in line
    assert __import__("json").loads(line)["path"] == "/report/f/…"


def test_the_http_sender_posts_json_and_reports_a_refusal() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from server.residents.sms import HttpSender, SmsFailed

    received: list[tuple[str, dict[str, str]]] = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.headers.get("Authorization", ""), body))
            self.send_response(202 if body["phone"] != "13900000000" else 500)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/sms"
        HttpSender(url, token="t0k").send("13912345678", "您好")
        assert received == [("Bearer t0k", {"phone": "13912345678", "text": "您好"})]
        with pytest.raises(SmsFailed):
            HttpSender(url).send("13900000000", "x")
    finally:
        server.shutdown()
        server.server_close()


def test_demo_slots_fall_on_opening_days_inside_opening_hours() -> None:
    from server.lifeservices.demo import SHANGHAI, _slots
    from server.lifeservices.models import ServicePoint

    def local(point: ServicePoint) -> list[tuple[dt.datetime, dt.datetime]]:
        return [
            (s.starts_at.astimezone(SHANGHAI), s.ends_at.astimezone(SHANGHAI)) for s in point.slots
        ]

    weekdays = ServicePoint(hours="周一至周五 9:00–16:00", services=["健康自测"], slots=[])
    _slots(None, weekdays, T0)  # type: ignore[arg-type]  (the session is not used)
    opening = hours.parse(weekdays.hours)
    assert opening is not None and weekdays.slots
    assert all(opening.covers(a, b) for a, b in local(weekdays))
    assert {a.weekday() for a, _b in local(weekdays)} == {0, 1, 2, 3, 4}
    meals = ServicePoint(hours="每日 11:00–13:00、17:00–18:30", services=["老年助餐"], slots=[])
    _slots(None, meals, T0)  # type: ignore[arg-type]
    assert {(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in local(meals)} == {
        ("11:00", "13:00"),
        ("17:00", "18:30"),
    }
    assert len(meals.slots) == 14
