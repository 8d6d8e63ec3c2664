"""Record and read the audit trail of personal-data access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry


@dataclass(frozen=True)
class AccessContext:
    """Where an access came from: passed in by views (domain code never reads the request)."""

    actor_id: int | None
    ip: str | None = None
    request_id: str | None = None


def record(
    session: Session,
    context: AccessContext,
    *,
    action: str,
    subject_type: str,
    subject_id: object,
    fields: Sequence[str] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry (in the caller's transaction, so it commits with the change)."""
    entry = AuditEntry(
        actor_id=context.actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        fields=list(fields),
        ip=context.ip,
        request_id=context.request_id,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def entries_for(
    session: Session,
    *,
    subject_type: str | None = None,
    subject_id: object | None = None,
    actor_id: int | None = None,
    since: dt.datetime | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """Newest first, filtered by subject, actor and time."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == str(subject_id))
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list(session.scalars(query))
