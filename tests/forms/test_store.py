"""Stored forms: drafts are checked, published versions never change (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from server.exceptions import Conflict
from server.extensions import db
from server.forms.models import Form, FormVersion
from server.forms.problems import FormDefinitionError
from server.forms.store import publish, save_draft
from tests.forms.test_definition import fire_form


def _new_form() -> Form:
    form = Form(code="fire_check_2026", title_zh="冬季消防安全检查")
    db.session.add(form)
    db.session.flush()
    return form


def test_a_bad_definition_stores_nothing(app) -> None:
    form = _new_form()
    db.session.commit()
    data = fire_form()
    data["questions"][0]["relevant"] = "${count} > 0"  # a cycle
    with pytest.raises(FormDefinitionError):
        save_draft(db.session, form, data)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FormVersion)) == 0


def test_a_published_version_is_immutable(app) -> None:
    form = _new_form()
    draft = save_draft(db.session, form, fire_form())
    again = save_draft(db.session, form, {**fire_form(), "title": {"zh": "消防检查（修订）"}})
    assert again.id == draft.id and draft.number == 1  # the open draft is edited in place
    publish(db.session, draft)
    db.session.commit()
    frozen = copy.deepcopy(draft.definition)

    changed = copy.deepcopy(frozen)
    changed["questions"][0]["required"] = False
    draft.definition = changed
    with pytest.raises(Conflict) as caught:
        db.session.commit()
    assert caught.value.code == "form_version_published"
    db.session.rollback()

    draft.number = 7
    with pytest.raises(Conflict):
        db.session.flush()
    db.session.rollback()

    db.session.delete(draft)
    with pytest.raises(Conflict):
        db.session.flush()
    db.session.rollback()

    with pytest.raises(Conflict):
        publish(db.session, draft)

    second = save_draft(db.session, form, {**fire_form(), "title": {"zh": "消防检查 v2"}})
    db.session.commit()
    assert second.number == 2 and not second.is_published
    db.session.expire_all()
    stored = db.session.get(FormVersion, draft.id)
    assert stored is not None and stored.definition == frozen and stored.is_published
    assert [v.number for v in db.session.get(Form, form.id).versions] == [1, 2]
