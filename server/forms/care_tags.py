"""A care tag's visit form: the office picks which form a visit to the group asks.

Setting it stamps the `care_tags` sync mark with a fresh version, so every phone pulls the
care tags (with `visit_form_id`) and the form's latest published version again
(server/fieldsync/campaign_sources.py).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.operations import AccessContext, record
from server.exceptions import InvalidInput, NotFound
from server.forms.models import Form, FormVersion
from server.population.models import CareTag
from sync.db import utcnow
from sync.models import SyncMark
from sync.versions import next_version

#: The sync mark the pull sends care tags at (server/fieldsync/campaign_sources.py).
CARE_TAGS_MARK = "care_tags"


def forms_with_a_published_version(session: Session) -> list[Form]:
    """The forms a care tag may ask: those with at least one published version."""
    published = select(FormVersion.form_id).where(FormVersion.published_at.is_not(None))
    return list(session.scalars(select(Form).where(Form.id.in_(published)).order_by(Form.code)))


def set_visit_form(
    session: Session, context: AccessContext, code: str, form_id: int | None
) -> CareTag:
    """Make `form_id` (None: no form, the free-text fields only) the visit form of care tag
    `code`. NotFound for an unknown tag; InvalidInput for a form without a published
    version. Changes nothing (no stamp) when the form is already the tag's."""
    tag = session.get(CareTag, code)
    if tag is None:
        raise NotFound(_l("No such care tag."), field="code")
    if form_id is not None and form_id not in {
        f.id for f in forms_with_a_published_version(session)
    }:
        raise InvalidInput(_l("Choose a form that has a published version."), field="visit_form_id")
    if tag.visit_form_id == form_id:
        return tag
    before = tag.visit_form_id
    tag.visit_form_id = form_id
    stamp(session)
    record(
        session,
        context,
        action="update",
        subject_type="care_tag",
        subject_id=code,
        fields=["visit_form_id"],
        detail={"changes": {"visit_form_id": [before, form_id]}},
    )
    session.flush()
    return tag


def stamp(session: Session) -> int:
    """Take a fresh version for the care tags (phones pull them again at it)."""
    version = next_version(session)
    mark = session.get(SyncMark, CARE_TAGS_MARK)
    if mark is None:
        session.add(SyncMark(name=CARE_TAGS_MARK, value=version, changed_at=utcnow()))
    else:
        mark.value, mark.changed_at = version, utcnow()
    return version
