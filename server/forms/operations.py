"""What the office does with forms: create one, edit its draft, publish, start a new draft from
the latest version, import and export XLSForm files. Each function changes the session only
when everything is right (the caller commits); a refusal raises and leaves nothing behind.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.campaigns.models import PUBLISHED, Campaign
from server.catalogue.models import CatalogueItem
from server.exceptions import Conflict, InvalidInput, NotFound
from server.forms import care_tags, store
from server.forms.definition import FORMAT, MAX_TITLE, definition_to_json, parse_definition
from server.forms.models import Form, FormVersion
from server.forms.problems import FormProblem
from server.forms.xlsform import read_xlsform, write_xlsform
from server.population.models import CareTag
from sync.versions import next_version

#: A form's code: what the office calls it in files and exports ("fire_check_2026").
CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{1,63}$")


@dataclass(frozen=True)
class Imported:
    """An XLSForm that came over: the draft it became and what was left out (warnings)."""

    version: FormVersion
    warnings: list[FormProblem]


def catalogue_codes(session: Session) -> set[str]:
    """Every catalogue item code a case rule may name."""
    return set(session.scalars(select(CatalogueItem.code)))


def list_forms(session: Session) -> list[Form]:
    return list(session.scalars(select(Form).order_by(Form.code)))


def get_form(session: Session, form_id: int) -> Form:
    form = session.get(Form, form_id)
    if form is None:
        raise NotFound(_l("There is no such form."), field="form")
    return form


def get_version(session: Session, form_id: int, number: int) -> FormVersion:
    version = session.scalar(
        select(FormVersion).where(FormVersion.form_id == form_id, FormVersion.number == number)
    )
    if version is None:
        raise NotFound(_l("This form has no such version."), field="version")
    return version


def draft_of(form: Form) -> FormVersion | None:
    return next((v for v in form.versions if not v.is_published), None)


def latest_published(form: Form) -> FormVersion | None:
    published = [v for v in form.versions if v.is_published]
    return published[-1] if published else None


def starter_definition(title_zh: str) -> dict[str, Any]:
    """A new form's first draft: its title and one yes/no question to edit."""
    return {
        "format": FORMAT,
        "title": {"zh": title_zh},
        "questions": [{"name": "q1", "type": "yes_no", "label": {"zh": "第一个问题"}}],
    }


def _new_form(session: Session, code: str, title_zh: str) -> Form:
    code, title_zh = code.strip(), title_zh.strip()
    if not CODE.match(code):
        raise InvalidInput(
            _l(
                "The code starts with a letter and holds 2 to 64 letters, digits, "
                "“_” or “-”, e.g. fire_check_2026."
            ),
            field="code",
        )
    if not title_zh or len(title_zh) > MAX_TITLE:
        raise InvalidInput(
            _l("Give the form a Chinese title of at most %(n)d characters.", n=MAX_TITLE),
            field="title",
        )
    if session.scalar(select(Form.id).where(Form.code == code)) is not None:
        raise Conflict(_l("A form with this code exists already."), field="code")
    form = Form(code=code, title_zh=title_zh)
    session.add(form)
    session.flush()
    return form


def create_form(session: Session, *, code: str, title_zh: str) -> FormVersion:
    """A new form with a first draft (one question) to edit."""
    with _one_at_a_time():
        form = _new_form(session, code, title_zh)
        return store.save_draft(session, form, starter_definition(title_zh.strip()))


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Two offices making the same code or the same draft number at once: the second meets
    the unique index and gets a Conflict to retry, not a 500 (the caller rolls back)."""
    try:
        yield
    except IntegrityError:
        raise Conflict(
            _l("Someone else changed this form at the same moment; reload and try again."),
            field="form",
        ) from None


def save_draft(session: Session, version: FormVersion, data: Any) -> FormVersion:
    """Store a checked definition as this draft (FormDefinitionError lists every problem;
    a published version is a Conflict: edits go into a new draft)."""
    if version.is_published:
        raise Conflict(
            _l("A published form version cannot be changed; make a new version."),
            code="form_version_published",
            field="version",
        )
    return store.save_draft(session, version.form, data, catalogue_items=catalogue_codes(session))


def publish(session: Session, version: FormVersion) -> None:
    """Freeze the draft (checked again against today's catalogue), and let the phones that
    hold the form's previous version learn the new one (`_reach_phones`)."""
    if not version.is_published:
        parse_definition(
            copy.deepcopy(version.definition), catalogue_items=catalogue_codes(session)
        )
    store.publish(session, version)
    _reach_phones(session, version.form_id)


def _reach_phones(session: Session, form_id: int) -> None:
    """Phones pull a form version at the version of what needs it (its campaigns, the care
    tags' stamp: server/fieldsync/campaign_sources.py). A new version published while they
    run is stamped again here: the published campaigns on this form take a fresh version, and
    the care tags' stamp moves if a care tag visits with it. Answers on the older version stay
    valid (they name it)."""
    campaigns = session.scalars(
        select(Campaign).where(Campaign.form_id == form_id, Campaign.status == PUBLISHED)
    ).all()
    if campaigns:
        fresh = next_version(session)
        for campaign in campaigns:
            campaign.version = fresh
    if session.scalar(select(CareTag.code).where(CareTag.visit_form_id == form_id).limit(1)):
        care_tags.stamp(session)
    session.flush()


def new_draft(session: Session, form: Form) -> FormVersion:
    """The open draft, or a new one copied from the latest published version."""
    draft = draft_of(form)
    if draft is not None:
        return draft
    latest = latest_published(form)
    if latest is None:  # pragma: no cover - a form is created with a draft
        raise Conflict(_l("This form has no version to start from."), field="form")
    with _one_at_a_time():
        return store.save_draft(session, form, copy.deepcopy(latest.definition))


def import_xlsform(
    session: Session,
    data: bytes,
    *,
    form: Form | None = None,
    code: str = "",
    strict: bool = True,
) -> Imported:
    """Read an XLSForm into a draft: of `form` (its open draft is replaced), or of a new form
    named `code`. XLSFormError carries the whole report; nothing is stored then."""
    imported = read_xlsform(data, strict=strict, catalogue_items=catalogue_codes(session))
    definition = definition_to_json(imported.definition)
    with _one_at_a_time():
        if form is None:
            form = _new_form(session, code, imported.definition.title.zh)
        version = store.save_draft(session, form, definition)
    return Imported(version, imported.problems)


def export_xlsform(version: FormVersion) -> bytes:
    """Any version (draft or published) as an XLSForm .xlsx."""
    return write_xlsform(parse_definition(copy.deepcopy(version.definition)))
