"""The back office's side of conflicts: list them, and resolve one (recording who chose what)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases import operations as cases
from server.cases.models import Case
from server.exceptions import Conflict, NotFound
from sync.db import utcnow
from sync.models import CaseConflict
from sync.versions import next_version


def list_conflicts(
    session: Session, *, only_open: bool = True, limit: int = 100
) -> list[CaseConflict]:
    """Conflicts, oldest first (the ones waiting longest are reviewed first)."""
    stmt = select(CaseConflict).order_by(CaseConflict.created_at, CaseConflict.id).limit(limit)
    if only_open:
        stmt = stmt.where(CaseConflict.resolved_at.is_(None))
    return list(session.scalars(stmt))


def resolve_conflict(
    session: Session, conflict_id: int, *, choice: str, actor: User
) -> CaseConflict:
    """Resolve: `later` keeps what the case holds, `earlier` puts the overwritten value back,
    `acknowledged` marks it reviewed as it is. The caller commits."""
    version = next_version(session)
    conflict = session.get(CaseConflict, conflict_id)
    if conflict is None:
        raise NotFound(_l("No such conflict."))
    if conflict.resolved_at is not None:
        raise Conflict(_l("This conflict was already resolved."), code="already_resolved")
    if choice == "earlier":
        case = session.get(Case, conflict.case_id)
        if case is None:
            raise NotFound(_l("No such case."))
        cases.edit_fields(
            session,
            case,
            {conflict.field: conflict.earlier_value},
            author_id=actor.id,
            version=version,
            base_version=None,
        )
    conflict.resolution = choice
    conflict.resolved_by_id = actor.id
    conflict.resolved_at = utcnow()
    conflict.version = version
    return conflict


def conflict_view(c: CaseConflict) -> dict[str, Any]:
    return {
        "id": c.id,
        "case_id": str(c.case_id),
        "field": c.field,
        "base_version": c.base_version,
        "earlier": {
            "value": c.earlier_value,
            "author_id": c.earlier_author_id,
            "version": c.earlier_version,
        },
        "later": {
            "value": c.later_value,
            "author_id": c.later_author_id,
            "device_id": str(c.later_device_id) if c.later_device_id else None,
        },
        "created_at": c.created_at.isoformat(),
        "resolution": c.resolution,
        "resolved_by_id": c.resolved_by_id,
        "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
    }
