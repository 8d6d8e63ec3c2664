"""Storing forms: drafts are checked when saved, published versions never change.

`publish` freezes a draft. `watch_writes` installs a `before_flush` backstop that refuses any
change to (or deletion of) a published version, whichever code path tries it.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, attributes

from server.exceptions import Conflict
from server.forms.definition import FormDefinition, definition_to_json, parse_definition
from server.forms.models import Form, FormVersion
from sync.db import utcnow

FROZEN = ("definition", "number", "form_id", "created_at", "published_at")


def save_draft(
    session: Session,
    form: Form,
    data: Any,
    *,
    catalogue_items: Collection[str] | None = None,
) -> FormVersion:
    """Check a definition (FormDefinitionError lists every problem; nothing is stored) and
    keep it as the form's draft: the open draft is updated, or a new version number made."""
    definition = parse_definition(data, catalogue_items=catalogue_items)
    canonical = definition_to_json(definition)
    draft = next((v for v in form.versions if not v.is_published), None)
    if draft is None:
        last = session.scalar(
            select(func.max(FormVersion.number)).where(FormVersion.form_id == form.id)
        )
        draft = FormVersion(form=form, number=(last or 0) + 1, definition=canonical)
        session.add(draft)
    else:
        draft.definition = canonical
    form.title_zh = definition.title.zh
    session.flush()
    return draft


def publish(session: Session, version: FormVersion) -> FormDefinition:
    """Freeze a draft; it can no longer change. Publishing twice is a Conflict."""
    if version.is_published:
        raise Conflict(_l("This form version is already published."), field="version")
    definition = parse_definition(copy.deepcopy(version.definition))  # still valid
    version.published_at = utcnow()
    session.flush()
    return definition


def check_pending(session: Session, _context: Any = None, _instances: Any = None) -> None:
    """`before_flush` hook: refuse changes to, and deletion of, a published version."""
    quiet = attributes.PASSIVE_NO_INITIALIZE  # an attribute never loaded was not changed
    for obj in [*session.dirty, *session.deleted]:
        if not isinstance(obj, FormVersion):
            continue
        with session.no_autoflush:  # loads published_at if it was expired (one SELECT)
            published = attributes.get_history(obj, "published_at")
        before = [*published.unchanged, *published.deleted]
        was_published = any(value is not None for value in before)
        if not was_published:
            continue  # a draft, or the flush that publishes it
        changed = obj in session.deleted or any(
            attributes.get_history(obj, name, passive=quiet).has_changes() for name in FROZEN
        )
        if changed:
            raise Conflict(
                _l("A published form version cannot be changed; make a new version."),
                code="form_version_published",
                field="version",
            )


def watch_writes() -> None:
    """Install the backstop on every ORM session (once; called by the app factory)."""
    if not event.contains(Session, "before_flush", check_pending):
        event.listen(Session, "before_flush", check_pending)
