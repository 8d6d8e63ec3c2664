"""marshmallow's English messages are said in the reader's language on pages and in JSON."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from server.validation_text import translate_messages
from tests.server.backoffice_world import post_form
from tests.server.conftest import login


class _Sample(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    title = fields.String(validate=validate.Length(max=200))
    score = fields.Integer(validate=validate.Range(1, 5))
    lon = fields.Float(validate=validate.Range(-180, 180))
    flag = fields.String(validate=validate.OneOf(["leader", "media"]))
    phone = fields.String(validate=validate.Regexp(r"^[0-9]+$"))


def _messages(data: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        _Sample().load(data)
    return caught.value.messages


BAD = {"description": "", "title": "x" * 201, "score": 9, "lon": "east", "flag": "zzz",
       "phone": "abc", "extra": 1}  # fmt: skip


def test_every_message_of_a_bad_form_reads_in_chinese_by_default(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        said = translate_messages(_messages(BAD))
    assert said == {
        "description": ["长度须为 1 至 4000 个字。"],
        "title": ["最多 200 个字。"],
        "score": ["须在 1 至 5 之间。"],
        "lon": ["须为数字。"],
        "flag": ["不是可选的值。"],
        "phone": ["格式不正确。"],
        "extra": ["此处不应有这一项。"],
    }


def test_english_is_said_on_request_and_unknown_messages_are_kept(app):
    with app.test_request_context("/?lang=en"):
        said = translate_messages(_messages({}) | {"own": ["已翻译的消息。"]})
    assert said == {"description": ["This field is required."], "own": ["已翻译的消息。"]}


def test_the_intake_form_names_fields_in_chinese_and_shows_no_english(client, make_user):
    make_user("dispatcher", username="disp")
    login(client, "disp")
    page = post_form(client, "/cases/new", {"channel": "hotline", "description": ""},
                     token_from="/cases/new")  # fmt: skip
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "描述: 长度须为 1 至 4000 个字。" in html or "描述：长度须为 1 至 4000 个字。" in html
    for english in ("Length must be", "description:", "Missing data"):
        assert english not in html
